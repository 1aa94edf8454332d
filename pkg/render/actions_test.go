package render

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestActionSlugs: every petition action_link names is found, in branches a
// trial merge skips, in the subject and written as a pipeline, each once.
func TestActionSlugs(t *testing.T) {
	t.Parallel()
	c := NewCompiler(nil, Org{})
	in := Input{Subject: `Sign {{ if false }}{{ action_link "in-subject" }}{{ end }}`, FromName: "M", FromEmail: "a@example.org", Layout: "none",
		HTML: `<a href="{{ action_link "northfork" }}">a</a> {{ if .FirstName }}<a href="{{ "in-branch" | action_link }}">b</a>{{ else }}{{ with .Email }}<a href="{{ action_link "in-else" }}">c</a>{{ end }}{{ end }} <a href="{{ action_link "northfork" }}">again</a>`}
	got, err := c.Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"in-subject", "northfork", "in-branch", "in-else"}, got.Actions); diff != "" {
		t.Errorf("action slugs (-want +got):\n%s", diff)
	}
}
