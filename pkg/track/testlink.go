package track

import (
	"net/http"
	"net/url"
	"regexp"
)

// testLinkNames are what a link in a test email stands for, with the words
// the test page uses for it. A test send names no ledger row, so its
// unsubscribe, preferences, view and action links come here, and say so,
// instead of answering 404.
var testLinkNames = map[string]string{
	"unsubscribe": "unsubscribe page",
	"preferences": "email settings page",
	"view":        "copy of the email in a browser",
	"action":      "action page, which recognizes them",
}

// TestLink is the URL a test email has in place of a per-send URL: what is
// one of unsubscribe, preferences, view or action; slug names the action
// page of an action link, which the test page then links to.
func (l *Links) TestLink(what, slug string) string {
	if what == "action" && slug != "" {
		return l.base + "/t/test/action?slug=" + url.QueryEscape(slug)
	}
	return l.base + "/t/test/" + what
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// testLink says that the link is a test's. A POST (a mail client's
// one-click unsubscribe of a test email) changes nothing and gets the bare
// 200 of RFC 8058.
func (h *Handler) testLink(w http.ResponseWriter, r *http.Request) {
	name, ok := testLinkNames[r.PathValue("what")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusOK)
		return
	}
	d := pageData{Title: "Test email", Notice: name}
	if slug := r.URL.Query().Get("slug"); r.PathValue("what") == "action" && slugPattern.MatchString(slug) {
		d.Action = "/a/" + slug // the page itself, for no one in particular
	}
	h.page(w, r, http.StatusOK, "testlink.html", d)
}
