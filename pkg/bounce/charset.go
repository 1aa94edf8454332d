package bounce

import (
	"strings"

	"golang.org/x/text/encoding/htmlindex"
)

// decodeCharset turns a text part in a legacy charset into UTF-8, so that
// the words of a report localized for its readers can be read: Lotus Notes
// and the Japanese carriers write ISO-2022-JP or Shift_JIS, European
// servers ISO-8859-x. A charset it does not know, or text that does not
// decode, is kept as it is.
func decodeCharset(charset string, body []byte) []byte {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"`)) {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
		return body
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return body
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}
