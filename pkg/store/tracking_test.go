package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// contactNames returns n contact names, prefix and a number each, with a
// random suffix.
func contactNames(prefix string, n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%d-%s", prefix, i, testenv.Random(4))
	}
	return names
}

// mustStarted makes a list of the named contacts (created if new) and starts
// a campaign of topic to it; it returns the campaign and the contacts by name.
func mustStarted(tb testing.TB, s *store.Store, topicID *int64, names ...string) (*store.Campaign, map[string]*store.Contact) {
	tb.Helper()
	ctx := context.Background()
	l := &store.List{Name: "l-" + testenv.Random(4)}
	if err := s.CreateList(ctx, l); err != nil {
		tb.Fatal(err)
	}
	byName := map[string]*store.Contact{}
	var ids []int64
	for _, n := range names {
		c, err := s.ContactByEmail(ctx, n+"@example.org")
		if err != nil {
			c = &store.Contact{Email: n + "@example.org", FirstName: n}
			if err := s.CreateContact(ctx, c); err != nil {
				tb.Fatal(err)
			}
		}
		byName[n] = c
		ids = append(ids, c.ID)
	}
	if err := s.AddListMembers(ctx, l.ID, ids); err != nil {
		tb.Fatal(err)
	}
	m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
	if err := s.CreateMessage(ctx, m); err != nil {
		tb.Fatal(err)
	}
	c := &store.Campaign{Name: "c", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}}, TopicID: topicID}
	if err := s.CreateCampaign(ctx, c); err != nil {
		tb.Fatal(err)
	}
	if _, err := s.StartCampaign(ctx, c.ID); err != nil {
		tb.Fatal(err)
	}
	return c, byName
}

func mustPending(tb testing.TB, s *store.Store, campaignID int64) []store.Recipient {
	tb.Helper()
	ctx := context.Background()
	lo, hi, ok, err := s.SendRange(ctx, campaignID)
	if err != nil {
		tb.Fatal(err)
	}
	if !ok {
		return nil
	}
	rs, err := s.PendingRecipients(ctx, campaignID, lo, hi)
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

func firstNames(rs []store.Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.FirstName)
	}
	slices.Sort(out)
	return out
}

// TestAudienceHonorsPreferences: the snapshot leaves out who opted out of the
// campaign's topic, who paused, and who is on "weekly" and got mail this week.
func TestAudienceHonorsPreferences(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		topic := &store.Topic{Name: "Action alerts"}
		if err := s.CreateTopic(ctx, topic); err != nil {
			t.Fatal(err)
		}
		// dora got a message yesterday; nobody else did.
		earlier, _ := mustStarted(t, s, nil, "dora")
		for _, r := range mustPending(t, s, earlier.ID) {
			if err := s.RecordOutcome(ctx, r.SendID, store.SendSent, "250 ok", true); err != nil {
				t.Fatal(err)
			}
		}
		weekly := store.FrequencyWeekly
		in30, ago := time.Now().Add(30*24*time.Hour), time.Now().Add(-time.Hour)
		pIn30, pAgo := &in30, &ago
		_, people := mustStarted(t, s, nil, "ann", "bob", "cai", "dora", "eve", "gus")
		for name, ch := range map[string]store.PreferenceChange{
			"bob":  {Topics: []int64{}},   // opted out of every topic
			"cai":  {PausedUntil: &pIn30}, // paused for 30 days
			"dora": {Frequency: &weekly},  // weekly, mailed yesterday
			"eve":  {Frequency: &weekly},  // weekly, nothing this week
			"gus":  {PausedUntil: &pAgo},  // a pause that ended
		} {
			if err := s.UpdatePreferences(ctx, people[name].ID, ch); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		all := []string{"ann", "bob", "cai", "dora", "eve", "gus"}
		withTopic, _ := mustStarted(t, s, &topic.ID, all...)
		if diff := cmp.Diff([]string{"ann", "eve", "gus"}, firstNames(mustPending(t, s, withTopic.ID))); diff != "" {
			t.Errorf("campaign with the topic (-want +got):\n%s", diff)
		}
		noTopic, _ := mustStarted(t, s, nil, all...)
		if diff := cmp.Diff([]string{"ann", "bob", "eve", "gus"}, firstNames(mustPending(t, s, noTopic.ID))); diff != "" {
			t.Errorf("campaign without a topic (-want +got):\n%s", diff)
		}
		bad := int64(424242)
		m := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "x"}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		err := s.CreateCampaign(ctx, &store.Campaign{Name: "c", MessageID: m.ID, TopicID: &bad})
		if e, ok := errs.As(err); !ok || e.Field != "topic_id" {
			t.Errorf("campaign with an unknown topic: %v, want an error naming topic_id", err)
		}
	})
}

// TestUnsubscribeStopsTheNextBatch: an unsubscribe from everything, or from
// the campaign's only list, between two batches of a running campaign makes
// the next batch skip that contact.
func TestUnsubscribeStopsTheNextBatch(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		camp, people := mustStarted(t, s, nil, "ann", "bob", "cai")
		sendOf := map[string]int64{}
		for _, r := range mustPending(t, s, camp.ID) {
			sendOf[r.FirstName] = r.SendID
		}
		bobSend := sendOf["bob"]
		if _, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: bobSend, Reason: "too_many"}); err != nil {
			t.Fatal(err)
		}
		// cai leaves the campaign's only list: no longer waiting at all.
		if _, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: sendOf["cai"], ListID: &camp.Audience.Lists[0]}); err != nil {
			t.Fatal(err)
		}
		mailable := map[string]bool{}
		for _, r := range mustPending(t, s, camp.ID) {
			mailable[r.FirstName] = r.Mailable()
		}
		if diff := cmp.Diff(map[string]bool{"ann": true, "bob": false}, mailable); diff != "" {
			t.Errorf("mailable in the next batch (-want +got):\n%s", diff)
		}
		if c, _ := s.GetContact(ctx, people["cai"].ID); c.Status != store.ContactSubscribed {
			t.Errorf("after leaving one list cai is %s, want still subscribed", c.Status)
		}
		ev, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: bobSend})
		if err != nil || ev != nil {
			t.Errorf("a second unsubscribe: event %v, %v; want none recorded", ev, err)
		}
	})
}

