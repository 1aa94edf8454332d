// Package config reads dearfriend's settings from DEARFRIEND_* environment
// variables into a typed Config and validates them with sentences a person can
// act on. It owns defaults and redaction; it must not open connections or read
// files.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Mode says which parts of the system a process runs.
type Mode string

// The modes: dev is everything in one process, embedded; serve is HTTP (API,
// tracking, pages); worker is the asynq server that sends; inbound is the
// SMTP server of the bounce domain (pkg/inbound).
const (
	ModeDev     Mode = "dev"
	ModeServe   Mode = "serve"
	ModeWorker  Mode = "worker"
	ModeInbound Mode = "inbound"
)

// ServesHTTP reports whether the mode runs the HTTP server (dev, serve).
func (m Mode) ServesHTTP() bool { return m == ModeDev || m == ModeServe }

// Sends reports whether the mode runs the sending worker (dev, worker).
func (m Mode) Sends() bool { return m == ModeDev || m == ModeWorker }

// Receives reports whether the mode runs the inbound SMTP server (dev, inbound).
func (m Mode) Receives() bool { return m == ModeDev || m == ModeInbound }

// Config is the whole configuration of one process.
type Config struct {
	Mode Mode

	HTTPAddr    string // DEARFRIEND_HTTP_ADDR
	PublicURL   string // DEARFRIEND_PUBLIC_URL: base of links in emails; empty means http:// and the address listened on
	DatabaseURL string // DEARFRIEND_DATABASE_URL: postgres://… or a SQLite file path
	RedisURL    string // DEARFRIEND_REDIS_URL: empty in dev mode means an in-process Redis; a Sentinel or Cluster address too (ParseRedisURL)
	Queue       string // DEARFRIEND_QUEUE: asynq queue name (doubles as a key prefix per deployment)
	SMTPURL     string // DEARFRIEND_SMTP_URL: empty in dev mode means the built-in capture server
	DevSMTPAddr string // DEARFRIEND_DEV_SMTP_ADDR: where the capture server listens

	APIToken string // DEARFRIEND_API_TOKEN: empty means generated once and kept in the database
	Secret   string // DEARFRIEND_SECRET: HMAC key for tracking tokens; empty means generated once and kept
	// PreviousSecret is still accepted when verifying tokens, so the key can be rotated.
	PreviousSecret string // DEARFRIEND_PREVIOUS_SECRET

	OrgName           string // DEARFRIEND_ORG_NAME
	PostalAddress     string // DEARFRIEND_POSTAL_ADDRESS: required by CAN-SPAM, shown in every footer
	FromName          string // DEARFRIEND_FROM_NAME: default sender of new messages
	FromEmail         string // DEARFRIEND_FROM_EMAIL
	UnsubscribeMailto string // DEARFRIEND_UNSUBSCRIBE_MAILTO: address for the mailto List-Unsubscribe
	// OrgShortName is the organization's field of the Feedback-ID header,
	// by which Gmail's postmaster tools group complaints.
	OrgShortName string // DEARFRIEND_ORG_SHORT_NAME: default ORG_NAME in lower case, words joined by "-"

	// DKIM signing: all three, or none for unsigned mail.
	DKIMDomain   string // DEARFRIEND_DKIM_DOMAIN: d=, the From domain or a parent of it
	DKIMSelector string // DEARFRIEND_DKIM_SELECTOR: s=, the key's DNS record is <selector>._domainkey.<domain>
	DKIMKeyFile  string // DEARFRIEND_DKIM_KEY_FILE: PEM private key, RSA of 2048 bits or more, or Ed25519
	// BounceDomain turns on VERP: the envelope sender of each message is
	// bounce+<token>@BounceDomain, so a bounce names the send it answers.
	BounceDomain string // DEARFRIEND_BOUNCE_DOMAIN
	// InboundAddr is where the inbound SMTP server (dev and inbound modes)
	// listens for bounces, feedback-loop reports and mailto unsubscribes.
	InboundAddr string // DEARFRIEND_INBOUND_ADDR: default :2525 (inbound), 127.0.0.1:2526 (dev)
	// FBLAddress takes feedback-loop complaints (ARF) on the inbound server.
	FBLAddress string // DEARFRIEND_FBL_ADDRESS: default fbl@<bounce domain>
	// InboundConns bounds the inbound server's sessions at once; one more
	// is answered 421.
	InboundConns int // DEARFRIEND_INBOUND_CONNS: default 100

	BatchSize       int           // DEARFRIEND_BATCH_SIZE: recipients per send task
	Concurrency     int           // DEARFRIEND_WORKERS: send tasks processed at once per worker process
	SMTPConns       int           // DEARFRIEND_SMTP_CONNS: open SMTP connections per worker process
	MaxAttempts     int           // DEARFRIEND_MAX_ATTEMPTS: tries per recipient before it is marked failed
	ShutdownTimeout time.Duration // DEARFRIEND_SHUTDOWN_TIMEOUT: a Go duration (or whole seconds), default 30s
	// SweepInterval is how often serve and dev start due scheduled campaigns
	// and enqueue again what the ledger says is left (delivery.Dispatcher.Sweep).
	SweepInterval time.Duration // DEARFRIEND_SWEEP_INTERVAL: a Go duration, default 30s
	// CommitLinger is how long a worker's committer lets an outcome wait for
	// others to share its statement, when not every sender waits on it.
	CommitLinger time.Duration // DEARFRIEND_COMMIT_LINGER: a Go duration, default 20ms

	// MaxRetryAge fails a deferred recipient first tried longer ago than
	// this, whatever its attempts (throttled ones included).
	MaxRetryAge time.Duration // DEARFRIEND_MAX_RETRY_AGE: a Go duration, default 24h
	// MetricsAddr is a listener for GET /metrics alone; serve and dev also
	// answer /metrics on DEARFRIEND_HTTP_ADDR. Empty: none (a worker then
	// has no metrics endpoint).
	MetricsAddr string // DEARFRIEND_METRICS_ADDR
	// MetricsToken, when set, is the bearer token GET /metrics requires
	// wherever it is served.
	MetricsToken string // DEARFRIEND_METRICS_TOKEN
	// DB is the database connection pool (ops.go).
	DB Pool
	// Pprof adds Go's profiler (/debug/pprof/) to the metrics listener,
	// which it needs: never to the public HTTP server.
	Pprof bool // DEARFRIEND_PPROF: default false

	Seed bool // DEARFRIEND_SEED: seed demo data on an empty database (dev default true)

	// Petition sign posts allowed per client address and minute (a burst of
	// as many, refilled evenly); 0 turns the limit off.
	SignRate int // DEARFRIEND_SIGN_RATE: default 10
	// TrustProxy takes the client address from the last X-Forwarded-For entry:
	// set it only behind a proxy that appends it, or anyone can pick an address.
	TrustProxy bool // DEARFRIEND_TRUST_PROXY: default false
	// ConfirmAbove is the audience size over which the admin UI asks the
	// organizer to type the number of recipients before sending.
	ConfirmAbove int // DEARFRIEND_CONFIRM_ABOVE: default 1000
	// TimeZone is the organization's IANA time zone, the admin UI's default
	// for a schedule; empty takes each organizer's browser's.
	TimeZone string // DEARFRIEND_TIME_ZONE: default empty
	// AllowHTTP lets serve and worker start with an http:// (or no) public
	// URL, for a private test; production links are https.
	AllowHTTP bool // DEARFRIEND_ALLOW_HTTP: default false

	// Sending services' webhooks (serve and dev): each is on when its
	// settings are set.
	SESTopicARNs     []string      // DEARFRIEND_SES_TOPIC_ARNS: comma-separated SNS topic ARNs; POST /hooks/ses
	SendGridKey      string        // DEARFRIEND_SENDGRID_WEBHOOK_KEY: the Signed Event Webhook's verification key (base64 DER); POST /hooks/sendgrid
	PostmarkUser     string        // DEARFRIEND_POSTMARK_WEBHOOK_USER: basic auth of POST /hooks/postmark, with the password
	PostmarkPassword string        // DEARFRIEND_POSTMARK_WEBHOOK_PASSWORD: at least 16 characters
	MailgunKey       string        // DEARFRIEND_MAILGUN_SIGNING_KEY: the HTTP webhook signing key; POST /hooks/mailgun
	HookMaxAge       time.Duration // DEARFRIEND_HOOK_MAX_AGE: SendGrid's and Mailgun's replay window, default 10m
	// Feedback is the policy for bounces and complaints, and the
	// reputation guard's thresholds (feedback.go).
	Feedback Feedback
}

