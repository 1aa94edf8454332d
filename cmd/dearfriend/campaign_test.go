package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// fakeAPI answers the campaign routes the command uses: a send, then the
// progress steps in turn (the last one repeated).
func fakeAPI(t *testing.T, steps []store.Progress) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var calls []string
	next := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"code":"unauthorized","message":"a valid bearer token is required"}}`)
			return
		}
		switch {
		case r.URL.Path == "/api/v1/campaigns/7/send":
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"campaign_id":7,"status":"sending","recipients":1000}`)
		case r.URL.Path == "/api/v1/campaigns/7/progress":
			json.NewEncoder(w).Encode(steps[min(next, len(steps)-1)])
			next++
		case r.URL.Path == "/api/v1/campaigns/7/pause":
			fmt.Fprint(w, `{"campaign_id":7,"status":"paused"}`)
		case r.URL.Path == "/api/v1/campaigns/8/pause":
			w.WriteHeader(http.StatusConflict)
			fmt.Fprint(w, `{"error":{"code":"conflict","message":"campaign 8 is draft: it cannot be made paused"}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// TestCampaignCommand: send --wait follows the progress to the end in plain
// lines (stdout is not a terminal) and exits 0 when sent, 1 when cancelled;
// a refusal or an API out of reach exits 1 with the API's message.
func TestCampaignCommand(t *testing.T) {
	eta := 1.0
	sending := store.Progress{Status: store.CampaignSending, Total: 1000, Sent: 500, Failed: 2, Bounced: 3, Remaining: 495, Rate: 400, ETASeconds: &eta}
	sent := store.Progress{Status: store.CampaignSent, Total: 1000, Sent: 990, Failed: 5, Bounced: 5}
	cancelled := store.Progress{Status: store.CampaignCancelled, Total: 1000, Sent: 600, Skipped: 400}
	tests := []struct {
		name     string
		steps    []store.Progress
		args     []string
		token    string
		wantCode int
		wantOut  []string // in order
		wantErr  string
	}{
		{"send and wait", []store.Progress{sending, sent}, []string{"send", "7", "--wait"}, "tok", 0,
			[]string{"campaign 7 sending to 1000 recipients", "500/1000 sent, 2 failed, 3 bounced", "ETA 1s", "campaign 7 sent: 990/1000 sent, 5 failed, 5 bounced"}, ""},
		{"flag before the id", []store.Progress{sent}, []string{"send", "--wait", "7"}, "tok", 0,
			[]string{"campaign 7 sent: 990/1000"}, ""},
		{"cancelled while waiting", []store.Progress{sending, cancelled}, []string{"send", "7", "--wait"}, "tok", 1,
			[]string{"campaign 7 cancelled: 600/1000 sent"}, "was cancelled"},
		{"send without waiting", nil, []string{"send", "7"}, "tok", 0, []string{"sending to 1000 recipients"}, ""},
		{"pause", nil, []string{"pause", "7"}, "tok", 0, []string{"campaign 7 paused"}, ""},
		{"pause refused", nil, []string{"pause", "8"}, "tok", 1, nil, "campaign 8 is draft: it cannot be made paused"},
		{"progress", []store.Progress{sending}, []string{"progress", "7"}, "tok", 0, []string{"campaign 7 sending: 500/1000 sent"}, ""},
		{"bad token", nil, []string{"progress", "7"}, "nope", 1, nil, "set DEARFRIEND_API_TOKEN"},
		{"not a number", nil, []string{"send", "seven"}, "tok", 2, nil, "ID must be a campaign's number"},
		{"wait without send", nil, []string{"pause", "7", "--wait"}, "tok", 2, nil, "--wait goes with send"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := fakeAPI(t, tt.steps)
			env := map[string]string{"DEARFRIEND_API_URL": srv.URL + "/", "DEARFRIEND_API_TOKEN": tt.token}
			var stdout, stderr bytes.Buffer
			code := campaignCommand(tt.args, func(k string) string { return env[k] }, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout.String(), stderr.String())
			}
			out := stdout.String()
			if strings.Contains(out, "\r") || strings.Contains(out, "\033") {
				t.Errorf("terminal control characters in output to a file: %q", out)
			}
			for _, want := range tt.wantOut {
				i := strings.Index(out, want)
				if i < 0 {
					t.Fatalf("stdout lacks %q (in order):\n%s", want, stdout.String())
				}
				out = out[i+len(want):]
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want %q", stderr.String(), tt.wantErr)
			}
		})
	}
	t.Run("API out of reach", func(t *testing.T) {
		env := map[string]string{"DEARFRIEND_API_URL": "http://127.0.0.1:1"}
		var stdout, stderr bytes.Buffer
		if code := campaignCommand([]string{"progress", "7"}, func(k string) string { return env[k] }, &stdout, &stderr); code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if !strings.Contains(stderr.String(), "cannot reach the API at http://127.0.0.1:1") {
			t.Errorf("stderr = %q", stderr.String())
		}
	})
}
