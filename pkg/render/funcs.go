package render

import (
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// baseFuncs is the merge-tag function set, the same for subject, HTML and
// text; funcMap adds the functions that write per-recipient URLs.
var baseFuncs = map[string]any{
	// default gives a fallback for an empty value: {{ .FirstName | default "Friend" }}.
	"default": func(fallback string, v any) string {
		s, ok := v.(string) // the usual case, without fmt's allocations
		if !ok {
			s = fmt.Sprint(v)
		}
		if v == nil || strings.TrimSpace(s) == "" {
			return fallback
		}
		return s
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
	// share_facebook, share_x and share_email link to sharing a page:
	// {{ share_facebook "https://example.org/petition" }}.
	"share_facebook": func(page string) (string, error) {
		if err := checkShareURL("share_facebook", page); err != nil {
			return "", err
		}
		return "https://www.facebook.com/sharer/sharer.php?u=" + url.QueryEscape(page), nil
	},
	"share_x": func(page string, text ...string) (string, error) {
		if err := checkShareURL("share_x", page); err != nil {
			return "", err
		}
		s := "https://x.com/intent/post?url=" + url.QueryEscape(page)
		if t, err := optional("share_x", text); err != nil {
			return "", err
		} else if t != "" {
			s += "&text=" + url.QueryEscape(t)
		}
		return s, nil
	},
	"share_email": func(page string, subject ...string) (string, error) {
		if err := checkShareURL("share_email", page); err != nil {
			return "", err
		}
		s := "mailto:?"
		if t, err := optional("share_email", subject); err != nil {
			return "", err
		} else if t != "" {
			s += "subject=" + url.PathEscape(t) + "&"
		}
		return s + "body=" + url.PathEscape(page), nil
	},
}

// ShareFuncs returns share_facebook, share_x and share_email for a page
// template, so a public page links to sharing exactly as an email does.
func ShareFuncs() htmltemplate.FuncMap {
	m := htmltemplate.FuncMap{}
	for _, k := range []string{"share_facebook", "share_x", "share_email"} {
		m[k] = baseFuncs[k]
	}
	return m
}

func checkShareURL(fn, page string) error {
	u, err := url.Parse(page)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s wants an absolute http(s) URL, got %q", fn, page)
	}
	return nil
}

func optional(fn string, args []string) (string, error) {
	if len(args) > 1 {
		return "", fmt.Errorf("%s takes a URL and at most one text, got %d texts", fn, len(args))
	}
	if len(args) == 1 {
		return args[0], nil
	}
	return "", nil
}

// slugRe is what an action slug may be: it travels in a marker and a URL path as it is.
var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// funcMap is the function set of one compile: action_link writes a marker
// under that compile's prefix, expanded per recipient like the other URLs.
func funcMap(c *Compiled) map[string]any {
	m := make(map[string]any, len(baseFuncs)+1)
	for k, v := range baseFuncs {
		m[k] = v
	}
	// action_link is the recipient's signed link to an action page:
	// {{ action_link "northfork" }}.
	m["action_link"] = func(slug string) (htmltemplate.URL, error) {
		if !slugRe.MatchString(slug) {
			return "", fmt.Errorf("action_link wants a slug of lowercase letters, digits and dashes, got %q", slug)
		}
		return htmltemplate.URL(c.markerPrefix + string(codeAction) + slug + "~"), nil
	}
	return m
}

func parseHTML(c *Compiled, name, src string) (*htmltemplate.Template, error) {
	return htmltemplate.New(name).Option("missingkey=error").Funcs(funcMap(c)).Parse(src)
}

func parseText(c *Compiled, name, src string) (*texttemplate.Template, error) {
	return texttemplate.New(name).Option("missingkey=error").Funcs(funcMap(c)).Parse(src)
}

var (
	tmplErrRe = regexp.MustCompile(`template: [^:]*:(\d+)(?::(\d+))?: (.*)`)
	fieldRe   = regexp.MustCompile(`executing "[^"]*" at <([^>]*)>: can't evaluate field (\w+)`)
	execRe    = regexp.MustCompile(`^executing "[^"]*" at <[^>]*>: `)
)

// templateError turns a template error into an invalid-input error naming the
// field, line and column. Go's parser reports only a line, so the column is
// that of the first action on the line that fails on its own.
func templateError(field, src string, err error) error {
	m := tmplErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return &errs.Error{Code: errs.Invalid, Field: field, Message: err.Error(), Err: err}
	}
	line, _ := strconv.Atoi(m[1])
	col, _ := strconv.Atoi(m[2])
	if m[2] != "" {
		col++ // execution errors count columns from 0
	}
	msg := m[3]
	if f := fieldRe.FindStringSubmatch(msg); f != nil {
		msg = fmt.Sprintf("unknown merge field %s (known: .FirstName, .LastName, .Email, .Subject, .OrgName, .PostalAddress, .UnsubscribeURL, .PreferencesURL, .ViewURL)", f[1])
	} else {
		msg = execRe.ReplaceAllString(msg, "")
	}
	if col == 0 {
		col = findColumn(src, line, msg)
	}
	return &errs.Error{Code: errs.Invalid, Field: field, Message: fmt.Sprintf("line %d, column %d: %s", line, col, msg), Err: err}
}

func findColumn(src string, line int, msg string) int {
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) {
		return 1
	}
	text := lines[line-1]
	var starts []int
	for i := 0; ; {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			break
		}
		starts = append(starts, i+j)
		i += j + 2
	}
	if len(starts) == 0 {
		return 1
	}
	if strings.Contains(msg, "unclosed") || strings.Contains(msg, "unterminated") || strings.Contains(msg, "unexpected EOF") {
		for i := len(starts) - 1; i >= 0; i-- {
			if !strings.Contains(text[starts[i]:], "}}") {
				return starts[i] + 1
			}
		}
	}
	for _, s := range starts {
		end := strings.Index(text[s:], "}}")
		if end < 0 {
			return s + 1
		}
		action := text[s : s+end+2]
		word := strings.Fields(strings.Trim(action, "{}- "))
		if len(word) > 0 {
			switch word[0] {
			case "end", "else":
				continue
			case "if", "range", "with":
				action += "{{end}}"
			}
		}
		if _, err := parseText(&Compiled{}, "t", action); err != nil {
			return s + 1
		}
	}
	return starts[0] + 1
}
