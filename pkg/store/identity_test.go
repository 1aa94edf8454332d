package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func TestEmailKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"jane@example.org", "jane@example.org"},
		{"Supporter0999@Example.org", "supporter0999@example.org"},
		{"  CASETEST@EXAMPLE.ORG\t", "casetest@example.org"},
		{"@Example.COM", "@example.com"},
		{"ÉLODIE@exemple.fr", "élodie@exemple.fr"},
		{"ıan@example.org", "ian@example.org"},      // dotless ı: its upper case is I
		{"\u212Aim@example.org", "kim@example.org"}, // the Kelvin sign K
		{"", ""},
	} {
		if got := store.EmailKey(tc.in); got != tc.want {
			t.Errorf("EmailKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzEmailKey checks that the key is stable and that addresses differing
// only in letter case share it.
func FuzzEmailKey(f *testing.F) {
	for _, seed := range []string{"Jane@Example.org", " CASETEST@EXAMPLE.ORG ", "ıan@example.org", "straße@example.de", "ΣΊΣΥΦΟΣ@example.gr", "\xff@x", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := store.EmailKey(s)
		if store.EmailKey(k) != k {
			t.Errorf("EmailKey(%q) = %q, whose key is %q", s, k, store.EmailKey(k))
		}
		for _, v := range []string{strings.ToUpper(s), strings.ToLower(s), strings.ToTitle(s)} {
			if got := store.EmailKey(v); got != k {
				t.Errorf("EmailKey(%q) = %q but EmailKey(%q) = %q", v, got, s, k)
			}
		}
	})
}

func TestMoreRestrictive(t *testing.T) {
	order := []string{store.ContactSubscribed, store.ContactUnsubscribed, store.ContactBounced, store.ContactComplained}
	for i, a := range order {
		for j, b := range order {
			want := order[max(i, j)]
			if got := store.MoreRestrictive(a, b); got != want {
				t.Errorf("MoreRestrictive(%s, %s) = %s, want %s", a, b, got, want)
			}
		}
	}
	if got := store.MoreRestrictive(store.ContactSubscribed, "mystery"); got != "mystery" {
		t.Errorf("an unknown status lost to subscribed: got %s", got)
	}
}

// mergeWorld is what TestMigrationMergesCaseTwins reads back after the merge.
type mergeWorld struct {
	Contacts     []string // "email status"
	Members      []string // "email list status"
	Tags         []string // "email tag"
	Sends        []string // "email campaign"
	Events       []string // "email kind send-of-email"
	Signatures   []string // "email petition"
	Suppressions []string
	Orgs         []string // "email status"
}

func readMergeWorld(tb testing.TB, s *store.Store) mergeWorld {
	tb.Helper()
	ctx := context.Background()
	var w mergeWorld
	for _, q := range []struct {
		dst   *[]string
		query string
	}{
		{&w.Contacts, "SELECT c.email || ' ' || c.status FROM contacts AS c ORDER BY 1"},
		{&w.Members, "SELECT c.email || ' ' || l.name || ' ' || lm.status FROM list_members AS lm JOIN contacts AS c ON c.id = lm.contact_id JOIN lists AS l ON l.id = lm.list_id ORDER BY 1"},
		{&w.Tags, "SELECT c.email || ' ' || t.name FROM contact_tags AS ct JOIN contacts AS c ON c.id = ct.contact_id JOIN tags AS t ON t.id = ct.tag_id ORDER BY 1"},
		{&w.Sends, "SELECT c.email || ' ' || cp.name FROM sends AS s JOIN contacts AS c ON c.id = s.contact_id JOIN campaigns AS cp ON cp.id = s.campaign_id ORDER BY 1"},
		{&w.Events, "SELECT c.email || ' ' || e.kind || ' ' || sc.email FROM events AS e JOIN contacts AS c ON c.id = e.contact_id JOIN sends AS s ON s.id = e.send_id JOIN contacts AS sc ON sc.id = s.contact_id ORDER BY 1"},
		{&w.Signatures, "SELECT c.email || ' ' || p.slug FROM signatures AS sg JOIN contacts AS c ON c.id = sg.contact_id JOIN petitions AS p ON p.id = sg.petition_id ORDER BY 1"},
		{&w.Suppressions, "SELECT email FROM suppressions ORDER BY 1"},
		{&w.Orgs, "SELECT email || ' ' || status FROM organization_signatures ORDER BY 1"},
	} {
		if err := s.Query(ctx, q.dst, q.query); err != nil {
			tb.Fatalf("%s: %v", q.query, err)
		}
	}
	return w
}

// TestMigrationMergesCaseTwins seeds case twins the way the schema before
// migration 0013 let them be stored, then migrates: each person is one
// contact, with the most restrictive status and everything the twins had;
// a second run changes nothing.
func TestMigrationMergesCaseTwins(t *testing.T) {
	t.Parallel()
	testenv.EachEmptyDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		s, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if _, err := s.MigrateUpTo(ctx, 12); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		insert := func(query string, args ...any) int64 {
			t.Helper()
			var id int64
			if err := s.Query(ctx, &id, query+" RETURNING id", args...); err != nil {
				t.Fatalf("%s: %v", query, err)
			}
			return id
		}
		contact := func(email, status string) int64 {
			return insert("INSERT INTO contacts (email, status, created_at, updated_at) VALUES (?, ?, ?, ?)", email, status, now, now)
		}
		// Foo@ was first; foo@ unsubscribed in one click; FOO@ came back in an import.
		foo1 := contact("Foo@x.org", store.ContactSubscribed)
		foo2 := contact("foo@x.org", store.ContactUnsubscribed)
		foo3 := contact("FOO@X.ORG", store.ContactSubscribed)
		bar1 := contact("bar@x.org", store.ContactSubscribed)
		bar2 := contact("Bar@x.org", store.ContactComplained)
		contact("solo@x.org", store.ContactSubscribed)

		l1, l2 := &store.List{Name: "one"}, &store.List{Name: "two"}
		for _, l := range []*store.List{l1, l2} {
			if err := s.CreateList(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		member := func(list, c int64, status string) {
			t.Helper()
			if err := s.Exec(ctx, "INSERT INTO list_members (list_id, contact_id, status, created_at) VALUES (?, ?, ?, ?)", list, c, status, now); err != nil {
				t.Fatal(err)
			}
		}
		member(l1.ID, foo1, store.ContactSubscribed)
		member(l1.ID, foo2, store.ContactUnsubscribed) // left list one: it stays left
		member(l2.ID, foo2, store.ContactSubscribed)
		member(l2.ID, foo3, store.ContactSubscribed)
		t1 := insert("INSERT INTO tags (name, created_at) VALUES ('t1', ?)", now)
		t2 := insert("INSERT INTO tags (name, created_at) VALUES ('t2', ?)", now)
		for _, ct := range [][2]int64{{foo2, t1}, {foo2, t2}, {foo1, t2}} {
			if err := s.Exec(ctx, "INSERT INTO contact_tags (contact_id, tag_id) VALUES (?, ?)", ct[0], ct[1]); err != nil {
				t.Fatal(err)
			}
		}

		msg := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@x.org", HTML: "<p>hi</p>"}
		if err := s.CreateMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
		// Written as the schema of version 12 holds a campaign: the model
		// has columns of later migrations.
		camp := func(name string) int64 {
			return insert("INSERT INTO campaigns (name, message_id, audience, created_at) VALUES (?, ?, ?, ?)",
				name, msg.ID, fmt.Sprintf(`{"lists":[%d]}`, l1.ID), now)
		}
		c1, c2 := camp("c1"), camp("c2")
		send := func(campaign, c int64, email string) int64 {
			return insert("INSERT INTO sends (campaign_id, contact_id, email, status, updated_at) VALUES (?, ?, ?, ?, ?)", campaign, c, email, store.SendSent, now)
		}
		send(c1, foo1, "Foo@x.org")
		s12 := send(c1, foo2, "foo@x.org") // mailed twice by c1: one ledger row stays
		s32 := send(c2, foo3, "FOO@X.ORG")
		for _, e := range []store.Event{
			{Kind: store.EventOpen, CampaignID: c1, SendID: s12, ContactID: foo2},
			{Kind: store.EventClick, CampaignID: c2, SendID: s32, ContactID: foo3},
		} {
			if err := s.InsertEvent(ctx, &e); err != nil {
				t.Fatal(err)
			}
		}
		p1, p2 := &store.Petition{Slug: "p1", Title: "P1"}, &store.Petition{Slug: "p2", Title: "P2"}
		for _, p := range []*store.Petition{p1, p2} {
			if err := s.CreatePetition(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		for _, sg := range []struct{ p, c int64 }{{p1.ID, foo2}, {p1.ID, foo3}, {p2.ID, foo3}, {p1.ID, bar1}} {
			if _, err := s.Sign(ctx, sg.p, sg.c, store.Attribution{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range []string{"foo@x.org", "Foo@X.org", "@Example.COM", "@example.com", "other@x.org"} {
			insert("INSERT INTO suppressions (email, reason, created_at) VALUES (?, 'test', ?)", e, now)
		}
		org := func(email, status string) int64 {
			return insert("INSERT INTO organization_signatures (petition_id, organization, contact_name, email, status, created_at) VALUES (?, 'Org', 'Ann', ?, ?, ?)",
				p1.ID, email, status, now)
		}
		org("Org@x.org", store.OrgPending)
		orgApproved := org("org@x.org", store.OrgApproved)

		merges, err := s.MigrateWithMerges(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range merges {
			got = append(got, m.String())
		}
		sups := readMergeWorld(t, s).Suppressions
		wantMerges := []string{
			fmt.Sprintf("merged contacts %d, %d into %d (Foo@x.org)", foo2, foo3, foo1),
			fmt.Sprintf("merged contacts %d into %d (bar@x.org)", bar2, bar1),
		}
		if diff := cmp.Diff(wantMerges, got[:min(2, len(got))]); diff != "" {
			t.Errorf("contact merges (-want +got):\n%s", diff)
		}
		if len(got) != 5 || !strings.HasPrefix(got[4], fmt.Sprintf("merged organization_signatures %d into %d (org@x.org)", orgApproved-1, orgApproved)) {
			t.Errorf("merges = %q, want 2 of contacts, 2 of suppressions and the approved letter signer kept", got)
		}

		want := mergeWorld{
			Contacts:     []string{"Foo@x.org unsubscribed", "bar@x.org complained", "solo@x.org subscribed"},
			Members:      []string{"Foo@x.org one unsubscribed", "Foo@x.org two subscribed"},
			Tags:         []string{"Foo@x.org t1", "Foo@x.org t2"},
			Sends:        []string{"Foo@x.org c1", "Foo@x.org c2"},
			Events:       []string{"Foo@x.org click Foo@x.org", "Foo@x.org open Foo@x.org"},
			Signatures:   []string{"Foo@x.org p1", "Foo@x.org p2", "bar@x.org p1"},
			Suppressions: sups,
			Orgs:         []string{"org@x.org approved"},
		}
		if diff := cmp.Diff(want, readMergeWorld(t, s)); diff != "" {
			t.Errorf("after the merge (-want +got):\n%s", diff)
		}
		if len(sups) != 3 {
			t.Errorf("suppressions = %q, want one per key: foo@, @example.com, other@", sups)
		}
		// The opt-out holds in every case, and the survivor is found by any.
		for _, e := range []string{"FOO@x.org", "foo@X.ORG"} {
			if sup, err := s.IsSuppressed(ctx, e); err != nil || !sup {
				t.Errorf("IsSuppressed(%s) = %v, %v; want true", e, sup, err)
			}
			if c, err := s.ContactByEmail(ctx, e); err != nil || c.ID != foo1 {
				t.Errorf("ContactByEmail(%s) = %v, %v; want contact %d", e, c, err, foo1)
			}
		}
		if err := s.CreateContact(ctx, &store.Contact{Email: "fOO@x.org"}); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("creating a case twin after the merge: %v, want a conflict", err)
		}

		again, err := s.MigrateWithMerges(ctx)
		if err != nil || len(again) != 0 {
			t.Fatalf("second migrate merged %v, %v; want nothing", again, err)
		}
		if diff := cmp.Diff(want, readMergeWorld(t, s)); diff != "" {
			t.Errorf("after a second run (-want +got):\n%s", diff)
		}
	})
}

// TestSignOncePerPersonAnyCase signs a petition as 1,000 people, then as
// 100 of them again in upper case, through the path of the signing form: a
// signer is one contact whatever the case, so the count is 1,000.
func TestSignOncePerPersonAnyCase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		p := &store.Petition{Slug: "case", Title: "Case"}
		if err := s.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		sign := func(email string) {
			t.Helper()
			c, err := s.UpsertSigner(ctx, store.Signer{Email: email, FirstName: "Pat"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Sign(ctx, p.ID, c.ID, store.Attribution{}); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range []string{"CaseTest@example.org", "casetest@example.org", "CASETEST@EXAMPLE.ORG"} {
			sign(e)
		}
		if n, err := s.CountSignatures(ctx, p.ID); err != nil || n != 1 {
			t.Fatalf("one person in three cases: %d signatures, %v; want 1", n, err)
		}
		for i := range 1000 {
			sign(fmt.Sprintf("person%04d@example.org", i))
		}
		for i := range 100 {
			sign(strings.ToUpper(fmt.Sprintf("person%04d@example.org", i*10)))
		}
		if n, err := s.CountSignatures(ctx, p.ID); err != nil || n != 1001 {
			t.Errorf("1,000 people and 100 of them again in upper case, plus CaseTest: %d signatures, %v; want 1001", n, err)
		}
		if n, err := s.CountContacts(ctx); err != nil || n != 1001 {
			t.Errorf("contacts = %d, %v; want 1001", n, err)
		}
	})
}

// TestLetterSignOncePerAddressAnyCase signs a letter for one organization's
// address in three cases: it is listed once.
func TestLetterSignOncePerAddressAnyCase(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		p := &store.Petition{Slug: "letter", Title: "Letter", Kind: store.PetitionKindLetter}
		if err := s.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		var news []bool
		for _, e := range []string{"Director@Group.org", "director@group.org", "DIRECTOR@GROUP.ORG"} {
			isNew, err := s.SignLetter(ctx, &store.OrganizationSignature{PetitionID: p.ID, Organization: "Group", ContactName: "Dee", Email: e})
			if err != nil {
				t.Fatal(err)
			}
			news = append(news, isNew)
		}
		if diff := cmp.Diff([]bool{true, false, false}, news); diff != "" {
			t.Errorf("new signatures (-want +got):\n%s", diff)
		}
		orgs, err := s.OrganizationSignatures(ctx, p.ID, "")
		if err != nil || len(orgs) != 1 || orgs[0].Email != "Director@Group.org" {
			t.Errorf("letter signers = %+v, %v; want Director@Group.org once", orgs, err)
		}
	})
}
