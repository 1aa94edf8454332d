package esp

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/devsvc"
)

const mgKey = "key-0123456789abcdef0123456789abcdef"

// seenBackends are the Redis servers Mailgun's tokens are kept in: the
// in-process one always, the Redis of DEARFRIEND_TEST_REDIS_URL when set
// (scripts/test-services sets it).
func seenBackends(t *testing.T) map[string]func(t *testing.T) Seen {
	prefix := func() string { return "dftest_" + random(6) + ":mailgun:" }
	bs := map[string]func(t *testing.T) Seen{"inprocess-redis": func(t *testing.T) Seen {
		r, err := devsvc.StartRedis("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Close)
		rdb := redis.NewClient(&redis.Options{Addr: r.Addr()})
		t.Cleanup(func() { rdb.Close() })
		return NewRedisSeen(rdb, prefix())
	}}
	if url := os.Getenv("DEARFRIEND_TEST_REDIS_URL"); url != "" {
		bs["redis"] = func(t *testing.T) Seen {
			opt, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			p := prefix()
			t.Cleanup(func() {
				keys, _ := rdb.Keys(context.Background(), p+"*").Result()
				if len(keys) > 0 {
					rdb.Del(context.Background(), keys...)
				}
				rdb.Close()
			})
			return NewRedisSeen(rdb, p)
		}
	} else {
		t.Log("Redis run skipped: DEARFRIEND_TEST_REDIS_URL unset")
	}
	return bs
}

// mgBody wraps event-data in a signature made with key at time at.
func mgBody(tb testing.TB, key, token string, at time.Time, eventData []byte) []byte {
	tb.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(ts + token))
	return mustJSON(tb, map[string]any{
		"signature":  map[string]string{"timestamp": ts, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": json.RawMessage(eventData),
	})
}

// token is a fresh 50-character token, as Mailgun makes them.
func token() string { return random(50) }

// random is n letters and digits. (pkg/testenv's twin cannot be imported
// here: pkg/config imports this package.)
func random(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[rand.IntN(len(chars))]
	}
	return string(b)
}

func TestMailgun(t *testing.T) {
	for name, seen := range seenBackends(t) {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				file string
				want []brief
			}{
				{"mailgun-failed-permanent.json", []brief{{"alice@example.com", "hard", "userunknown", "", "20130503182626.18666.16540@sandbox.mailgun.org", "mailgun:G9Bn5sl1TC6nu79C8C0bwg/alice@example.com"}}},
				{"mailgun-failed-temporary.json", []brief{{"alice@example.com", "soft", "mailboxfull", "4.2.2", "20130503192659.13651.20287@sandbox.mailgun.org", "mailgun:Fs7-5t81S2ClfNQ-4hBdqA/alice@example.com"}}},
				{"mailgun-complained.json", []brief{{"alice@example.com", "complaint", "feedback", "", "20110215055645.25246.63817@sandbox.mailgun.org", "mailgun:-Agny091SquKnsrW2NEKUA/alice@example.com"}}},
			}
			for _, tt := range tests {
				t.Run(tt.file, func(t *testing.T) {
					sink := &recSink{}
					h := NewMailgun(sink, MailgunOptions{SigningKey: mgKey, Seen: seen(t), Log: quiet})
					if code, body := post(t, h, mgBody(t, mgKey, token(), time.Now(), mustRead(t, tt.file)), nil); code != http.StatusOK {
						t.Fatalf("got %d %q", code, body)
					}
					checkEvents(t, sink.taken(), tt.want, "mailgun")
				})
			}
		})
	}
}

func TestMailgunRefusals(t *testing.T) {
	sample := mustRead(t, "mailgun-failed-permanent.json")
	now := time.Now()
	for name, seen := range seenBackends(t) {
		t.Run(name, func(t *testing.T) {
			tests := []struct {
				name  string
				body  []byte
				code  int
				words string
			}{
				{"wrong key", mgBody(t, "key-other", token(), now, sample), 401, "signature does not verify"},
				{"no signature", []byte(`{"event-data":{}}`), 401, "are required"},
				{"stale", mgBody(t, mgKey, token(), now.Add(-DefaultMaxAge-time.Minute), sample), 401, "replay window"},
				{"not JSON", []byte(`{"signature":`), 400, "Mailgun webhook is not JSON"},
				{"signed, no event-data", mgBody(t, mgKey, token(), now, nil), 400, "no event-data"},
				{"signed, event-data of the wrong type", mgBody(t, mgKey, token(), now, []byte(`{"event":"failed","timestamp":"soon"}`)), 400, `field "timestamp"`},
				{"signed, failed without recipient", mgBody(t, mgKey, token(), now, []byte(`{"event":"failed","id":"x","severity":"permanent"}`)), 400, "no recipient"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					sink := &recSink{}
					code, body := post(t, NewMailgun(sink, MailgunOptions{SigningKey: mgKey, Seen: seen(t), Log: quiet}), tt.body, nil)
					checkRefused(t, sink, code, body, tt.code, tt.words)
				})
			}
		})
	}
}

// TestMailgunReplay takes a signed request once: the same token again is
// refused, whatever its body, and a request whose events were not stored
// leaves its token free for the retry.
func TestMailgunReplay(t *testing.T) {
	sample := mustRead(t, "mailgun-failed-permanent.json")
	for name, seen := range seenBackends(t) {
		t.Run(name, func(t *testing.T) {
			sink := &recSink{}
			store := seen(t)
			h := NewMailgun(sink, MailgunOptions{SigningKey: mgKey, Seen: store, Log: quiet})
			tok := token()
			body := mgBody(t, mgKey, tok, time.Now(), sample)
			if code, resp := post(t, h, body, nil); code != http.StatusOK {
				t.Fatalf("first: %d %q", code, resp)
			}
			if code, resp := post(t, h, body, nil); code != http.StatusNotAcceptable {
				t.Errorf("replay: %d %q, want 406", code, resp)
			}
			other := mgBody(t, mgKey, tok, time.Now(), mustRead(t, "mailgun-complained.json"))
			if code, resp := post(t, h, other, nil); code != http.StatusNotAcceptable {
				t.Errorf("token reused with another event: %d %q, want 406", code, resp)
			}
			if n := len(sink.taken()); n != 1 {
				t.Errorf("%d events taken, want 1", n)
			}

			// The sink fails: 503, and the token is free again for the retry.
			tok2 := token()
			retry := mgBody(t, mgKey, tok2, time.Now(), mustRead(t, "mailgun-complained.json"))
			sink.fail = true
			if code, _ := post(t, h, retry, nil); code != http.StatusServiceUnavailable {
				t.Errorf("sink down: %d, want 503", code)
			}
			sink.fail = false
			if code, resp := post(t, h, retry, nil); code != http.StatusOK {
				t.Errorf("retry after the sink came back: %d %q, want 200", code, resp)
			}
			if n := len(sink.taken()); n != 2 {
				t.Errorf("%d events taken, want 2", n)
			}
			// A refused request records no token: the same token, signed
			// properly afterwards, is taken.
			tok3 := token()
			if code, _ := post(t, h, mgBody(t, mgKey, tok3, time.Now(), []byte(`{"event":"failed","id":7}`)), nil); code != http.StatusBadRequest {
				t.Errorf("bad event-data: %d, want 400", code)
			}
			if first, err := store.First(context.Background(), tok3, time.Minute); err != nil || !first {
				t.Errorf("token of a refused request recorded (first=%v, err=%v)", first, err)
			}
		})
	}
}