// FromEnv builds the config of mode from getenv (os.Getenv in main, a map in tests).
func FromEnv(mode Mode, getenv func(string) string) (Config, error) {
	get := func(key, def string) string {
		if v := strings.TrimSpace(getenv("DEARFRIEND_" + key)); v != "" {
			return v
		}
		return def
	}
	var errList []error
	num := func(key string, def int) int {
		raw := get(key, "")
		if raw == "" {
			return def
		}
		n, err := strconv.Atoi(raw)
		if err != nil {
			errList = append(errList, fmt.Errorf("DEARFRIEND_%s must be a whole number, got %q", key, raw))
		}
		return n
	}
	c := Config{
		Mode:              mode,
		HTTPAddr:          get("HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:         get("PUBLIC_URL", ""),
		AllowHTTP:         get("ALLOW_HTTP", "") == "1" || get("ALLOW_HTTP", "") == "true",
		DatabaseURL:       get("DATABASE_URL", ""),
		RedisURL:          get("REDIS_URL", ""),
		Queue:             get("QUEUE", "dearfriend"),
		SMTPURL:           get("SMTP_URL", ""),
		DevSMTPAddr:       get("DEV_SMTP_ADDR", "127.0.0.1:2525"),
		APIToken:          get("API_TOKEN", ""),
		Secret:            get("SECRET", ""),
		PreviousSecret:    get("PREVIOUS_SECRET", ""),
		OrgName:           get("ORG_NAME", DemoOrgName),
		PostalAddress:     get("POSTAL_ADDRESS", ""),
		FromName:          get("FROM_NAME", DemoFromName),
		FromEmail:         get("FROM_EMAIL", DemoFromEmail),
		UnsubscribeMailto: get("UNSUBSCRIBE_MAILTO", ""),
		OrgShortName:      get("ORG_SHORT_NAME", ""),
		DKIMDomain:        strings.ToLower(get("DKIM_DOMAIN", "")),
		DKIMSelector:      get("DKIM_SELECTOR", ""),
		DKIMKeyFile:       get("DKIM_KEY_FILE", ""),
		BounceDomain:      strings.ToLower(get("BOUNCE_DOMAIN", "")),
		FBLAddress:        strings.ToLower(get("FBL_ADDRESS", "")),
		InboundConns:      num("INBOUND_CONNS", 100),
		BatchSize:         num("BATCH_SIZE", 250),
		Concurrency:       num("WORKERS", 8),
		SMTPConns:         num("SMTP_CONNS", 8),
		MaxAttempts:       num("MAX_ATTEMPTS", 5),
		Seed:              get("SEED", strconv.FormatBool(mode == ModeDev)) == "true",
		SignRate:          num("SIGN_RATE", 10),
		TrustProxy:        get("TRUST_PROXY", "false") == "true",
		ConfirmAbove:      num("CONFIRM_ABOVE", 1000),
		TimeZone:          get("TIME_ZONE", ""),
	}
	errList = append(errList, c.opsFromEnv(get, num)...)
	retryAge, err := time.ParseDuration(get("MAX_RETRY_AGE", "24h"))
	if err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_MAX_RETRY_AGE must be a duration like 24h or 90m, got %q", get("MAX_RETRY_AGE", "")))
	}
	c.MaxRetryAge = retryAge
	c.MetricsAddr = get("METRICS_ADDR", "")
	if c.Pprof, err = strconv.ParseBool(get("PPROF", "false")); err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_PPROF must be true or false (or 1 or 0), got %q", get("PPROF", "")))
	}
	sweep, err := time.ParseDuration(get("SWEEP_INTERVAL", "30s"))
	if err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_SWEEP_INTERVAL must be a duration like 30s or 500ms, got %q", get("SWEEP_INTERVAL", "")))
	}
	c.SweepInterval = sweep
	for _, arn := range strings.Split(get("SES_TOPIC_ARNS", ""), ",") {
		if arn = strings.TrimSpace(arn); arn != "" {
			c.SESTopicARNs = append(c.SESTopicARNs, arn)
		}
	}
	c.SendGridKey = get("SENDGRID_WEBHOOK_KEY", "")
	c.PostmarkUser = get("POSTMARK_WEBHOOK_USER", "")
	c.PostmarkPassword = get("POSTMARK_WEBHOOK_PASSWORD", "")
	c.MailgunKey = get("MAILGUN_SIGNING_KEY", "")
	if c.HookMaxAge, err = time.ParseDuration(get("HOOK_MAX_AGE", "10m")); err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_HOOK_MAX_AGE must be a duration like 10m, got %q", get("HOOK_MAX_AGE", "")))
	}
	if c.CommitLinger, err = time.ParseDuration(get("COMMIT_LINGER", "20ms")); err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_COMMIT_LINGER must be a duration like 2ms or 500us, got %q", get("COMMIT_LINGER", "")))
	}
	fb, fbErrs := feedbackFromEnv(get, num)
	c.Feedback, errList = fb, append(errList, fbErrs...)
	if mode == ModeDev {
		if c.DatabaseURL == "" {
			c.DatabaseURL = "./data/dearfriend.db"
		}
		if c.PostalAddress == "" {
			c.PostalAddress = DemoPostalAddress
		}
		if c.BounceDomain == "" {
			// The whole loop back works embedded: messages carry a VERP
			// sender, and a report mailed to it reaches the inbound server.
			c.BounceDomain = DevBounceDomain
		}
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.InboundAddr = get("INBOUND_ADDR", ":2525")
	if mode == ModeDev {
		c.InboundAddr = get("INBOUND_ADDR", "127.0.0.1:2526")
	}
	if c.FBLAddress == "" && c.BounceDomain != "" {
		c.FBLAddress = "fbl@" + c.BounceDomain
	}
	if c.UnsubscribeMailto == "" {
		if _, domain, ok := strings.Cut(c.FromEmail, "@"); ok {
			c.UnsubscribeMailto = "unsubscribe@" + domain
		}
	}
	if c.OrgShortName == "" {
		c.OrgShortName = shortName(c.OrgName)
	}
	if len(errList) > 0 {
		return c, errors.Join(errList...)
	}
	return c, c.Validate()
}

