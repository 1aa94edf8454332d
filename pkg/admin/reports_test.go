package admin_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// mustActivity gives a sent campaign of four people some history: two people
// and a privacy proxy open, one person clicks, signs and another
// unsubscribes with a reason, the fourth address bounces.
func mustActivity(t *testing.T, st *store.Store, c *store.Campaign, rs []store.Recipient) {
	t.Helper()
	ctx := context.Background()
	links, err := st.EnsureLinks(ctx, c.ID, []string{"https://act.example.org/a/river?source=email"})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(kind string, r store.Recipient, machine bool, link *int64) store.Event {
		return store.Event{Kind: kind, CampaignID: c.ID, SendID: r.SendID, ContactID: r.ContactID, Machine: machine, LinkID: link}
	}
	if err := st.InsertEvents(ctx, []store.Event{ev(store.EventOpen, rs[0], false, nil), ev(store.EventOpen, rs[1], false, nil),
		ev(store.EventOpen, rs[2], true, nil), ev(store.EventClick, rs[0], false, &links[0]), ev(store.EventClick, rs[2], true, &links[0])}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Unsubscribe(ctx, store.Unsubscription{SendID: rs[1].SendID, Reason: "Too many emails"}); err != nil {
		t.Fatal(err)
	}
	if err := st.Bounce(ctx, rs[3].SendID, "550 5.1.1 <d@example.org>: Recipient address rejected: User unknown"); err != nil {
		t.Fatal(err)
	}
	p := &store.Petition{Slug: "river-" + testenv.Random(3), Title: "Save the river", Open: true}
	if err := st.CreatePetition(ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Sign(ctx, p.ID, rs[0].ContactID, store.Attribution{CampaignID: c.ID, SendID: rs[0].SendID}); err != nil {
		t.Fatal(err)
	}
}

func TestCampaignReport(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := newFixture(t, dsn, "")
		people := []*store.Contact{f.mustContact("a@example.org", "A"), f.mustContact("b@example.org", "B"),
			f.mustContact("c@example.org", "C"), f.mustContact("d@example.org", "D")}
		c, rs := mustSentCampaign(t, f.st, "Ceasefire now", people)
		mustActivity(t, f.st, c, rs)
		path := "/admin/campaigns/" + strconv.FormatInt(c.ID, 10) + "/report"

		b := f.browser()
		b.mustSignin(f.mustUser(store.RoleViewer)) // a viewer reads reports
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("report: %d\n%s", p.status, p.body)
		}
		mustContain(t, p, "<h1>Report: Ceasefire now</h1>",
			`Delivered</th><td class="num" data-label="Count">3</td><td class="num" data-label="Rate">75.0%</td>`,
			`Opened <span class="sub">incl. proxies</span></th><td class="num" data-label="Count">3</td><td class="num" data-label="Rate">100.0%</td>`,
			`Opened by people</th><td class="num" data-label="Count">2</td><td class="num" data-label="Rate">66.7%</td>`,
			`Clicked by people</th><td class="num" data-label="Count">1</td><td class="num" data-label="Rate">33.3%</td>`,
			`Took action <span class="sub">signed</span></th><td class="num" data-label="Count">1</td>`,
			`Unsubscribed</th><td class="num" data-label="Count">1</td>`,
			`Bounced</th><td class="num" data-label="Count">1</td><td class="num" data-label="Rate">25.0%</td>`,
			// Per link: one person, one click by people, two with the scanner.
			`https://act.example.org/a/river?source=email</th>
    <td class="num" data-label="People">1</td>
    <td class="num" data-label="Clicks">1</td>
    <td class="num" data-label="Incl. scanners">2</td>`,
			`<span class="num">1</span> Too many emails`,
			"d@example.org", "550 5.1.1 &lt;d@example.org&gt;: Recipient address rejected: User unknown",
			`role="img"`, "<title id=\"activity-title\">Opens, clicks and signatures over time (UTC)</title>",
			"Opened by people</th><th scope=\"col\" class=\"num\">Clicked by people</th>") // the chart's table

		if p := b.get("/admin/campaigns/999999/report"); p.status != http.StatusNotFound {
			t.Errorf("report of no campaign: %d, want 404", p.status)
		}
		if p := b.get("/admin/campaigns/abc/report"); p.status != http.StatusNotFound {
			t.Errorf("report of campaign \"abc\": %d, want 404", p.status)
		}
	})
}

// TestCampaignReportVariants shows one row per A/B variant.
func TestCampaignReportVariants(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testenv.SQLite(t), "")
	ctx := context.Background()
	m := &store.Message{Name: "m", Subject: "Original", FromName: "Maya", FromEmail: "action@example.org", HTML: "<p>Hi</p>"}
	if err := f.st.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	l := &store.List{Name: "l"}
	if err := f.st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	c := &store.Campaign{Name: "Subject test", MessageID: m.ID, Audience: store.Audience{Lists: []int64{l.ID}},
		AB: store.ABTest{Share: 100, Metric: store.MetricOpens}}
	if err := f.st.CreateCampaign(ctx, c, store.Variant{Subject: "Act now"}, store.Variant{Subject: "Your river needs you"}); err != nil {
		t.Fatal(err)
	}
	b := f.browser()
	b.mustSignin(f.mustUser(store.RoleViewer))
	mustContain(t, b.get("/admin/campaigns/"+strconv.FormatInt(c.ID, 10)+"/report"),
		"A/B variants", `<th scope="row">A</th>`, "Act now", `<th scope="row">B</th>`, "Your river needs you",
		"Nothing to chart yet.", "No bounce.", "No one unsubscribed.")
}
