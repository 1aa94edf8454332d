package bounce

import (
	"encoding/json"
	"strings"
)

// sesNotification is the JSON Amazon SES sends, directly or inside an SNS
// envelope, when a bounce, complaint or delivery notification goes to an
// email address rather than to a webhook.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Delivery struct {
		Recipients []string `json:"recipients"`
	} `json:"delivery"`
	Message string `json:"Message"` // the SNS envelope's payload
}

// sesFailures reads an SES notification from the message's text, if it is
// one; ok is false when it is not.
func sesFailures(p *parts) (out []Failure, ok bool) {
	for _, t := range append(append([]string{}, p.jsons...), p.texts...) {
		i := strings.IndexByte(t, '{')
		if i < 0 || !strings.Contains(t, "notificationType") && !strings.Contains(t, "eventType") {
			continue
		}
		// Long lines arrive folded, a newline and a space inserted.
		body := strings.NewReplacer("\r\n ", "", "\n ", "").Replace(t[i:])
		var n sesNotification
		if err := json.NewDecoder(strings.NewReader(body)).Decode(&n); err != nil {
			continue
		}
		if n.Message != "" {
			var inner sesNotification
			if err := json.Unmarshal([]byte(n.Message), &inner); err != nil {
				continue
			}
			n = inner
		}
		typ := n.NotificationType
		if typ == "" {
			typ = n.EventType
		}
		switch typ {
		case "Bounce":
			for _, r := range n.Bounce.BouncedRecipients {
				f := Failure{Recipient: firstAddress(r.EmailAddress), Status: r.Status, Diagnostic: r.DiagnosticCode}
				if _, d, ok := strings.Cut(f.Diagnostic, ";"); ok {
					f.Diagnostic = strings.TrimSpace(d)
				}
				classifyFailure(&f, "")
				if n.Bounce.BounceType != "Permanent" {
					f.Kind = Soft
				}
				out = append(out, f)
			}
		case "Complaint":
			for _, r := range n.Complaint.ComplainedRecipients {
				out = append(out, Failure{Recipient: firstAddress(r.EmailAddress), Kind: Complaint, Reason: "feedback"})
			}
		case "Delivery":
			for _, r := range n.Delivery.Recipients {
				out = append(out, Failure{Recipient: firstAddress(r), Kind: AutoReply, Reason: "delivered"})
			}
		default:
			continue
		}
		return out, true
	}
	return nil, false
}
