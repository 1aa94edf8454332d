package esp

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// SESOptions configures the Amazon SES handler.
type SESOptions struct {
	// TopicARNs are the SNS topics SES publishes to; a message of any other
	// topic is refused, however well signed.
	TopicARNs []string
	// Fetch returns a signing certificate; nil fetches it over HTTPS with
	// a 10 s timeout and caches it.
	Fetch CertFetcher
	// Confirm visits a verified SubscribeURL; nil GETs it over HTTPS with a
	// 10 s timeout.
	Confirm func(ctx context.Context, subscribeURL string) error
	Log     *slog.Logger
}

// SES takes Amazon SES's bounce and complaint notifications through an SNS
// HTTPS subscription, and confirms the subscription itself.
type SES struct {
	hook
	topics  map[string]bool
	fetch   CertFetcher
	confirm func(ctx context.Context, subscribeURL string) error
}

// NewSES returns the handler of POST /hooks/ses.
func NewSES(sink bounce.Sink, o SESOptions) *SES {
	s := &SES{hook: newHook("ses", sink, o.Log), topics: map[string]bool{}, fetch: o.Fetch, confirm: o.Confirm}
	for _, arn := range o.TopicARNs {
		s.topics[arn] = true
	}
	if s.fetch == nil {
		s.fetch = newCertCache().fetch
	}
	if s.confirm == nil {
		client := &http.Client{Timeout: 10 * time.Second}
		s.confirm = func(ctx context.Context, subscribeURL string) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, subscribeURL, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("SubscribeURL answered %s", resp.Status)
			}
			return nil
		}
	}
	return s
}

func (s *SES) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	var m snsMessage
	if err := decodeJSON(body, &m, "SNS message"); err != nil {
		s.refuse(w, http.StatusBadRequest, err.Error())
		return
	}
	if !s.topics[m.TopicArn] {
		s.unauthorized(w, fmt.Sprintf("TopicArn %q is not one of DEARFRIEND_SES_TOPIC_ARNS", m.TopicArn))
		return
	}
	if err := m.verify(r.Context(), s.fetch); err != nil {
		s.unauthorized(w, "SNS signature: "+err.Error())
		return
	}
	switch m.Type {
	case "SubscriptionConfirmation":
		u, err := snsURL(m.SubscribeURL, "SubscribeURL")
		if err != nil {
			s.refuse(w, http.StatusBadRequest, err.Error())
			return
		}
		if err := s.confirm(r.Context(), u.String()); err != nil {
			s.log.Error("confirm SNS subscription", "topic", m.TopicArn, "err", err)
			http.Error(w, "subscription not confirmed, try again later", http.StatusBadGateway)
			return
		}
		s.log.Info("SNS subscription confirmed", "topic", m.TopicArn)
		w.WriteHeader(http.StatusOK)
	case "UnsubscribeConfirmation":
		s.log.Warn("SNS subscription ended: SES notifications stop", "topic", m.TopicArn)
		w.WriteHeader(http.StatusOK)
	default: // Notification; verify refused any other Type
		evs, err := s.events(m.Message, m.MessageId)
		s.deliver(w, r, evs, err)
	}
}

// sesNotification is the JSON of an SES notification (notificationType) or
// of an event published through a configuration set (eventType).
// https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
		Timestamp  time.Time `json:"timestamp"`
		FeedbackID string    `json:"feedbackId"`
	} `json:"bounce"`
	Complaint *struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		Timestamp  time.Time `json:"timestamp"`
		FeedbackID string    `json:"feedbackId"`
	} `json:"complaint"`
	Mail struct {
		MessageID string `json:"messageId"`
		Headers   []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// sesBounceReasons names what SES's bounce subtypes say, for a bounce
// whose diagnostic says nothing classifiable.
var sesBounceReasons = map[string]string{
	"NoEmail": "userunknown", "Suppressed": "suppressed", "OnAccountSuppressionList": "suppressed",
	"MailboxFull": "mailboxfull", "MessageTooLarge": "mesgtoobig", "ContentRejected": "contenterror",
	"AttachmentRejected": "policyviolation",
}

// events reads an SES notification (the SNS Message) into events. A
// delivery, or any other notification, gives none.
func (s *SES) events(message, snsID string) ([]bounce.Event, error) {
	var n sesNotification
	if err := decodeJSON([]byte(message), &n, "SES notification in the SNS Message"); err != nil {
		return nil, err
	}
	msgID := n.Mail.CommonHeaders.MessageID
	for _, h := range n.Mail.Headers {
		if msgID == "" && strings.EqualFold(h.Name, "Message-ID") {
			msgID = h.Value
		}
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	var evs []bounce.Event
	switch kind {
	case "Bounce":
		b := n.Bounce
		if b == nil {
			return nil, badPayload("SES Bounce notification without a bounce object")
		}
		k := bounce.Soft // Transient, Undetermined
		if b.BounceType == "Permanent" {
			k = bounce.Hard
		}
		id := firstOf(b.FeedbackID, snsID)
		for _, r := range b.BouncedRecipients {
			f := failure(r.EmailAddress, k, sesBounceReasons[b.BounceSubType], r.Status, r.DiagnosticCode)
			evs = append(evs, s.event(f, id, msgID, b.Timestamp))
		}
	case "Complaint":
		c := n.Complaint
		if c == nil {
			return nil, badPayload("SES Complaint notification without a complaint object")
		}
		id := firstOf(c.FeedbackID, snsID)
		for _, r := range c.ComplainedRecipients {
			evs = append(evs, s.event(failure(r.EmailAddress, bounce.Complaint, "", "", ""), id, msgID, c.Timestamp))
		}
	}
	if err := checkRecipients(evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// checkRecipients refuses events without a recipient: a payload that
// names no one is malformed, not an event to match.
func checkRecipients(evs []bounce.Event) error {
	for i, e := range evs {
		if strings.TrimSpace(e.Recipient) == "" || !strings.Contains(e.Recipient, "@") {
			return badPayload("event %d has no recipient address (got %q)", i+1, e.Recipient)
		}
	}
	return nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
