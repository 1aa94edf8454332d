package esp

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// checkParsed is what every payload parser promises, whatever its input:
// a bad payload is errBadPayload with no events; otherwise each event names
// an address, a kind and an id of its source.
func checkParsed(t *testing.T, source string, evs []bounce.Event, err error) {
	if err != nil {
		if !errors.Is(err, errBadPayload) || evs != nil {
			t.Fatalf("error %v with %d events; want errBadPayload and none", err, len(evs))
		}
		return
	}
	for _, e := range evs {
		switch e.Kind {
		case bounce.Hard, bounce.Soft, bounce.Complaint, bounce.AutoReply:
		default:
			t.Fatalf("event of kind %q", e.Kind)
		}
		if !strings.Contains(e.Recipient, "@") || !strings.HasPrefix(e.EventID, source+":") || e.Source != source || e.Reason == "" {
			t.Fatalf("event %+v", e)
		}
	}
}

func seed(f *testing.F, files ...string) {
	for _, name := range files {
		f.Add(mustRead(f, name))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
}

func FuzzSESEvents(f *testing.F) {
	seed(f, "ses-bounce.json", "ses-bounce-no-dsn.json", "ses-complaint.json", "ses-delivery.json")
	s := NewSES(&recSink{}, SESOptions{Log: quiet})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := s.events(string(b), "sns-id")
		checkParsed(t, "ses", evs, err)
		// The SNS envelope's canonical string never fails for the known types.
		var m snsMessage
		if json.Unmarshal(b, &m) == nil && (m.Type == "Notification" || m.Type == "SubscriptionConfirmation") {
			if _, err := m.stringToSign(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func FuzzSendGridEvents(f *testing.F) {
	seed(f, "sendgrid-events.json")
	s := NewSendGrid(&recSink{}, SendGridOptions{Log: quiet})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := s.events(b)
		checkParsed(t, "sendgrid", evs, err)
	})
}

func FuzzPostmarkEvents(f *testing.F) {
	seed(f, "postmark-bounce.json", "postmark-spam-complaint.json")
	p := NewPostmark(&recSink{}, PostmarkOptions{Log: quiet})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := p.events(b)
		checkParsed(t, "postmark", evs, err)
	})
}

func FuzzMailgunEvents(f *testing.F) {
	seed(f, "mailgun-failed-permanent.json", "mailgun-failed-temporary.json", "mailgun-complained.json")
	m := NewMailgun(&recSink{}, MailgunOptions{Log: quiet})
	f.Fuzz(func(t *testing.T, b []byte) {
		evs, err := m.events(b)
		checkParsed(t, "mailgun", evs, err)
	})
}
