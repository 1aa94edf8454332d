package config

import (
	"net/url"
	"strings"
)

// The demo's sender identity: the defaults of dev mode, which a serve or
// worker process refuses, so that production mail never goes out in the
// name of an organization that does not exist.
const (
	DemoOrgName       = "Northfork River Alliance"
	DemoFromName      = "Maya Ortiz, Campaigns Director"
	DemoFromEmail     = "action@example.org"
	DemoPostalAddress = "1629 K Street NW, Suite 300, Washington, DC 20006"
)

// exampleDomains are reserved for documentation (RFC 2606): mail from them
// is the demo's, or a copy-paste from the docs.
var exampleDomains = []string{"example.org", "example.com", "example.net"}

func isExampleAddress(addr string) bool {
	_, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	for _, d := range exampleDomains {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}

// validateProduction refuses, for serve and worker, the demo's sender
// identity and a public URL that is not https (unless DEARFRIEND_ALLOW_HTTP
// says this is a private test). dev keeps its demo defaults.
func (c Config) validateProduction(bad func(format string, args ...any)) {
	if c.Mode != ModeServe && c.Mode != ModeWorker {
		return
	}
	if c.OrgName == DemoOrgName {
		bad("DEARFRIEND_ORG_NAME is the demo's (%q): set your organization's name, which every email's footer shows", DemoOrgName)
	}
	if c.FromName == DemoFromName {
		bad("DEARFRIEND_FROM_NAME is the demo's (%q): set the sender name new messages start with", DemoFromName)
	}
	if isExampleAddress(c.FromEmail) {
		bad("DEARFRIEND_FROM_EMAIL is %q, at a domain reserved for examples: set the address your mail comes from, at a domain you control", c.FromEmail)
	} else if isExampleAddress(c.UnsubscribeMailto) {
		bad("DEARFRIEND_UNSUBSCRIBE_MAILTO is %q, at a domain reserved for examples: set an address whose mail you read, or leave it unset for unsubscribe@ the From domain", c.UnsubscribeMailto)
	}
	if c.PostalAddress == DemoPostalAddress {
		bad("DEARFRIEND_POSTAL_ADDRESS is the demo's: set your organization's postal address, which the law wants in every footer")
	}
	if c.AllowHTTP {
		return
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL == "" || err != nil || u.Scheme != "https" {
		bad("DEARFRIEND_PUBLIC_URL must be an https:// URL, like https://act.example.org, got %q: every link and the one-click unsubscribe of your emails start with it (DEARFRIEND_ALLOW_HTTP=1 allows http for a private test)", c.PublicURL)
	}
}
