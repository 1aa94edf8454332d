package render

import (
	"fmt"
	"html"
	"net/url"
	"strings"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ClipSize is the size of HTML over which Gmail clips a message (at about
// 102 KB), showing a "view entire message" link in place of the rest: the
// footer, and its unsubscribe link, are then out of sight.
const ClipSize = 100 << 10

// lint finds what mail filters and clients hold against an email that is
// not wrong enough to refuse: images without alt text or dimensions, and
// links whose visible text is a URL of another site than their target
// (filters such as rspamd score that as phishing, and a tracked link's
// target is always another site). doc is the message with its layout,
// before links are rewritten. Each warning is a sentence naming the image
// or link.
func lint(doc string) []string {
	var warnings []string
	z := newTokenizer(doc)
	var inLink bool
	var href string
	var text strings.Builder
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return warnings
		}
		name, hasAttr := z.TagName()
		tag := atom.Lookup(name)
		switch {
		case tt == xhtml.TextToken && inLink:
			text.WriteString(html.UnescapeString(z.raw))
		case (tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken) && tag == atom.Img:
			attrs := map[string]string{}
			for more := hasAttr; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				attrs[string(k)] = string(v)
			}
			src := attrs["src"]
			if _, ok := attrs["alt"]; !ok {
				warnings = append(warnings, fmt.Sprintf("image %s has no alt text: readers whose mail client hides images, and screen readers, get nothing in its place; add alt=\"…\" (alt=\"\" for decoration)", shortURL(src)))
			}
			_, w := attrs["width"]
			_, h := attrs["height"]
			if !w || !h {
				warnings = append(warnings, fmt.Sprintf("image %s has no width and height: the email jumps about as it loads, and Outlook may show it at its full size; add width=\"…\" height=\"…\"", shortURL(src)))
			}
		case tt == xhtml.StartTagToken && tag == atom.A:
			inLink, href = true, ""
			text.Reset()
			for more := hasAttr; more; {
				var k, v []byte
				k, v, more = z.TagAttr()
				if string(k) == "href" {
					href = string(v)
				}
			}
		case tt == xhtml.EndTagToken && tag == atom.A && inLink:
			inLink = false
			if shown := strings.TrimSpace(text.String()); textURLMismatch(shown, href) {
				warnings = append(warnings, fmt.Sprintf("the link that shows %s goes to %s: filters score a link whose text is another site's address as phishing; show words instead (\"Add your name\")", shortURL(shown), shortURL(href)))
			}
		}
	}
}

// textURLMismatch reports link text that is a web address on a host other
// than the target's.
func textURLMismatch(shown, target string) bool {
	if strings.ContainsAny(shown, " \t\n") {
		return false
	}
	lower := strings.ToLower(shown)
	switch {
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
	case strings.HasPrefix(lower, "www."):
		shown = "http://" + shown
	default:
		return false
	}
	t, err := url.Parse(strings.TrimSpace(target))
	if err != nil || (t.Scheme != "http" && t.Scheme != "https") {
		return false // a merge tag or mailto: the target is not a web address to compare
	}
	s, err := url.Parse(strings.TrimRight(shown, ".,;:!?)"))
	if err != nil {
		return true
	}
	host := func(u *url.URL) string { return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.") }
	return host(s) != host(t)
}

// shortURL quotes u for a warning, cut to a readable length.
func shortURL(u string) string {
	if len(u) > 60 {
		u = u[:57] + "…"
	}
	return fmt.Sprintf("%q", u)
}
