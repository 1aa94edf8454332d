package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// RedisKind says how DEARFRIEND_REDIS_URL reaches Redis.
type RedisKind string

// The kinds: one server; a master found through Redis Sentinel, which
// follows a failover; a Redis Cluster, whose nodes tell where each key lives.
const (
	RedisSingle   RedisKind = "single"
	RedisSentinel RedisKind = "sentinel"
	RedisCluster  RedisKind = "cluster"
)

// Redis is DEARFRIEND_REDIS_URL parsed. It names servers and credentials;
// pkg/app turns it into go-redis's and asynq's own options for the kind.
type Redis struct {
	Kind RedisKind
	// Addrs is host:port of the server (single), of every sentinel
	// (sentinel), or of the nodes to learn the cluster from (cluster).
	Addrs []string
	// Master is the name the sentinels monitor the master under.
	Master string
	// Username and Password are the Redis servers' (the master and its
	// replicas, or the cluster's nodes).
	Username, Password string
	// SentinelUsername and SentinelPassword are the sentinels' own, when
	// they ask for one (requirepass in sentinel.conf).
	SentinelUsername, SentinelPassword string
	DB                                 int
	TLS                                bool
}

// redisSchemes maps each scheme to its kind and whether it speaks TLS.
var redisSchemes = map[string]struct {
	kind RedisKind
	tls  bool
}{
	"redis": {RedisSingle, false}, "rediss": {RedisSingle, true},
	"redis-sentinel": {RedisSentinel, false}, "rediss-sentinel": {RedisSentinel, true},
	"redis-cluster": {RedisCluster, false}, "rediss-cluster": {RedisCluster, true},
}

// ParseRedisURL reads DEARFRIEND_REDIS_URL, one of
//
//	redis[s]://[[user]:password@]host:port[/db]
//	redis[s]-sentinel://[[user]:password@]host:port[,host:port…]/master-name[/db][?sentinel_password=…&sentinel_username=…]
//	redis[s]-cluster://[[user]:password@]host:port[,host:port…]
//
// The s (rediss, rediss-sentinel, rediss-cluster) is TLS, to every server
// and sentinel. Errors name what is wrong and never print the password.
func ParseRedisURL(raw string) (Redis, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	s, known := redisSchemes[scheme]
	if !ok || !known {
		return Redis{}, errors.New("must start with redis://, rediss://, redis-sentinel://, rediss-sentinel://, redis-cluster:// or rediss-cluster://")
	}
	r := Redis{Kind: s.kind, TLS: s.tls}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, pass, err := userinfo(authority[:i])
		if err != nil {
			return Redis{}, err
		}
		r.Username, r.Password = user, pass
		authority = authority[i+1:]
	}
	if strings.Contains(tail, "#") {
		return Redis{}, errors.New("has a fragment (#…); a password with # in it must be written %23")
	}
	path, rawQuery, _ := strings.Cut(tail, "?")
	var err error
	if r.Addrs, err = redisAddrs(authority, r.Kind); err != nil {
		return Redis{}, err
	}
	if err := r.parseQuery(rawQuery); err != nil {
		return Redis{}, err
	}
	if err := r.parsePath(path); err != nil {
		return Redis{}, err
	}
	return r, nil
}

// userinfo splits [user]:password, or a user alone, percent-decoded.
func userinfo(s string) (user, pass string, err error) {
	u, p, _ := strings.Cut(s, ":")
	if user, err = url.PathUnescape(u); err != nil {
		return "", "", errors.New("has a user name with a bad %-escape")
	}
	if pass, err = url.PathUnescape(p); err != nil {
		return "", "", errors.New("has a password with a bad %-escape (write % as %25)")
	}
	return user, pass, nil
}

// redisAddrs checks the comma-separated host:port list of authority.
func redisAddrs(authority string, kind RedisKind) ([]string, error) {
	if authority == "" {
		return nil, errors.New("names no server: give host:port after ://")
	}
	addrs := strings.Split(authority, ",")
	if kind == RedisSingle && len(addrs) > 1 {
		return nil, fmt.Errorf("names %d servers; redis:// takes one (redis-sentinel:// or redis-cluster:// take several)", len(addrs))
	}
	seen := map[string]bool{}
	for _, a := range addrs {
		host, port, err := net.SplitHostPort(a)
		if err != nil || host == "" {
			return nil, fmt.Errorf("has %q where a host:port belongs, like 10.0.0.5:%s", a, defaultPort(kind))
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("has port %q in %q; a port is a number from 1 to 65535", port, a)
		}
		if seen[a] {
			return nil, fmt.Errorf("names %s twice", a)
		}
		seen[a] = true
	}
	return addrs, nil
}

