package mailer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	mail "github.com/wneessen/go-mail"
)

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want endpoint
	}{
		{"smtp://localhost", endpoint{host: "localhost", port: 25, tlsPolicy: mail.NoTLS}},
		{"smtp://127.0.0.1:1025", endpoint{host: "127.0.0.1", port: 1025, tlsPolicy: mail.NoTLS}},
		{"smtp://[::1]:1025", endpoint{host: "::1", port: 1025, tlsPolicy: mail.NoTLS}},
		{"smtp://relay.example.org", endpoint{host: "relay.example.org", port: 25, tlsPolicy: mail.TLSOpportunistic}},
		{"smtp://10.0.0.5:2525", endpoint{host: "10.0.0.5", port: 2525, tlsPolicy: mail.TLSOpportunistic}},
		{"smtp://localhost?tls=starttls", endpoint{host: "localhost", port: 25, tlsPolicy: mail.TLSOpportunistic}},
		{"smtp://relay.example.org?tls=none", endpoint{host: "relay.example.org", port: 25, tlsPolicy: mail.NoTLS}},
		{"smtp://u:p@relay.example.org:587?tls=mandatory", endpoint{
			host: "relay.example.org", port: 587, tlsPolicy: mail.TLSMandatory,
			user: "u", pass: "p", auth: mail.SMTPAuthPlain,
		}},
		{"smtps://u:p%3Aw@smtp.example.org?auth=cram-md5", endpoint{
			host: "smtp.example.org", port: 465, implicitTLS: true, tlsPolicy: mail.NoTLS,
			user: "u", pass: "p:w", auth: mail.SMTPAuthCramMD5,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, _, err := parseEndpoint(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(endpoint{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
