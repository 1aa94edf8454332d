package render

import (
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// UTM holds the campaign parameters added to every tracked link's target
// when set; a link that already names one keeps its own.
type UTM struct {
	Source   string `json:"utm_source,omitempty"`
	Medium   string `json:"utm_medium,omitempty"`
	Campaign string `json:"utm_campaign,omitempty"`
}

// shorteners are link shorteners: they hide where a link goes, so filters
// count them against a message, and a shortened link in a blast is often
// blocked outright.
var shorteners = []string{"bit.ly", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at"}

// droppedElements are removed with their content: mail clients drop them
// anyway, and some filters score them as an attack.
var droppedElements = map[atom.Atom]bool{atom.Script: true, atom.Form: true, atom.Iframe: true, atom.Object: true, atom.Embed: true}

// linkPass is one pass over a message before inlining: it removes what mail
// clients refuse or what takes a reader elsewhere unasked (droppedElements,
// on* handlers, javascript: URLs, data: URLs in links, <base>, <meta
// http-equiv="refresh">), with a warning for each, refuses link shorteners, and replaces each trackable
// link's href with the marker of its tracked URL. Everything else is copied
// byte for byte, so merge tags survive.
type linkPass struct {
	marker   func(code byte, index int) string
	utm      UTM
	links    []string // tracked targets, in body order, each once
	index    map[string]int
	warnings []string
	warned   map[string]bool
	text     textBuilder // the text alternative, derived on the way
}

func (p *linkPass) warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if !p.warned[msg] {
		p.warned[msg] = true
		p.warnings = append(p.warnings, msg)
	}
}

// rewrite runs the pass over src and derives the text alternative on the way
// (see text). A link is trackable when it is http(s), carries no merge tag
// (unsubscribe, preferences and view links are built from merge tags) and is
// not marked data-notrack.
func (p *linkPass) rewrite(src string) (string, error) {
	p.index, p.warned = map[string]int{}, map[string]bool{}
	var out strings.Builder
	out.Grow(len(src) + 256)
	z := newTokenizer(src)
	var dropping atom.Atom // the element being removed, with its depth
	depth := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			out.WriteString(z.raw) // an unfinished tag at the end stays as written
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken && tt != html.EndTagToken {
			if dropping == 0 {
				out.WriteString(z.raw)
				if tt == html.TextToken {
					p.text.text(z.raw)
				}
			}
			continue
		}
		name, hasAttr := z.TagName()
		tag := atom.Lookup(name)
		if dropping != 0 {
			switch {
			case tag == dropping && tt == html.StartTagToken:
				depth++
			case tag == dropping && tt == html.EndTagToken:
				if depth--; depth == 0 {
					dropping = 0
				}
			}
			continue
		}
		switch {
		case droppedElements[tag]:
			if tt == html.StartTagToken && tag != atom.Embed {
				p.warn("<%s> removed: mail clients do not run or show it", name)
				dropping, depth = tag, 1
			}
		case tag == atom.Base:
			// A base would send every relative link (and the webmail's own
			// page, in some clients) to another site.
			if tt != html.EndTagToken {
				p.warn("<base> removed: it would change where the message's links go")
			}
		case tt == html.EndTagToken:
			out.WriteString(z.raw)
			p.text.end(tag)
		case !hasAttr:
			out.WriteString(z.raw)
			p.text.start(tag, tt == html.SelfClosingTagToken, "", "")
		default:
			raw, href, style, err := p.tag(z, string(name), tag)
			if err != nil {
				return "", err
			}
			if raw != "" {
				out.WriteString(raw)
				p.text.start(tag, tt == html.SelfClosingTagToken, href, style)
			}
		}
	}
	return out.String(), nil
}

// tag cleans the current start tag and rewrites its link; it returns the tag
// to write ("" to drop it) and the link and style the text alternative sees.
func (p *linkPass) tag(z *tokenizer, name string, tag atom.Atom) (raw, href, style string, err error) {
	raw = z.raw
	var target string
	var bad []string
	track, refresh := true, false
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		key := string(k)
		switch {
		case strings.HasPrefix(key, "on"):
			p.warn("%s attribute removed from <%s>: mail clients do not run scripts", key, name)
			bad = append(bad, key)
		case scriptURL(string(v)):
			p.warn("javascript: URL removed from <%s %s>", name, key)
			bad = append(bad, key)
		case linkAttrs[key] && hasScheme(string(v), "data"):
			// A data: link opens a page made of the message itself, a
			// phishing page that shows no address; images may keep data:.
			p.warn("data: URL removed from <%s %s>", name, key)
			bad = append(bad, key)
		case tag == atom.Meta && key == "http-equiv" && strings.EqualFold(strings.TrimSpace(string(v)), "refresh"):
			refresh = true
		case key == "href":
			target = strings.TrimSpace(string(v))
		case key == "data-notrack":
			track = false
		}
	}
	if refresh {
		p.warn("<meta http-equiv=\"refresh\"> removed: it would take the reader to another page")
		return "", "", "", nil
	}
	spans := attrSpans(z.masked)
	if len(bad) > 0 {
		masked, ok := removeAttrs(z.masked, spans, bad)
		if !ok {
			p.warn("<%s> removed: an attribute that runs script could not be taken out of it", name)
			return "", "", "", nil
		}
		raw, _ = removeAttrs(raw, spans, bad)
		spans = attrSpans(masked)
	}
	style = attrValue(raw, spans, "style")
	if tag != atom.A && tag != atom.Area || target == "" {
		return raw, "", style, nil
	}
	if host := shortener(target); host != "" {
		return "", "", "", errs.Field("html", "link %q goes through the URL shortener %s: mailbox providers distrust shortened links; link to the page itself", target, host)
	}
	href = attrValue(raw, spans, "href")
	lower := strings.ToLower(target)
	if !track || strings.Contains(target, "{{") || !(strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) {
		return raw, href, style, nil
	}
	i, seen := p.index[target]
	if !seen {
		i = len(p.links)
		p.index[target] = i
		p.links = append(p.links, p.utm.add(target))
	}
	s, ok := findAttr(spans, "href")
	if !ok {
		return raw, href, style, nil
	}
	marker := p.marker(codeLink, i)
	return raw[:s.value] + `"` + marker + `"` + raw[s.end:], marker, style, nil
}

