package esp

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

func basicAuth(user, password string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
}

const (
	pmUser     = "postmark"
	pmPassword = "correct-horse-battery-staple"
)

func TestPostmark(t *testing.T) {
	auth := http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}
	blocked := strings.NewReplacer(`"HardBounce"`, `"Blocked"`, `"TypeCode": 1`, `"TypeCode": 100000`,
		"Test bounce details", "smtp;554 5.7.1 Service unavailable; client host blocked using Spamhaus").Replace(string(mustRead(t, "postmark-bounce.json")))
	hardButSpam := strings.Replace(string(mustRead(t, "postmark-bounce.json")), "Test bounce details", "smtp;550 5.7.1 message rejected as spam", 1)
	tests := []struct {
		name string
		body string
		want []brief
	}{
		{"hard bounce", string(mustRead(t, "postmark-bounce.json")), []brief{{"john@example.com", "hard", "undefined", "", "", "postmark:4323372036854775807/john@example.com"}}},
		{"spam complaint", string(mustRead(t, "postmark-spam-complaint.json")), []brief{{"john@example.com", "complaint", "feedback", "", "", "postmark:42/john@example.com"}}},
		{"blocked", blocked, []brief{{"john@example.com", "soft", "blocked", "5.7.1", "", "postmark:4323372036854775807/john@example.com"}}},
		{"hard bounce whose words blame the content", hardButSpam, []brief{{"john@example.com", "soft", "spamdetected", "5.7.1", "", "postmark:4323372036854775807/john@example.com"}}},
		{"soft bounce", strings.Replace(string(mustRead(t, "postmark-bounce.json")), `"HardBounce"`, `"SoftBounce"`, 1),
			[]brief{{"john@example.com", "soft", "undefined", "", "", "postmark:4323372036854775807/john@example.com"}}},
		{"auto responder", strings.Replace(string(mustRead(t, "postmark-bounce.json")), `"HardBounce"`, `"AutoResponder"`, 1),
			[]brief{{"john@example.com", "auto_reply", "vacation", "", "", "postmark:4323372036854775807/john@example.com"}}},
		{"subscribe notice: not a failure", strings.Replace(string(mustRead(t, "postmark-bounce.json")), `"HardBounce"`, `"Subscribe"`, 1), []brief{}},
		{"delivery webhook", `{"RecordType":"Delivery","MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Recipient":"john@example.com","DeliveredAt":"2019-11-05T16:33:54.9070259Z"}`, []brief{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			h := NewPostmark(sink, PostmarkOptions{User: pmUser, Password: pmPassword, Log: quiet})
			if code, body := post(t, h, []byte(tt.body), auth); code != http.StatusOK {
				t.Fatalf("got %d %q", code, body)
			}
			checkEvents(t, sink.taken(), tt.want, "postmark")
		})
	}
}

func TestPostmarkRefusals(t *testing.T) {
	sample := mustRead(t, "postmark-bounce.json")
	tests := []struct {
		name   string
		header http.Header
		body   []byte
		code   int
		words  string
	}{
		{"no auth", nil, sample, 401, "basic auth"},
		{"wrong password", http.Header{"Authorization": {basicAuth(pmUser, pmPassword+"x")}}, sample, 401, "basic auth"},
		{"wrong user", http.Header{"Authorization": {basicAuth("admin", pmPassword)}}, sample, 401, "basic auth"},
		{"bearer instead", http.Header{"Authorization": {"Bearer " + pmPassword}}, sample, 401, "basic auth"},
		{"not JSON", http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}, []byte(`{"RecordType":`), 400, "Postmark webhook is not JSON"},
		{"ID of the wrong type", http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}, []byte(`{"RecordType":"Bounce","Type":"HardBounce","ID":"x","Email":"a@b.c"}`), 400, `field "ID"`},
		{"no RecordType", http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}, []byte(`{"Type":"HardBounce","ID":1,"Email":"a@b.c"}`), 400, "RecordType"},
		{"no Email", http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}, []byte(`{"RecordType":"Bounce","Type":"HardBounce","ID":1}`), 400, "no recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := &recSink{}
			h := NewPostmark(sink, PostmarkOptions{User: pmUser, Password: pmPassword, Log: quiet})
			code, body := post(t, h, tt.body, tt.header)
			checkRefused(t, sink, code, body, tt.code, tt.words)
		})
	}
	t.Run("sink error", func(t *testing.T) {
		sink := &recSink{fail: true}
		h := NewPostmark(sink, PostmarkOptions{User: pmUser, Password: pmPassword, Log: quiet})
		if code, _ := post(t, h, sample, http.Header{"Authorization": {basicAuth(pmUser, pmPassword)}}); code != http.StatusServiceUnavailable {
			t.Errorf("got %d, want 503 so Postmark retries", code)
		}
	})
}
