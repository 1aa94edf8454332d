package webhook

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Check makes the webhook a person asked for, as the API and the admin UI
// take it: an absolute http(s) URL, at least one of Events, and a secret of
// 16 to 200 characters, generated when empty. The error names the field.
func Check(rawURL string, events []string, secret string) (*store.Webhook, error) {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(rawURL) > 2000 {
		return nil, errs.Field("url", "must be an absolute http or https URL")
	}
	if len(events) == 0 {
		return nil, errs.Field("events", "name at least one of %s", strings.Join(Events, ", "))
	}
	for i, e := range events {
		if !slices.Contains(Events, e) {
			return nil, errs.Field(fmt.Sprintf("events[%d]", i), "unknown event %q; known: %s", e, strings.Join(Events, ", "))
		}
	}
	if secret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		secret = hex.EncodeToString(b)
	} else if len(secret) < 16 || len(secret) > 200 {
		return nil, errs.Field("secret", "16 to 200 characters, or leave it out to get a generated one")
	}
	return &store.Webhook{URL: u.String(), Events: slices.Compact(slices.Sorted(slices.Values(events))), Secret: secret}, nil
}
