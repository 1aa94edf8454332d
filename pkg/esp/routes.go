package esp

import (
	"crypto/ecdsa"
	"log/slog"
	"net/http"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// Config says which services' webhooks to take: each is on only when its
// credentials are set.
type Config struct {
	SESTopicARNs     []string         // POST /hooks/ses
	SendGridKey      *ecdsa.PublicKey // POST /hooks/sendgrid
	PostmarkUser     string           // POST /hooks/postmark, with PostmarkPassword
	PostmarkPassword string
	MailgunKey       string        // POST /hooks/mailgun, with Seen
	Seen             Seen          // Mailgun's tokens already taken
	MaxAge           time.Duration // SendGrid's and Mailgun's replay window; DefaultMaxAge when 0
	Log              *slog.Logger
	// SES is the SES handler's certificate fetcher and subscription
	// confirmer (tests); its TopicARNs and Log come from the fields above.
	SES SESOptions
}

// Routes adds the handler of each configured service to mux and returns
// the sources it added.
func Routes(mux *http.ServeMux, sink bounce.Sink, c Config) []string {
	var on []string
	if len(c.SESTopicARNs) > 0 {
		o := c.SES
		o.TopicARNs, o.Log = c.SESTopicARNs, c.Log
		mux.Handle("POST /hooks/ses", NewSES(sink, o))
		on = append(on, "ses")
	}
	if c.SendGridKey != nil {
		mux.Handle("POST /hooks/sendgrid", NewSendGrid(sink, SendGridOptions{Key: c.SendGridKey, MaxAge: c.MaxAge, Log: c.Log}))
		on = append(on, "sendgrid")
	}
	if c.PostmarkUser != "" && c.PostmarkPassword != "" {
		mux.Handle("POST /hooks/postmark", NewPostmark(sink, PostmarkOptions{User: c.PostmarkUser, Password: c.PostmarkPassword, Log: c.Log}))
		on = append(on, "postmark")
	}
	if c.MailgunKey != "" && c.Seen != nil {
		mux.Handle("POST /hooks/mailgun", NewMailgun(sink, MailgunOptions{SigningKey: c.MailgunKey, MaxAge: c.MaxAge, Seen: c.Seen, Log: c.Log}))
		on = append(on, "mailgun")
	}
	return on
}
