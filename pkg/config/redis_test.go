package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRedisURL(t *testing.T) {
	tests := []struct {
		raw  string
		want Redis
	}{
		{"redis://127.0.0.1:6379", Redis{Kind: RedisSingle, Addrs: []string{"127.0.0.1:6379"}}},
		{"redis://127.0.0.1:6379/", Redis{Kind: RedisSingle, Addrs: []string{"127.0.0.1:6379"}}},
		{"redis://:s3cret@redis:6379/2", Redis{Kind: RedisSingle, Addrs: []string{"redis:6379"}, Password: "s3cret", DB: 2}},
		{"rediss://app:p%40ss%3Aword@cache.example.org:6380/0", Redis{Kind: RedisSingle, Addrs: []string{"cache.example.org:6380"},
			Username: "app", Password: "p@ss:word", TLS: true}},
		{"redis://[::1]:6379/1", Redis{Kind: RedisSingle, Addrs: []string{"[::1]:6379"}, DB: 1}},
		{"redis-sentinel://10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379/mymaster",
			Redis{Kind: RedisSentinel, Addrs: []string{"10.0.0.5:26379", "10.0.0.6:26379", "10.0.0.7:26379"}, Master: "mymaster"}},
		{"redis-sentinel://:pw@s1:26379/mymaster/3?sentinel_password=spw&sentinel_username=sen",
			Redis{Kind: RedisSentinel, Addrs: []string{"s1:26379"}, Master: "mymaster", Password: "pw", DB: 3,
				SentinelUsername: "sen", SentinelPassword: "spw"}},
		{"rediss-sentinel://[::1]:26379,[::1]:26380/mymaster/", Redis{Kind: RedisSentinel, Addrs: []string{"[::1]:26379", "[::1]:26380"}, Master: "mymaster", TLS: true}},
		{"redis-cluster://n1:7000,n2:7001,n3:7002", Redis{Kind: RedisCluster, Addrs: []string{"n1:7000", "n2:7001", "n3:7002"}}},
		{"rediss-cluster://u:p@n1:7000/0", Redis{Kind: RedisCluster, Addrs: []string{"n1:7000"}, Username: "u", Password: "p", TLS: true}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseRedisURL(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRedisURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseRedisURLNamesTheProblem(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"http://h:6379", "must start with redis://"},
		{"h:6379", "must start with redis://"},
		{"redis://", "names no server"},
		{"redis://:pw@/0", "names no server"},
		{"redis://h1:6379,h2:6379", "redis:// takes one"},
		{"redis://h", `has "h" where a host:port belongs`},
		{"redis://:6379", `has ":6379" where a host:port belongs`},
		{"redis://h:0", `has port "0"`},
		{"redis://h:port", `has port "port"`},
		{"redis://h:6379/zero", `names database "zero"`},
		{"redis://h:6379/1/2", `after the address comes only /db`},
		{"redis://h:6379/0?dial_timeout=1s", `has option "dial_timeout"; a single address takes no options`},
		{"redis://:p#ss@h:6379", "has a fragment"},
		{"redis://:100%@h:6379", "bad %-escape"},
		{"redis-sentinel://s1:26379,s2:26379", "is a Sentinel address that names no master"},
		{"redis-sentinel://s1:26379/", "is a Sentinel address that names no master"},
		{"redis-sentinel://s1:26379?master=mymaster", "put it in the path instead"},
		{"redis-sentinel://s1:26379,s1:26379/m", "names s1:26379 twice"},
		{"redis-sentinel://s1:26379/m/x", `names database "x"`},
		{"redis-sentinel://s1:26379/m/0/1", "after the address comes only /master-name/db"},
		{"redis-sentinel://s1:26379/m?sentinel_password=a&sentinel_password=b", "gives sentinel_password 2 times"},
		{"redis-sentinel://s1:26379/m?read_only=1", `has option "read_only"; a Sentinel address takes only`},
		{"redis-cluster://n1:7000/1", "a Redis Cluster has only database 0"},
		{"redis-cluster://n1:7000,n2", `has "n2" where a host:port belongs`},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := ParseRedisURL(tt.raw)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// The Sentinel address that names no master stops the process at start,
// with the variable's name.
func TestRedisURLIsValidated(t *testing.T) {
	_, err := FromEnv(ModeDev, env(map[string]string{"DEARFRIEND_REDIS_URL": "redis-sentinel://10.0.0.5:26379"}))
	want := "DEARFRIEND_REDIS_URL is a Sentinel address that names no master"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error = %v, want it to contain %q", err, want)
	}
}

func TestRedisURLPasswordsNeverPrint(t *testing.T) {
	for _, raw := range []string{
		"redis://:hunter2@h:6379/0",
		"rediss-sentinel://u:hunter2@s1:26379,s2:26379/mymaster/1?sentinel_password=hunter3",
		"redis-cluster://u:hunter2@n1:7000,n2:7000",
	} {
		c, err := FromEnv(ModeDev, env(map[string]string{"DEARFRIEND_REDIS_URL": raw}))
		if err != nil {
			t.Fatal(err)
		}
		s := c.String()
		if strings.Contains(s, "hunter") || !strings.Contains(s, "xxxxx") {
			t.Errorf("String() of %s = %s; want the passwords hidden", raw, s)
		}
	}
}

// FuzzParseRedisURL: any input parses or fails with an error, and what
// parses prints as a URL that parses to the same thing.
func FuzzParseRedisURL(f *testing.F) {
	for _, s := range []string{"redis://127.0.0.1:6379/0", "rediss://u:p@h:6380", "redis-sentinel://a:26379,b:26379/mymaster/2?sentinel_password=x",
		"redis-cluster://n1:7000,n2:7001", "redis-sentinel://a:1", "redis://[::1]:6379", "redis://:%zz@h:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		r, err := ParseRedisURL(raw)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(r.Addrs) == 0 || (r.Kind == RedisSentinel && r.Master == "") {
			t.Fatalf("%q parsed to %+v: no address or no master", raw, r)
		}
		if r.Password != "" && r.Password != "xxxxx" && strings.Contains(r.String(), ":"+r.Password+"@") {
			t.Fatalf("String() of %q shows the password: %s", raw, r.String())
		}
		if r.Password != "" || r.SentinelPassword != "" {
			return // String hides them, so it does not parse back to r
		}
		again, err := ParseRedisURL(r.String())
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", raw, r.String(), err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("%q printed as %q parses to something else (-first +again):\n%s", raw, r.String(), diff)
		}
	})
}
