package track

import (
	"strings"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/testenv"
)

// TestTestLinkPage: the links of a test email open a page that says so,
// the action link's page links to the action page itself, a one-click POST
// of a test gets a bare 200, and an unknown kind of link is a 404.
func TestTestLinkPage(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		f := mustFixture(t, dsn, 1, time.Nanosecond)
		for _, what := range []string{"unsubscribe", "preferences", "view"} {
			got := do(t, "GET", f.links.TestLink(what, ""), browserUA, "")
			if got.code != 200 || !strings.Contains(got.body, "This is a test email") || !strings.Contains(got.body, "Nothing was changed") {
				t.Errorf("%s test page: %d\n%s", what, got.code, got.body)
			}
		}
		action := do(t, "GET", f.links.TestLink("action", "northfork"), browserUA, "")
		if action.code != 200 || !strings.Contains(action.body, `href="/a/northfork"`) {
			t.Errorf("action test page: %d\n%s", action.code, action.body)
		}
		if got := do(t, "POST", f.links.TestLink("unsubscribe", ""), "", "List-Unsubscribe=One-Click"); got.code != 200 || got.body != "" {
			t.Errorf("one-click POST of a test: %d %q; want 200 and no page", got.code, got.body)
		}
		if got := do(t, "GET", f.srv.URL+"/t/test/bogus", browserUA, ""); got.code != 404 {
			t.Errorf("unknown test link: %d; want 404", got.code)
		}
		if got := do(t, "GET", f.srv.URL+"/t/test/action?slug=../x", browserUA, ""); strings.Contains(got.body, `href="/a/`) {
			t.Errorf("a bad slug is linked to:\n%s", got.body)
		}
	})
}
