package admin_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// mustSentCampaign sends a campaign to contacts in the ledger only (no SMTP):
// every row marked sent.
func mustSentCampaign(t *testing.T, st *store.Store, name string, contacts []*store.Contact) (*store.Campaign, []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	m := &store.Message{Name: name, Subject: name, FromName: "Maya", FromEmail: "action@example.org", HTML: "<p>Hi</p>"}
	if err := st.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: name}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	ids := make([]int64, len(contacts))
	for i, c := range contacts {
		ids[i] = c.ID
	}
	if err := st.AddListMembers(ctx, l.ID, ids); err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: name, MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}}
	if err := st.CreateCampaign(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := st.StartCampaign(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rs, err := st.PendingRecipients(ctx, c.ID, 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if err := st.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
	}
	return c, rs
}

func TestDashboardRates(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		ctx := context.Background()
		people := []*store.Contact{f.mustContact("a@example.org", "A"), f.mustContact("b@example.org", "B"), f.mustContact("c@example.org", "C")}
		c, rs := mustSentCampaign(t, f.st, "Ceasefire now", people)
		links, err := f.st.EnsureLinks(ctx, c.ID, []string{"https://act.example.org/a/river"})
		if err != nil {
			t.Fatal(err)
		}
		ev := func(kind string, r store.Recipient, machine bool, link *int64) store.Event {
			return store.Event{Kind: kind, CampaignID: c.ID, SendID: r.SendID, ContactID: r.ContactID, Machine: machine, LinkID: link}
		}
		// Two people open (one twice), a privacy proxy opens the third; one person clicks and signs.
		if err := f.st.InsertEvents(ctx, []store.Event{ev(store.EventOpen, rs[0], false, nil), ev(store.EventOpen, rs[0], false, nil),
			ev(store.EventOpen, rs[1], false, nil), ev(store.EventOpen, rs[2], true, nil), ev(store.EventClick, rs[0], false, &links[0])}); err != nil {
			t.Fatal(err)
		}
		p := &store.Petition{Slug: "river", Title: "Save the river", Open: true}
		if err := f.st.CreatePetition(ctx, p); err != nil {
			t.Fatal(err)
		}
		if _, err := f.st.Sign(ctx, p.ID, rs[0].ContactID, store.Attribution{CampaignID: c.ID, SendID: rs[0].SendID}); err != nil {
			t.Fatal(err)
		}

		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleViewer))
		mustContain(t, b.get("/admin/"), "Ceasefire now", `data-label="Sent">3</td>`,
			`66.7% <span class="sub">2</span>`,  // opened by people
			`100.0% <span class="sub">3</span>`, // opened, proxies included
			`33.3% <span class="sub">1</span>`)  // clicked, and took action
		mustContain(t, b.get("/admin/contacts/"+strconv.FormatInt(rs[0].ContactID, 10)),
			"kind-message", "kind-open", "kind-click", "https://act.example.org/a/river", "kind-signature", "Save the river")
		mustContain(t, b.get("/admin/contacts/"+strconv.FormatInt(rs[2].ContactID, 10)), "(proxy or scanner)")
	})
}
