package mailer

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxConns        = 4
	DefaultMessagesPerConn = 1000
	DefaultTimeout         = 30 * time.Second
	DefaultIdleTimeout     = 30 * time.Second
)

// Config says where and how to deliver.
//
// URL is smtp://[user:pass@]host[:port] (port 25 by default) or
// smtps://[user:pass@]host[:port] (TLS from the first byte, port 465 by
// default), with optional query parameters:
//
//	tls=none|starttls|mandatory  smtp:// only. none: never encrypt.
//	                             starttls: STARTTLS when the server offers
//	                             it, plain text when it does not.
//	                             mandatory: STARTTLS or refuse to send.
//	                             Default: none for localhost and loopback
//	                             addresses (a local relay or the capture
//	                             server), starttls for every other host.
//	auth=plain|login|cram-md5|scram-sha-1|scram-sha-256
//	                             Mechanism for the user and password in the
//	                             URL; plain by default. PLAIN and LOGIN
//	                             credentials are only ever sent over TLS or
//	                             to a loopback host.
//	max_conns, messages_per_conn, timeout, idle_timeout, helo
//	                             The fields below, for a URL that carries
//	                             the whole setup (timeouts as Go durations,
//	                             e.g. 30s). A non-zero field wins over its
//	                             parameter.
//	weight, rate, rate_hour      The relay's share and pace in a set of
//	                             relays: see ParseRelays.
//
// The TLS policy is always set explicitly: go-mail's own default refuses
// relays that do not offer STARTTLS.
type Config struct {
	URL             string
	MaxConns        int // connections open at once; default 4
	MessagesPerConn int // reconnect after this many messages; default 1000
	// Timeout bounds connection setup, and every write and every wait for
	// a reply of a message's exchange, the reply to its final dot included
	// (RFC 5321 lets a relay take 10 minutes over that one); no reply to the
	// final dot within it makes the message StatusUnknown. Default 30s.
	Timeout     time.Duration
	IdleTimeout time.Duration // an idle connection older than this is replaced, not reused; default 30s
	HeloName    string        // name sent in EHLO; default: the local host name
}

// String shows the configuration with the password redacted.
func (c Config) String() string {
	return fmt.Sprintf("url=%s max_conns=%d messages_per_conn=%d timeout=%s idle_timeout=%s helo=%q",
		redactURL(c.URL), c.MaxConns, c.MessagesPerConn, c.Timeout, c.IdleTimeout, c.HeloName)
}

// LogValue logs the configuration with the password redacted.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURL(c.URL)),
		slog.Int("max_conns", c.MaxConns),
		slog.Int("messages_per_conn", c.MessagesPerConn),
		slog.Duration("timeout", c.Timeout),
		slog.Duration("idle_timeout", c.IdleTimeout),
		slog.String("helo", c.HeloName),
	)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Redacted()
}

// ParseURL reads a relay URL (see Config) into a Config with every default
// filled in. Errors say what is wrong and never repeat the password.
func ParseURL(raw string) (Config, error) {
	_, q, err := parseEndpoint(raw)
	if err != nil {
		return Config{}, err
	}
	cfg := Config{
		URL:             raw,
		MaxConns:        DefaultMaxConns,
		MessagesPerConn: DefaultMessagesPerConn,
		Timeout:         DefaultTimeout,
		IdleTimeout:     DefaultIdleTimeout,
	}
	for key, values := range q {
		if len(values) != 1 {
			return Config{}, urlError("parameter %q is given %d times", key, len(values))
		}
		v := values[0]
		switch key {
		case "tls", "auth":
			// read by parseEndpoint
		case "weight", "rate", "rate_hour":
			// the relay's place in a set: read by ParseRelays
		case "max_conns":
			if cfg.MaxConns, err = positiveInt(key, v); err != nil {
				return Config{}, err
			}
		case "messages_per_conn":
			if cfg.MessagesPerConn, err = positiveInt(key, v); err != nil {
				return Config{}, err
			}
		case "timeout":
			if cfg.Timeout, err = positiveDuration(key, v); err != nil {
				return Config{}, err
			}
		case "idle_timeout":
			if cfg.IdleTimeout, err = positiveDuration(key, v); err != nil {
				return Config{}, err
			}
		case "helo":
			if err := checkHelo(v); err != nil {
				return Config{}, err
			}
			cfg.HeloName = v
		default:
			return Config{}, urlError("unknown parameter %q (known: tls, auth, max_conns, messages_per_conn, timeout, idle_timeout, helo, weight, rate, rate_hour)", key)
		}
	}
	return cfg, nil
}

