package delivery

import (
	"context"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/templates"
)

// TestActionLinksRegistered checks that a campaign's action links are links
// of the campaign like its tracked ones (the action page's address), and
// that each recipient's action link names that link, so a visit counts as
// its click; a test send's names none.
func TestActionLinksRegistered(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		st := testenv.Store(t, dsn)
		m := &store.Message{Name: "m", Subject: "Act", FromName: "Maya", FromEmail: "action@example.org", Layout: "none",
			HTML: `<p><a href="https://example.org/story">Story</a> <a href="{{ action_link "river" }}">ADD YOUR NAME</a> ` +
				`<a href="{{ action_link "river" }}">sign</a> <a href="{{ action_link "lake" }}">also</a> {{ .UnsubscribeURL }}</p>`}
		if err := st.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		c := &store.Campaign{Name: "c", MessageID: m.ID}
		if err := st.CreateCampaign(ctx, c); err != nil {
			t.Fatal(err)
		}
		layouts, err := fs.Sub(templates.FS, "email")
		if err != nil {
			t.Fatal(err)
		}
		signer := track.NewSigner("k")
		links := track.NewLinks("https://act.example.org", signer)
		compiled, err := NewMessages(st, render.NewCompiler(layouts, render.Org{Name: "Org", PostalAddress: "1 Main St"}), links).ForCampaign(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		urls := []string{"https://example.org/story", "https://act.example.org/a/river", "https://act.example.org/a/lake"}
		ids, err := st.EnsureLinks(ctx, c.ID, urls)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := st.CampaignReport(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range rep.Links {
			got = append(got, l.URL)
		}
		if diff := cmp.Diff(urls, got); diff != "" {
			t.Errorf("the campaign's links (-want +got):\n%s", diff)
		}
		out, err := compiled.Merge(render.Recipient{SendID: 77, Email: "jane@example.org"}, links)
		if err != nil {
			t.Fatal(err)
		}
		found := regexp.MustCompile(`https://act\.example\.org/a/(\w+)\?r=([\w-]+)`).FindAllStringSubmatch(out.HTML, -1)
		if len(found) != 3 {
			t.Fatalf("action links in the email: %q, want 3", found)
		}
		want := map[string]int64{"river": ids[1], "lake": ids[2]}
		for _, f := range found {
			send, link, err := signer.Verify(track.KindAction, f[2])
			if err != nil || send != 77 || link != want[f[1]] {
				t.Errorf("%s's link names send %d, link %d (%v); want 77, %d", f[1], send, link, err, want[f[1]])
			}
		}
		test, err := compiled.MergeUntracked(render.Recipient{SendID: 78, Email: "staff@example.org"}, links)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range regexp.MustCompile(`\?r=([\w-]+)`).FindAllStringSubmatch(test.HTML, -1) {
			if _, link, err := signer.Verify(track.KindAction, f[1]); err != nil || link != 0 {
				t.Errorf("an untracked merge's action link names link %d (%v), want none", link, err)
			}
		}
		if !strings.Contains(test.HTML, "/a/river?r=") {
			t.Errorf("the untracked merge lost its action link:\n%s", test.HTML)
		}
	})
}
