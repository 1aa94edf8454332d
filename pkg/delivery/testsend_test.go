package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
)

// TestTestSendPayload checks that a test send names a message and 1 to 10
// addresses, and that a worker given a bad payload gives up on it for good.
func TestTestSendPayload(t *testing.T) {
	tests := []struct {
		name    string
		payload TestSendPayload
		raw     string // the task's payload when not p's encoding
	}{
		{name: "no message", payload: TestSendPayload{Emails: []string{"a@example.org"}}},
		{name: "no address", payload: TestSendPayload{MessageID: 1}},
		{name: "eleven addresses", payload: TestSendPayload{MessageID: 1, Emails: strings.Split(strings.Repeat("a@example.org ", 11), " ")[:11]}},
		{name: "not JSON", raw: "{"},
	}
	w := NewWorker(nil, nil, nil, nil, "", 1, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.raw == "" {
				if _, err := NewTestSendTask(tt.payload, "q"); err == nil {
					t.Errorf("NewTestSendTask(%+v) = nil error", tt.payload)
				}
				b, err := json.Marshal(tt.payload)
				if err != nil {
					t.Fatal(err)
				}
				tt.raw = string(b)
			}
			err := w.ProcessTestSend(context.Background(), asynq.NewTask(TypeTestSend, []byte(tt.raw)))
			if !errors.Is(err, asynq.SkipRetry) {
				t.Errorf("ProcessTestSend(%s) = %v, want SkipRetry", tt.raw, err)
			}
		})
	}
	if _, err := NewTestSendTask(TestSendPayload{MessageID: 1, Emails: []string{"a@example.org"}}, "q"); err != nil {
		t.Errorf("a good payload: %v", err)
	}
}
