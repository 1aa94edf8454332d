package render

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

var hrefRe = regexp.MustCompile(`(?i)(\shref\s*=\s*)("[^"]*"|'[^']*'|[^\s>]+)`)

// rewriteLinks replaces each trackable link's href with the marker of its
// tracked URL and returns the URLs in order, each once. A link is trackable when it is
// http(s), carries no merge tag (unsubscribe, preferences and view links are
// built from merge tags) and is not marked data-notrack. Everything else is
// copied byte for byte, so merge tags elsewhere survive.
func rewriteLinks(src string, marker func(code byte, index int) string) (string, []string) {
	var out strings.Builder
	out.Grow(len(src) + 256)
	var links []string
	index := map[string]int{}
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		raw := z.Raw()
		if tt != html.StartTagToken {
			out.Write(raw)
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "a" || !hasAttr {
			out.Write(raw)
			continue
		}
		var href string
		track := true
		for {
			k, v, more := z.TagAttr()
			switch string(k) {
			case "href":
				href = strings.TrimSpace(string(v))
			case "data-notrack":
				track = false
			}
			if !more {
				break
			}
		}
		lower := strings.ToLower(href)
		if !track || strings.Contains(href, "{{") || !(strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://")) {
			out.Write(raw)
			continue
		}
		i, seen := index[href]
		if !seen {
			i = len(links)
			index[href] = i
			links = append(links, href)
		}
		tag := string(raw)
		loc := hrefRe.FindStringSubmatchIndex(tag)
		if loc == nil {
			out.Write(raw)
			continue
		}
		out.WriteString(tag[:loc[4]])
		out.WriteString(`"` + marker(codeLink, i) + `"`)
		out.WriteString(tag[loc[5]:])
	}
	return out.String(), links
}

// addPixel puts the open pixel at the end of the body.
func addPixel(src, url string) string {
	pixel := `<img src="` + url + `" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;">`
	if i := strings.LastIndex(strings.ToLower(src), "</body>"); i >= 0 {
		return src[:i] + pixel + "\n" + src[i:]
	}
	return src + pixel
}