// DevBounceDomain is the bounce domain of dev mode when none is set.
const DevBounceDomain = "bounces.localhost"

// shortName makes an organization's name into a Feedback-ID field: "Friends
// of the Earth" gives "friends-of-the-earth".
func shortName(name string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(strings.ToLower(name), func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9')
	}) {
		if b.Len()+len(word) >= 40 {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(word)
	}
	if b.Len() == 0 {
		return "org"
	}
	return b.String()
}

// isDomain reports whether s is a DNS name of at least two labels, in
// letters, digits, hyphens and underscores.
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if !isLabel(l) {
			return false
		}
	}
	return true
}

func isLabel(l string) bool {
	if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for i := 0; i < len(l); i++ {
		if c := l[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// validateSigning checks the DKIM, VERP and Feedback-ID settings. The key
// file is read and checked when the worker starts.
func (c Config) validateSigning(bad func(format string, args ...any)) {
	if c.OrgShortName != "" && (len(c.OrgShortName) > 40 || strings.Trim(c.OrgShortName, "abcdefghijklmnopqrstuvwxyz0123456789-._") != "") {
		bad("DEARFRIEND_ORG_SHORT_NAME must be at most 40 lower-case letters, digits, '-', '.' or '_' (it goes into the Feedback-ID header), got %q", c.OrgShortName)
	}
	dkim := map[string]string{"DEARFRIEND_DKIM_DOMAIN": c.DKIMDomain, "DEARFRIEND_DKIM_SELECTOR": c.DKIMSelector, "DEARFRIEND_DKIM_KEY_FILE": c.DKIMKeyFile}
	var missing []string
	for _, name := range []string{"DEARFRIEND_DKIM_DOMAIN", "DEARFRIEND_DKIM_SELECTOR", "DEARFRIEND_DKIM_KEY_FILE"} {
		if dkim[name] == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 && len(missing) < 3 {
		bad("DKIM signing needs DEARFRIEND_DKIM_DOMAIN, DEARFRIEND_DKIM_SELECTOR and DEARFRIEND_DKIM_KEY_FILE together; missing %s", strings.Join(missing, " and "))
	}
	if c.DKIMDomain != "" {
		_, from, _ := strings.Cut(strings.ToLower(c.FromEmail), "@")
		switch {
		case !isDomain(c.DKIMDomain):
			bad("DEARFRIEND_DKIM_DOMAIN must be a domain name like example.org, got %q", c.DKIMDomain)
		case from != "" && from != c.DKIMDomain && !strings.HasSuffix(from, "."+c.DKIMDomain) && !strings.HasSuffix(c.DKIMDomain, "."+from):
			bad("DEARFRIEND_DKIM_DOMAIN %s does not align with the domain of DEARFRIEND_FROM_EMAIL (%s): DMARC wants the signing domain to be the From domain, a parent or a subdomain of it", c.DKIMDomain, from)
		}
	}
	if c.DKIMSelector != "" {
		ok := true
		for _, l := range strings.Split(c.DKIMSelector, ".") {
			ok = ok && isLabel(l)
		}
		if !ok {
			bad("DEARFRIEND_DKIM_SELECTOR must be a DNS label like dearfriend2026 (its record is <selector>._domainkey.<domain>), got %q", c.DKIMSelector)
		}
	}
	if c.BounceDomain != "" && !isDomain(c.BounceDomain) {
		bad("DEARFRIEND_BOUNCE_DOMAIN must be a domain name like bounces.example.org, got %q", c.BounceDomain)
	}
}

// validateInbound checks the settings of the inbound SMTP server.
func (c Config) validateInbound(bad func(format string, args ...any)) {
	if c.Mode == ModeInbound && c.BounceDomain == "" {
		bad("DEARFRIEND_BOUNCE_DOMAIN is required for inbound: the server takes the bounces sent to bounce+<token>@ that domain, like bounces.example.org")
	}
	if !c.Mode.Receives() {
		return
	}
	if _, _, err := net.SplitHostPort(c.InboundAddr); err != nil {
		bad("DEARFRIEND_INBOUND_ADDR must be host:port, like :2525 or 127.0.0.1:2526, got %q", c.InboundAddr)
	}
	if _, err := mail.ParseAddress(c.FBLAddress); c.FBLAddress != "" && err != nil {
		bad("DEARFRIEND_FBL_ADDRESS must be an email address, like fbl@bounces.example.org, got %q", c.FBLAddress)
	}
	if c.InboundConns < 1 || c.InboundConns > 100000 {
		bad("DEARFRIEND_INBOUND_CONNS must be between 1 and 100000, got %d", c.InboundConns)
	}
}

// Validate reports every problem at once, each as a sentence.
func (c Config) Validate() error {
	var errList []error
	bad := func(format string, args ...any) { errList = append(errList, fmt.Errorf(format, args...)) }
	switch c.Mode {
	case ModeDev, ModeServe, ModeWorker, ModeInbound:
	default:
		bad("mode must be dev, serve, worker or inbound, got %q", c.Mode)
	}
	c.validateInbound(bad)
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("DEARFRIEND_HTTP_ADDR must be host:port, like 127.0.0.1:8080, got %q", c.HTTPAddr)
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad("DEARFRIEND_PUBLIC_URL must be an http(s) URL, like https://act.example.org, got %q", c.PublicURL)
	}
	if c.DatabaseURL == "" {
		bad("DEARFRIEND_DATABASE_URL is required: postgres://user@host/db or a SQLite file path")
	} else if strings.Contains(c.DatabaseURL, "://") && !IsPostgres(c.DatabaseURL) {
		bad("DEARFRIEND_DATABASE_URL takes postgres://… or a SQLite file path, got a %q URL", strings.SplitN(c.DatabaseURL, "://", 2)[0])
	}
	if c.Mode != ModeDev && c.RedisURL == "" {
		bad("DEARFRIEND_REDIS_URL is required outside dev mode, like redis://127.0.0.1:6379/0")
	}
	if c.RedisURL != "" {
		if _, err := ParseRedisURL(c.RedisURL); err != nil {
			bad("DEARFRIEND_REDIS_URL %v", err)
		}
	}
	if c.Mode == ModeWorker && c.SMTPURL == "" {
		bad("DEARFRIEND_SMTP_URL is required for a worker, like smtp://user:pass@relay:587?tls=starttls")
	}
	if c.Mode != ModeDev && c.Secret == "" {
		bad("DEARFRIEND_SECRET is required outside dev mode: every serve and worker process must sign tracking links with the same key")
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		bad("DEARFRIEND_SECRET must be at least 32 characters")
	}
	if (c.Mode == ModeServe || c.Mode == ModeWorker) && c.PostalAddress == "" {
		bad("DEARFRIEND_POSTAL_ADDRESS is required: the law (CAN-SPAM) wants a postal address in every email footer")
	}
	if _, err := mail.ParseAddress(c.FromEmail); err != nil {
		bad("DEARFRIEND_FROM_EMAIL must be an email address, got %q", c.FromEmail)
	}
	if c.Queue == "" || strings.ContainsAny(c.Queue, " :{}") {
		bad("DEARFRIEND_QUEUE must be a plain name without spaces, colons or braces, got %q", c.Queue)
	}
	c.validateSigning(bad)
	c.validateHooks(bad)
	c.validateOps(bad)
	c.validateProduction(bad)
	c.Feedback.validate(bad)
	for name, n := range map[string]int{"BATCH_SIZE": c.BatchSize, "WORKERS": c.Concurrency, "SMTP_CONNS": c.SMTPConns, "MAX_ATTEMPTS": c.MaxAttempts} {
		if n < 1 || n > 100000 {
			bad("DEARFRIEND_%s must be between 1 and 100000, got %d", name, n)
		}
	}
	if c.MaxRetryAge < time.Minute || c.MaxRetryAge > 30*24*time.Hour {
		bad("DEARFRIEND_MAX_RETRY_AGE must be between 1m and 720h, got %s", c.MaxRetryAge)
	}
	if c.Pprof && c.MetricsAddr == "" {
		bad("DEARFRIEND_PPROF serves the profiler on the metrics listener only: set DEARFRIEND_METRICS_ADDR too, like 127.0.0.1:9090")
	}
	if _, _, err := net.SplitHostPort(c.MetricsAddr); c.MetricsAddr != "" && err != nil {
		bad("DEARFRIEND_METRICS_ADDR must be host:port, like 127.0.0.1:9090, got %q", c.MetricsAddr)
	}
	if c.CommitLinger <= 0 || c.CommitLinger > time.Second {
		bad("DEARFRIEND_COMMIT_LINGER must be more than 0 and at most 1s, got %s", c.CommitLinger)
	}
	if c.SweepInterval < 100*time.Millisecond || c.SweepInterval > time.Hour {
		bad("DEARFRIEND_SWEEP_INTERVAL must be between 100ms and 1h, got %s", c.SweepInterval)
	}
	if c.SignRate < 0 || c.SignRate > 1000000 {
		bad("DEARFRIEND_SIGN_RATE must be between 0 (no limit) and 1000000 sign posts per address and minute, got %d", c.SignRate)
	}
	if c.ConfirmAbove < 0 {
		bad("DEARFRIEND_CONFIRM_ABOVE must be 0 (always ask) or more recipients, got %d", c.ConfirmAbove)
	}
	if c.TimeZone != "" {
		if _, err := time.LoadLocation(c.TimeZone); err != nil || c.TimeZone == "Local" {
			bad("DEARFRIEND_TIME_ZONE must be an IANA time zone like America/New_York, got %q", c.TimeZone)
		}
	}
	return errors.Join(errList...)
}

// IsPostgres reports whether a database URL names PostgreSQL rather than a SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Redact hides the password of a URL so it can be printed.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// String prints the config with secrets hidden.
func (c Config) String() string {
	hide := func(s string) string {
		if s == "" {
			return "(generated)"
		}
		return "(set)"
	}
	s := fmt.Sprintf("mode=%s http=%s public=%s database=%s redis=%s smtp=%s api_token=%s secret=%s hooks=%s",
		c.Mode, c.HTTPAddr, c.PublicURL, Redact(c.DatabaseURL), orDefault(redactRedis(c.RedisURL), "(in-process)"),
		Redact(orDefault(c.SMTPURL, "(capture "+c.DevSMTPAddr+")")), hide(c.APIToken), hide(c.Secret), orDefault(strings.Join(c.Hooks(), ","), "(none)"))
	if c.Mode.Receives() {
		s += " inbound=" + c.InboundAddr + " bounce_domain=" + c.BounceDomain
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