// endpoint is the part of the URL that says how to reach and talk to the
// relay.
type endpoint struct {
	host        string
	port        int
	implicitTLS bool
	tlsPolicy   mail.TLSPolicy
	user, pass  string
	auth        mail.SMTPAuthType
}

var authTypes = map[string]mail.SMTPAuthType{
	"plain":         mail.SMTPAuthPlain,
	"login":         mail.SMTPAuthLogin,
	"cram-md5":      mail.SMTPAuthCramMD5,
	"scram-sha-1":   mail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": mail.SMTPAuthSCRAMSHA256,
}

func parseEndpoint(raw string) (endpoint, url.Values, error) {
	if strings.TrimSpace(raw) == "" {
		return endpoint{}, nil, errors.New("mailer: SMTP URL is empty; want smtp://host:port or smtps://host:port")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// the reason.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return endpoint{}, nil, urlError("not a valid URL: %v", err)
	}
	var ep endpoint
	switch u.Scheme {
	case "smtp":
		ep.port = 25
	case "smtps":
		ep.port, ep.implicitTLS = 465, true
	default:
		return endpoint{}, nil, urlError("scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" {
		return endpoint{}, nil, urlError("want %s://host:port, with the two slashes", u.Scheme)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		return endpoint{}, nil, urlError("host is missing")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return endpoint{}, nil, urlError("port %q: want a number from 1 to 65535", p)
		}
		ep.port = n
	}
	if u.Path != "" && u.Path != "/" {
		return endpoint{}, nil, urlError("unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return endpoint{}, nil, urlError("unexpected fragment #%s", u.Fragment)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return endpoint{}, nil, urlError("query: %v", err)
	}

	switch tlsParam := q.Get("tls"); {
	case ep.implicitTLS:
		if q.Has("tls") {
			return endpoint{}, nil, urlError("tls=%s: smtps is TLS from the start; use smtp:// with tls= for STARTTLS", tlsParam)
		}
		// TLS is set up by the dialer; nothing to negotiate on top of it.
		ep.tlsPolicy = mail.NoTLS
	case tlsParam == "" && !q.Has("tls"):
		ep.tlsPolicy = mail.TLSOpportunistic
		if isLoopback(ep.host) {
			ep.tlsPolicy = mail.NoTLS
		}
	case tlsParam == "none":
		ep.tlsPolicy = mail.NoTLS
	case tlsParam == "starttls":
		ep.tlsPolicy = mail.TLSOpportunistic
	case tlsParam == "mandatory":
		ep.tlsPolicy = mail.TLSMandatory
	default:
		return endpoint{}, nil, urlError("tls=%s: want none, starttls or mandatory", tlsParam)
	}

	if u.User != nil {
		ep.user = u.User.Username()
		pass, ok := u.User.Password()
		if ep.user == "" {
			return endpoint{}, nil, urlError("user name is empty")
		}
		if !ok {
			return endpoint{}, nil, urlError("user %q has no password; want user:password@host", ep.user)
		}
		ep.pass = pass
		ep.auth = mail.SMTPAuthPlain
	}
	if q.Has("auth") {
		name := q.Get("auth")
		t, ok := authTypes[name]
		if !ok {
			return endpoint{}, nil, urlError("auth=%s: want plain, login, cram-md5, scram-sha-1 or scram-sha-256", name)
		}
		if u.User == nil {
			return endpoint{}, nil, urlError("auth=%s but no user:password@ in the URL", name)
		}
		ep.auth = t
	}
	return ep, q, nil
}

func urlError(format string, args ...any) error {
	return fmt.Errorf("mailer: SMTP URL: "+format, args...)
}

func positiveInt(key, v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, urlError("%s=%s: want a whole number of at least 1", key, v)
	}
	return n, nil
}

func positiveDuration(key, v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, urlError("%s=%s: want a positive duration such as 30s", key, v)
	}
	return d, nil
}

func checkHelo(name string) error {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f }) {
		return fmt.Errorf("mailer: HELO name %q: want a host name without spaces or control characters", name)
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
