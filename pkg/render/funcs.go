package render

import (
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// funcs is the merge-tag function set, the same for subject, HTML and text.
var funcs = map[string]any{
	// default gives a fallback for an empty value: {{ .FirstName | default "Friend" }}.
	"default": func(fallback string, v any) string {
		s := fmt.Sprint(v)
		if v == nil || strings.TrimSpace(s) == "" {
			return fallback
		}
		return s
	},
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"trim":  strings.TrimSpace,
}

func parseHTML(name, src string) (*htmltemplate.Template, error) {
	return htmltemplate.New(name).Option("missingkey=error").Funcs(funcs).Parse(src)
}

func parseText(name, src string) (*texttemplate.Template, error) {
	return texttemplate.New(name).Option("missingkey=error").Funcs(funcs).Parse(src)
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
		msg = fmt.Sprintf("unknown merge field %s (known: .FirstName, .LastName, .Email, .UnsubscribeURL, .PreferencesURL, .ViewURL)", f[1])
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
		if _, err := parseText("t", action); err != nil {
			return s + 1
		}
	}
	return starts[0] + 1
}
