// Package input holds the rule every edge applies to the text it is sent
// (JSON, forms, queries, imported rows): valid UTF-8 and no control
// characters, so that nothing stored can later break a mail header, a CSV
// export or a database driver. A field meant to hold text of several lines
// may keep LF, CR LF and TAB. It knows field names, not HTTP or storage.
package input

import (
	"cmp"
	"encoding/json"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Check reports what is wrong with v as the value of field: an error naming
// the field when v is not valid UTF-8 or holds a control character (C0, DEL
// or C1); multiline lets LF, CR LF and TAB through.
func Check(field, v string, multiline bool) error {
	if !utf8.ValidString(v) {
		return errs.Field(field, "is not valid UTF-8 text")
	}
	for i, r := range v {
		if !control(r) {
			continue
		}
		if multiline && (r == '\n' || r == '\t' || r == '\r' && i+1 < len(v) && v[i+1] == '\n') {
			continue
		}
		switch {
		case r == '\r' || r == '\n':
			if multiline {
				return errs.Field(field, "has a lone carriage return: end lines with LF or CR LF")
			}
			return errs.Field(field, "must be one line")
		case r == 0:
			return errs.Field(field, "must not contain a NUL character")
		default:
			return errs.Field(field, "must not contain the control character U+%04X", r)
		}
	}
	return nil
}

func control(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f }

// multilineFields are the fields, by their last name, that hold text of
// several lines: a message's bodies, a petition's texts, descriptions, a
// signer's comment, an unsubscribe's reason, the block editor's JSON.
var multilineFields = map[string]bool{
	"html": true, "text": true, "petition_text": true, "thank_you_text": true, "share_text": true,
	"description": true, "comment": true, "reason_text": true, "blocks": true,
	"rules": true, // a segment's rule written as JSON in the admin builder ("r-1.rules")
}

// Multiline reports whether the field named by path (a form field, or a JSON
// path like "attributes.notes" or "variants[1].html") may hold several lines.
// Custom fields may: an import keeps a quoted multi-line cell.
func Multiline(path string) bool {
	if strings.HasPrefix(path, "attributes.") {
		return true
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return multilineFields[path]
}

// Values checks every name and value of a parsed form or query, in name
// order so the error is always the same one; a field is multi-line as
// Multiline says.
func Values(vals url.Values) error {
	names := make([]string, 0, len(vals))
	for k := range vals {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := Check(k, k, false); err != nil {
			return err
		}
		for _, v := range vals[k] {
			if err := Check(k, v, Multiline(k)); err != nil {
				return err
			}
		}
	}
	return nil
}

// JSON checks a JSON document before it is decoded: its bytes must be UTF-8
// (the decoder would quietly turn bad bytes into U+FFFD) and every string in
// it, object keys included, must pass Check, named by its path. A document
// that is not JSON is left to the decoder to refuse.
func JSON(raw []byte) error {
	if !utf8.Valid(raw) {
		return errs.New(errs.Invalid, "the request body is not valid UTF-8 (byte %d)", invalidAt(raw))
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	if at, ok := loneSurrogate(raw); ok {
		// The decoder would store U+FFFD for it, as for a bad byte.
		return errs.New(errs.Invalid, "the request body escapes half a UTF-16 pair (byte %d): not valid text", at)
	}
	return walk("", v)
}

// loneSurrogate finds a \uD800-\uDFFF escape of raw that is not half of a
// high-low pair, and reports its offset.
func loneSurrogate(raw []byte) (int, bool) {
	hex4 := func(i int) (rune, bool) {
		if i+6 > len(raw) || raw[i] != '\\' || raw[i+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 16)
		return rune(n), err == nil
	}
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		r, ok := hex4(i)
		if !ok {
			i++ // an escape of one character, maybe a backslash
			continue
		}
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if low, ok := hex4(i + 6); ok && 0xDC00 <= low && low < 0xE000 {
				i += 11
				continue
			}
			return i, true
		case 0xDC00 <= r && r < 0xE000:
			return i, true
		}
		i += 5
	}
	return 0, false
}

func walk(path string, v any) error {
	switch v := v.(type) {
	case string:
		return Check(cmp.Or(path, "body"), v, Multiline(path))
	case []any:
		for i, e := range v {
			if err := walk(path+"["+strconv.Itoa(i)+"]", e); err != nil {
				return err
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if err := Check(p, k, false); err != nil {
				return err
			}
			if err := walk(p, v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// invalidAt is the offset of the first byte of raw that is not UTF-8.
func invalidAt(raw []byte) int {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(raw)
}