// linkAttrs are the attributes that name where a click or a submit goes.
var linkAttrs = map[string]bool{"href": true, "xlink:href": true, "action": true, "formaction": true}

// scriptURL reports whether v is a javascript: or vbscript: URL.
func scriptURL(v string) bool {
	return hasScheme(v, "javascript") || hasScheme(v, "vbscript")
}

// hasScheme reports whether the URL v has scheme (lower case), read as
// browsers read it: control characters and white space inside are ignored.
func hasScheme(v, scheme string) bool {
	colon := strings.IndexByte(v, ':')
	if colon < len(scheme) {
		return false
	}
	var got []byte
	for i := 0; i < colon && len(got) <= len(scheme); i++ {
		if c := v[i]; c > ' ' {
			got = append(got, c|0x20)
		}
	}
	return string(got) == scheme
}

// shortener returns the shortener host a link goes through, or "".
func shortener(href string) string {
	_, rest, ok := strings.Cut(href, "//")
	if !ok {
		return ""
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#\\"); i >= 0 {
		host = rest[:i]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, s := range shorteners {
		if host == s || strings.HasSuffix(host, "."+s) {
			return s
		}
	}
	return ""
}

// add appends the UTM parameters that are set and not already in href's query.
func (u UTM) add(href string) string {
	params := [...][2]string{{"utm_source", u.Source}, {"utm_medium", u.Medium}, {"utm_campaign", u.Campaign}}
	base, frag, hasFrag := strings.Cut(href, "#")
	_, query, _ := strings.Cut(base, "?")
	have, _ := url.ParseQuery(query)
	for _, kv := range params {
		if kv[1] == "" || have.Has(kv[0]) {
			continue
		}
		switch {
		case !strings.Contains(base, "?"):
			base += "?"
		case !strings.HasSuffix(base, "?") && !strings.HasSuffix(base, "&"):
			base += "&"
		}
		base += kv[0] + "=" + url.QueryEscape(kv[1])
	}
	if hasFrag {
		return base + "#" + frag
	}
	return base
}

// span is one attribute of a raw start tag: the name at [start, value) or
// [start, end) when it has no value; the value (with its quotes) at [value, end).
type span struct {
	name              string // lowercased
	start, value, end int
}

// attrSpans reads the attributes of a raw start tag as the HTML tokenizer does.
func attrSpans(tag string) []span {
	var out []span
	i := 1
	for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' {
		i++
	}
	for i < len(tag) {
		for i < len(tag) && (isSpace(tag[i]) || tag[i] == '/') {
			i++
		}
		if i >= len(tag) || tag[i] == '>' {
			break
		}
		start := i
		for i < len(tag) && !isSpace(tag[i]) && tag[i] != '/' && tag[i] != '>' && (tag[i] != '=' || i == start) {
			i++
		}
		s := span{name: strings.ToLower(tag[start:i]), start: start}
		k := i
		for k < len(tag) && isSpace(tag[k]) {
			k++
		}
		if k < len(tag) && tag[k] == '=' {
			k++
			for k < len(tag) && isSpace(tag[k]) {
				k++
			}
			s.value = k
			if k < len(tag) && (tag[k] == '"' || tag[k] == '\'') {
				q := tag[k]
				k++
				for k < len(tag) && tag[k] != q {
					k++
				}
				k = min(k+1, len(tag))
			} else {
				for k < len(tag) && !isSpace(tag[k]) && tag[k] != '>' {
					k++
				}
			}
			i = k
		} else {
			s.value = i
		}
		s.end = i
		out = append(out, s)
	}
	return out
}

func findAttr(spans []span, name string) (span, bool) {
	for _, s := range spans {
		if s.name == name {
			return s, true
		}
	}
	return span{}, false
}

// removeAttrs takes the named attributes out of a raw tag; ok is false when
// one of them is not where the tokenizer saw it.
func removeAttrs(tag string, spans []span, names []string) (string, bool) {
	var b strings.Builder
	last := 0
	found := map[string]bool{}
	for _, s := range spans {
		for _, n := range names {
			if s.name == n {
				b.WriteString(strings.TrimRight(tag[last:s.start], " \t\n\r\f"))
				last = s.end
				found[n] = true
			}
		}
	}
	b.WriteString(tag[last:])
	for _, n := range names {
		if !found[n] {
			return "", false
		}
	}
	return b.String(), true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// addPixel puts the open pixel at the end of the body of src, which the
// inliner wrote: its tag names are lowercase.
func addPixel(src, url string) string {
	pixel := pixelTag(url)
	if i := strings.LastIndex(src, "</body>"); i >= 0 {
		return src[:i] + pixel + "\n" + src[i:]
	}
	return src + pixel
}

// pixelTag is the open pixel's tag.
func pixelTag(url string) string {
	return `<img src="` + url + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
}
