package input

import (
	"net/url"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name      string
		v         string
		multiline bool
		wantErr   bool
	}{
		{"plain", "Jane Doe", false, false},
		{"accents and emoji", "José 日本 🌊", false, false},
		{"CR LF header injection", "Evil\r\nBcc: all@example.org", false, true},
		{"LF", "a\nb", false, true},
		{"lone CR", "a\rb", false, true},
		{"TAB in one line", "a\tb", false, true},
		{"NUL", "a\x00b", false, true},
		{"DEL", "a\x7fb", false, true},
		{"C1 control", "a\u0085b", false, true},
		{"invalid UTF-8", "a\xffb", false, true},
		{"replacement character typed is fine", "a\uFFFDb", false, false},
		{"multi-line LF, CR LF, TAB", "one\ntwo\r\n\tthree", true, false},
		{"multi-line lone CR", "one\rtwo", true, true},
		{"multi-line CR at the end", "one\r", true, true},
		{"multi-line NUL", "one\n\x00", true, true},
		{"multi-line vertical tab", "one\vtwo", true, true},
		{"multi-line invalid UTF-8", "one\n\xc3", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check("first_name", tc.v, tc.multiline)
			if (err != nil) != tc.wantErr {
				t.Fatalf("Check(%q) = %v, want error %v", tc.v, err, tc.wantErr)
			}
			if e, ok := errs.As(err); err != nil && (!ok || e.Code != errs.Invalid || e.Field != "first_name") {
				t.Errorf("error %v does not name the field", err)
			}
		})
	}
}

func TestValuesAndJSON(t *testing.T) {
	for _, tc := range []struct {
		name      string
		err       error
		wantField string // "-" for no error
	}{
		{"form ok", Values(url.Values{"first_name": {"Jane"}, "comment": {"line\r\nline"}}), "-"},
		{"form one-line field", Values(url.Values{"first_name": {"Evil\r\nBcc: x@example.org"}, "comment": {"ok"}}), "first_name"},
		{"form name", Values(url.Values{"a\x00": {"x"}}), "a\x00"},
		{"form multi-line field NUL", Values(url.Values{"comment": {"a\x00"}}), "comment"},
		{"JSON ok", JSON([]byte(`{"subject":"Hi","html":"<p>\r\n</p>","attributes":{"notes":"a\nb"}}`)), "-"},
		{"JSON nested path", JSON([]byte(`{"variants":[{"subject":"ok"},{"subject":"a\r\nBcc: x"}]}`)), "variants[1].subject"},
		{"JSON escaped NUL", JSON([]byte(`{"q":"a\u0000"}`)), "q"},
		{"JSON key", JSON([]byte(`{"attributes":{"a\nb":1}}`)), "attributes.a\nb"},
		{"JSON invalid UTF-8", JSON([]byte("{\"first_name\":\"Jos\xe9\"}")), ""},
		{"not JSON is the decoder's", JSON([]byte(`{"a":`)), "-"},
		{"JSON lone high surrogate", JSON([]byte(`{"first_name":"a\ud800b"}`)), ""},
		{"JSON lone low surrogate", JSON([]byte(`{"first_name":"\udc00"}`)), ""},
		{"JSON surrogate pair", JSON([]byte(`{"first_name":"\ud83c\udf0a \\ud800"}`)), "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.wantField == "-" {
				if tc.err != nil {
					t.Fatalf("unexpected error %v", tc.err)
				}
				return
			}
			e, ok := errs.As(tc.err)
			if !ok || e.Code != errs.Invalid || e.Field != tc.wantField {
				t.Fatalf("got %v, want an invalid error on %q", tc.err, tc.wantField)
			}
		})
	}
}

func TestMultiline(t *testing.T) {
	for path, want := range map[string]bool{"html": true, "variants[0].html": true, "attributes.notes": true,
		"comment": true, "subject": false, "first_name": false, "from_name": false, "rules.all[0].value": false} {
		if got := Multiline(path); got != want {
			t.Errorf("Multiline(%q) = %v, want %v", path, got, want)
		}
	}
}

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"Jane", "a\r\nb", "a\x00", "\xff", "x\ty", "é\u0085"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, v string, multiline bool) {
		if Check("f", v, multiline) != nil {
			return
		}
		// What passes is UTF-8 and, one line, free of every byte a header or a driver chokes on.
		if !multiline {
			for _, r := range v {
				if control(r) {
					t.Fatalf("%q passed with control %U", v, r)
				}
			}
		}
		for _, r := range v {
			if r == 0 || r == 0xFFFD && !containsLiteralFFFD(v) {
				t.Fatalf("%q passed", v)
			}
		}
	})
}

func containsLiteralFFFD(v string) bool {
	for i := 0; i+2 < len(v); i++ {
		if v[i] == 0xef && v[i+1] == 0xbf && v[i+2] == 0xbd {
			return true
		}
	}
	return false
}