// TestCampaignReport: outcomes, engagement human and total, per link, by hour, and per recipient.
func TestCampaignReport(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		camp, people := mustStarted(t, s, nil, "ann", "bob", "cai")
		send := map[string]int64{}
		for _, r := range mustPending(t, s, camp.ID) {
			send[r.FirstName] = r.SendID
		}
		if err := s.RecordOutcome(ctx, send["ann"], store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordOutcome(ctx, send["bob"], store.SendSent, "250 ok", true); err != nil {
			t.Fatal(err)
		}
		if err := s.Bounce(ctx, send["cai"], "550 no such user"); err != nil {
			t.Fatal(err)
		}
		links, err := s.EnsureLinks(ctx, camp.ID, []string{"https://example.org/a", "https://example.org/b"})
		if err != nil {
			t.Fatal(err)
		}
		h1 := time.Date(2026, 3, 1, 10, 15, 0, 0, time.UTC)
		h2 := h1.Add(time.Hour)
		ev := func(kind, who string, machine bool, link int64, at time.Time) store.Event {
			e := store.Event{Kind: kind, CampaignID: camp.ID, SendID: send[who], ContactID: people[who].ID, Machine: machine, CreatedAt: at}
			if link != 0 {
				e.LinkID = &link
			}
			return e
		}
		err = s.InsertEvents(ctx, []store.Event{
			ev(store.EventOpen, "ann", true, 0, h1), ev(store.EventOpen, "ann", false, 0, h1), ev(store.EventOpen, "ann", false, 0, h2),
			ev(store.EventOpen, "bob", true, 0, h2),
			ev(store.EventClick, "ann", false, links[0], h2), ev(store.EventClick, "bob", true, links[0], h2),
			ev(store.EventClick, "bob", false, links[1], h2),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unsubscribe(ctx, store.Unsubscription{SendID: send["bob"]}); err != nil {
			t.Fatal(err)
		}
		rep, err := s.CampaignReport(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := &store.Report{CampaignID: camp.ID, Recipients: 3, Sent: 2, Bounced: 1, BlockedByRelay: map[string]int64{},
			Opens:  store.Engagement{Total: 4, Unique: 2, HumanTotal: 2, HumanUnique: 1},
			Clicks: store.Engagement{Total: 3, Unique: 2, HumanTotal: 2, HumanUnique: 2},
			Links: []store.LinkEngagement{
				{LinkID: links[0], URL: "https://example.org/a", Engagement: store.Engagement{Total: 2, Unique: 2, HumanTotal: 1, HumanUnique: 1}},
				{LinkID: links[1], URL: "https://example.org/b", Engagement: store.Engagement{Total: 1, Unique: 1, HumanTotal: 1, HumanUnique: 1}},
			},
			Unsubscribes: 1, OpenRate: 0.5, ClickRate: 1,
			Bounces: &store.Bounces{Hard: 1, BlockByRelay: map[string]int64{}, Reported: map[string]int64{"hard": 0, "soft": 0, "block": 0, "complaint": 0}}}
		if diff := cmp.Diff(want, rep); diff != "" {
			t.Errorf("report (-want +got):\n%s", diff)
		}

		hours, err := s.HourlyStats(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The sends and the unsubscribe happened now; the opens and clicks in March.
		wantH := []store.HourStats{
			{Hour: h1.Truncate(time.Hour), Opens: 2, HumanOpens: 1},
			{Hour: h2.Truncate(time.Hour), Opens: 2, HumanOpens: 1, Clicks: 3, HumanClicks: 2},
		}
		if len(hours) < 3 {
			t.Fatalf("hourly: %+v", hours)
		}
		if diff := cmp.Diff(wantH, hours[:2]); diff != "" {
			t.Errorf("hourly (-want +got):\n%s", diff)
		}
		last := hours[len(hours)-1]
		if last.Sent != 2 || last.Unsubscribes != 1 {
			t.Errorf("this hour: %+v, want 2 sent and 1 unsubscribe", last)
		}

		var got []string
		for after := int64(0); ; {
			page, err := s.RecipientOutcomes(ctx, camp.ID, after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				got = append(got, fmt.Sprintf("%s %s opens=%d/%d clicks=%d/%d unsub=%v", o.Email, o.Status, o.HumanOpens, o.Opens, o.HumanClicks, o.Clicks, o.Unsubscribed))
				after = o.SendID
			}
			if len(page) < 2 {
				break
			}
		}
		wantRows := []string{
			"ann@example.org sent opens=2/3 clicks=1/1 unsub=false",
			"bob@example.org sent opens=0/1 clicks=1/2 unsub=true",
			"cai@example.org bounced opens=0/0 clicks=0/0 unsub=false",
		}
		if diff := cmp.Diff(wantRows, got); diff != "" {
			t.Errorf("recipient outcomes (-want +got):\n%s", diff)
		}
	})
}