func defaultPort(kind RedisKind) string {
	if kind == RedisSentinel {
		return "26379"
	}
	return "6379"
}

// parsePath reads /db (single), /master-name[/db] (sentinel) or nothing (cluster).
func (r *Redis) parsePath(path string) error {
	var segs []string
	if p := strings.Trim(path, "/"); p != "" {
		segs = strings.Split(p, "/")
	}
	switch r.Kind {
	case RedisCluster:
		if len(segs) > 0 && (len(segs) > 1 || segs[0] != "0") {
			return fmt.Errorf("names database %q, but a Redis Cluster has only database 0: leave the path out", strings.Trim(path, "/"))
		}
		return nil
	case RedisSentinel:
		if len(segs) == 0 {
			return errors.New("is a Sentinel address that names no master: give the name the sentinels monitor it under, like redis-sentinel://10.0.0.5:26379,10.0.0.6:26379/mymaster")
		}
		master, err := url.PathUnescape(segs[0])
		if err != nil || master == "" || strings.ContainsAny(master, " \t\r\n") {
			return fmt.Errorf("names master %q; a master name is one word, like mymaster", segs[0])
		}
		r.Master, segs = master, segs[1:]
	}
	if len(segs) > 1 {
		return fmt.Errorf("has path %q; after the address comes only %s", path, map[RedisKind]string{RedisSingle: "/db", RedisSentinel: "/master-name/db"}[r.Kind])
	}
	if len(segs) == 1 {
		db, err := strconv.Atoi(segs[0])
		if err != nil || db < 0 || db > 1<<20 {
			return fmt.Errorf("names database %q; a database is a number, like 0", segs[0])
		}
		r.DB = db
	}
	return nil
}

// parseQuery takes the sentinels' credentials and refuses every other option.
func (r *Redis) parseQuery(rawQuery string) error {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return errors.New("has a query that cannot be read (after ?)")
	}
	for key, vals := range q {
		switch {
		case key == "master" && r.Kind == RedisSentinel:
			return errors.New("gives the master as ?master=; put it in the path instead, like redis-sentinel://10.0.0.5:26379/mymaster")
		case (key == "sentinel_password" || key == "sentinel_username") && r.Kind == RedisSentinel:
			if len(vals) != 1 {
				return fmt.Errorf("gives %s %d times", key, len(vals))
			}
			if key == "sentinel_password" {
				r.SentinelPassword = vals[0]
			} else {
				r.SentinelUsername = vals[0]
			}
		case r.Kind == RedisSentinel:
			return fmt.Errorf("has option %q; a Sentinel address takes only sentinel_username and sentinel_password", key)
		default:
			return fmt.Errorf("has option %q; a %s address takes no options", key, r.Kind)
		}
	}
	return nil
}

// String prints r as a URL with the passwords hidden.
func (r Redis) String() string {
	var b strings.Builder
	b.WriteString("redis")
	if r.TLS {
		b.WriteString("s")
	}
	if r.Kind != RedisSingle {
		b.WriteString("-" + string(r.Kind))
	}
	b.WriteString("://")
	if r.Username != "" || r.Password != "" {
		b.WriteString(escapeUser(r.Username))
		if r.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteString("@")
	}
	b.WriteString(strings.Join(r.Addrs, ","))
	if r.Kind == RedisSentinel {
		b.WriteString("/" + url.PathEscape(r.Master))
	}
	if r.Kind != RedisCluster {
		fmt.Fprintf(&b, "/%d", r.DB)
	}
	if r.SentinelUsername != "" || r.SentinelPassword != "" {
		q := url.Values{}
		if r.SentinelUsername != "" {
			q.Set("sentinel_username", r.SentinelUsername)
		}
		if r.SentinelPassword != "" {
			q.Set("sentinel_password", "xxxxx")
		}
		b.WriteString("?" + q.Encode())
	}
	return b.String()
}

// redactRedis prints a Redis URL without its passwords, or says it cannot
// be read; empty stays empty.
func redactRedis(raw string) string {
	if raw == "" {
		return ""
	}
	r, err := ParseRedisURL(raw)
	if err != nil {
		return "(unreadable)"
	}
	return r.String()
}

// escapeUser writes a user name so that userinfo reads it back whole.
func escapeUser(s string) string {
	return strings.NewReplacer(":", "%3A", "@", "%40").Replace(url.PathEscape(s))
}
