package api

import (
	"errors"
	"testing"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// FuzzReportEvents: any body either gives events that name a kind and a
// way to match them, or a domain error naming what is wrong; never a panic.
func FuzzReportEvents(f *testing.F) {
	for _, s := range []string{`{"recipient":"a@example.org","kind":"hard"}`, `[{"token":"bounce+x@b.example.org","status":"5.1.1"}]`,
		`{"message_id":"<c1.s2.abc@x>","diagnostic":"550 blocked"}`, `[`, `{"kind":"sideways"}`, `[{}]`, `null`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		evs, err := reportEvents(raw, time.Unix(0, 0))
		if err != nil {
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is no domain error", err)
			}
			return
		}
		for _, ev := range evs {
			if ev.Kind == "" || (ev.Recipient == "" && ev.Token == "" && ev.MessageID == "") {
				t.Fatalf("event %+v has no kind or nothing to match it by", ev)
			}
		}
	})
}
