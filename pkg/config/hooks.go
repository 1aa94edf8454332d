package config

import (
	"regexp"
	"slices"
	"time"

	"github.com/dearfriend/dearfriend/pkg/esp"
)

// snsTopicARN is an SNS topic's ARN: arn:<partition>:sns:<region>:<account>:<name>.
var snsTopicARN = regexp.MustCompile(`^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?$`)

// Hooks names the sending services whose webhooks are configured, without
// their secrets.
func (c Config) Hooks() []string {
	var on []string
	for name, set := range map[string]bool{"ses": len(c.SESTopicARNs) > 0, "sendgrid": c.SendGridKey != "",
		"postmark": c.PostmarkUser != "" && c.PostmarkPassword != "", "mailgun": c.MailgunKey != ""} {
		if set {
			on = append(on, name)
		}
	}
	slices.Sort(on)
	return on
}

// validateHooks checks the sending services' webhook settings. A secret is
// never quoted back.
func (c Config) validateHooks(bad func(format string, args ...any)) {
	for _, arn := range c.SESTopicARNs {
		if !snsTopicARN.MatchString(arn) {
			bad("DEARFRIEND_SES_TOPIC_ARNS takes SNS topic ARNs separated by commas, like arn:aws:sns:us-east-1:123456789012:ses-bounces, got %q", arn)
		}
	}
	if c.SendGridKey != "" {
		if _, err := esp.ParseSendGridKey(c.SendGridKey); err != nil {
			bad("DEARFRIEND_SENDGRID_WEBHOOK_KEY must be the verification key SendGrid shows for the Signed Event Webhook (base64 of an ECDSA P-256 public key): it is %v", err)
		}
	}
	switch {
	case (c.PostmarkUser == "") != (c.PostmarkPassword == ""):
		bad("Postmark's webhook needs DEARFRIEND_POSTMARK_WEBHOOK_USER and DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD together")
	case c.PostmarkPassword != "" && len(c.PostmarkPassword) < 16:
		bad("DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD must be at least 16 characters: it is all that stands between the internet and your suppression list")
	}
	if c.MailgunKey != "" && len(c.MailgunKey) < 16 {
		bad("DEARFRIEND_MAILGUN_SIGNING_KEY must be Mailgun's HTTP webhook signing key (at least 16 characters)")
	}
	if c.HookMaxAge != 0 && (c.HookMaxAge < time.Minute || c.HookMaxAge > 24*time.Hour) {
		bad("DEARFRIEND_HOOK_MAX_AGE must be between 1m and 24h, got %s", c.HookMaxAge)
	}
}
