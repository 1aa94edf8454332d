package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHooks(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	sgKey := base64.StdEncoding.EncodeToString(der)
	const arn = "arn:aws:sns:us-east-1:123456789012:ses-bounces"
	const secretWord = "hunter2-hunter2-hunter2"

	c, err := FromEnv(ModeDev, env(map[string]string{
		"DEARFRIEND_SES_TOPIC_ARNS": arn + ", arn:aws-cn:sns:cn-north-1:123456789012:b", "DEARFRIEND_SENDGRID_WEBHOOK_KEY": sgKey,
		"DEARFRIEND_POSTMARK_WEBHOOK_USER": "postmark", "DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD": secretWord,
		"DEARFRIEND_MAILGUN_SIGNING_KEY": secretWord, "DEARFRIEND_HOOK_MAX_AGE": "15m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"mailgun", "postmark", "sendgrid", "ses"}, c.Hooks()); diff != "" {
		t.Errorf("hooks (-want +got):\n%s", diff)
	}
	if len(c.SESTopicARNs) != 2 || c.HookMaxAge.Minutes() != 15 {
		t.Errorf("ARNs %q, max age %s", c.SESTopicARNs, c.HookMaxAge)
	}
	if s := c.String(); strings.Contains(s, secretWord) || !strings.Contains(s, "hooks=mailgun,postmark,sendgrid,ses") {
		t.Errorf("String() = %s: wants the hooks, never their secrets", s)
	}
	if d, _ := FromEnv(ModeDev, env(nil)); len(d.Hooks()) != 0 || !strings.Contains(d.String(), "hooks=(none)") {
		t.Errorf("no hook settings: %v", d.Hooks())
	}

	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"ARN of another service", map[string]string{"DEARFRIEND_SES_TOPIC_ARNS": "arn:aws:sqs:us-east-1:123456789012:q"}, "DEARFRIEND_SES_TOPIC_ARNS takes SNS topic ARNs"},
		{"SendGrid key not base64", map[string]string{"DEARFRIEND_SENDGRID_WEBHOOK_KEY": "not a key"}, "DEARFRIEND_SENDGRID_WEBHOOK_KEY must be the verification key"},
		{"Postmark user alone", map[string]string{"DEARFRIEND_POSTMARK_WEBHOOK_USER": "u"}, "together"},
		{"Postmark password short", map[string]string{"DEARFRIEND_POSTMARK_WEBHOOK_USER": "u", "DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD": "short"}, "at least 16 characters"},
		{"Mailgun key short", map[string]string{"DEARFRIEND_MAILGUN_SIGNING_KEY": "short"}, "DEARFRIEND_MAILGUN_SIGNING_KEY must be"},
		{"max age too long", map[string]string{"DEARFRIEND_HOOK_MAX_AGE": "48h"}, "between 1m and 24h"},
		{"max age no duration", map[string]string{"DEARFRIEND_HOOK_MAX_AGE": "soon"}, "like 10m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromEnv(ModeDev, env(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "short") && strings.Contains(tt.name, "short") && strings.Contains(err.Error(), `"short"`) {
				t.Errorf("a secret quoted back: %v", err)
			}
		})
	}
}
