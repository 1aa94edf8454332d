package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/api"
	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

type client struct {
	tb  testing.TB
	srv *httptest.Server
}

// do sends body (JSON) and decodes the answer into out (a *[]byte gets it
// raw), returning the status.
func (c client) do(method, path, body string, out any) int {
	c.tb.Helper()
	req, err := http.NewRequest(method, c.srv.URL+path, bytes.NewBufferString(body))
	if err != nil {
		c.tb.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if raw, ok := out.(*[]byte); ok {
		*raw = b
	} else if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.tb.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

func mustServer(tb testing.TB, dsn string) (client, *store.Store) {
	tb.Helper()
	s := testenv.Store(tb, dsn)
	s.UseSegmentCompiler(audience.Compile)
	mux := http.NewServeMux()
	api.New(s, nil, nil, "token", slog.New(slog.DiscardHandler)).Routes(mux)
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return client{tb: tb, srv: srv}, s
}

type apiError struct {
	Error struct {
		Code, Message, Field string
	} `json:"error"`
}

// TestSegmentsAPI saves, counts and previews segments, refuses bad trees with
// the rule path, and checks a campaign's audience count is the number its
// send snapshots.
func TestSegmentsAPI(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		c, s := mustServer(t, dsn)
		ctx := context.Background()
		var cs []store.Contact
		for i := range 30 {
			region := "NY"
			if i%3 == 0 {
				region = "CA"
			}
			cs = append(cs, store.Contact{Email: fmt.Sprintf("p%02d@example.org", i), Region: region})
		}
		cs[1].Status = store.ContactUnsubscribed
		if _, err := s.InsertContacts(ctx, cs); err != nil {
			t.Fatal(err)
		}

		var bad apiError
		status := c.do("POST", "/api/v1/segments", `{"name": "bad", "rules": {"all": [{"field": "region", "op": "in", "value": ["NY"]}, {"any": [{"field": "region", "op": "matches", "value": "N"}]}]}}`, &bad)
		if status != http.StatusUnprocessableEntity || bad.Error.Code != "invalid" || bad.Error.Field != "rules.all[1].any[0].op" {
			t.Errorf("bad rules: %d %+v; want 422 invalid at rules.all[1].any[0].op", status, bad.Error)
		}

		var g store.Segment
		if status := c.do("POST", "/api/v1/segments", `{"name": "new yorkers", "rules": {"field": "region", "op": "equals", "value": "NY"}}`, &g); status != http.StatusCreated {
			t.Fatalf("create segment: %d", status)
		}
		if status := c.do("POST", "/api/v1/segments", `{"name": "new yorkers", "rules": {"all": []}}`, &bad); status != http.StatusConflict {
			t.Errorf("same name again: %d, want 409", status)
		}
		var got struct {
			Name  string
			Rules map[string]any
		}
		c.do("GET", fmt.Sprintf("/api/v1/segments/%d", g.ID), "", &got)
		if d := cmp.Diff(map[string]any{"field": "region", "op": "equals", "value": "NY"}, got.Rules); d != "" || got.Name != "new yorkers" {
			t.Errorf("saved segment %q, rules (-want +got):\n%s", got.Name, d)
		}
		var count struct{ Count int64 }
		c.do("GET", fmt.Sprintf("/api/v1/segments/%d/count", g.ID), "", &count)
		if count.Count != 20 { // every third of 30 is in CA; the unsubscribed one still counts
			t.Errorf("segment count = %d, want 20", count.Count)
		}
		var preview struct{ Contacts []store.Contact }
		c.do("GET", fmt.Sprintf("/api/v1/segments/%d/preview", g.ID), "", &preview)
		if len(preview.Contacts) != 20 || preview.Contacts[0].Email != "p01@example.org" {
			t.Errorf("preview: %d contacts, first %+v; want 20 from p01", len(preview.Contacts), preview.Contacts)
		}
		var csvBody []byte
		if status := c.do("GET", fmt.Sprintf("/api/v1/segments/%d/export.csv", g.ID), "", &csvBody); status != http.StatusOK ||
			bytes.Count(csvBody, []byte("\n")) != 21 || !bytes.Contains(csvBody, []byte("p01@example.org")) {
			t.Errorf("export: %d, %d lines; want 200, a header and 20 rows:\n%s", status, bytes.Count(csvBody, []byte("\n")), csvBody)
		}
		c.do("POST", "/api/v1/segments/count", `{"rules": {"field": "region", "op": "equals", "value": "'; DROP TABLE contacts; --"}}`, &count)
		if count.Count != 0 {
			t.Errorf("injection count = %d, want 0", count.Count)
		}
		c.do("POST", "/api/v1/segments/preview", `{"rules": {"not": {"field": "region", "op": "equals", "value": "NY"}}}`, &preview)
		if len(preview.Contacts) != 10 {
			t.Errorf("unsaved preview: %d contacts, want 10", len(preview.Contacts))
		}

		msg := &store.Message{Name: "m", Subject: "s", FromName: "f", FromEmail: "f@example.org", HTML: "<p>hi</p>"}
		if err := s.CreateMessage(ctx, msg); err != nil {
			t.Fatal(err)
		}
		aud := fmt.Sprintf(`{"segments": [%d]}`, g.ID)
		c.do("POST", "/api/v1/campaigns/audience/count", `{"audience": `+aud+`}`, &count)
		unsaved := count.Count
		var camp store.Campaign
		if status := c.do("POST", "/api/v1/campaigns", fmt.Sprintf(`{"name": "c", "message_id": %d, "audience": %s}`, msg.ID, aud), &camp); status != http.StatusCreated {
			t.Fatalf("create campaign: %d", status)
		}
		c.do("GET", fmt.Sprintf("/api/v1/campaigns/%d/audience/count", camp.ID), "", &count)
		total, err := s.StartCampaign(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]int64{19, 19, 19}, []int64{unsaved, count.Count, total}); d != "" {
			t.Errorf("unsaved count, campaign count, snapshot (-want +got):\n%s", d)
		}
		if status := c.do("POST", "/api/v1/campaigns/audience/count", `{"audience": {"segments": [9999]}}`, &bad); status != http.StatusUnprocessableEntity || bad.Error.Field != "audience.segments" {
			t.Errorf("unknown segment: %d %+v; want 422 at audience.segments", status, bad.Error)
		}
	})
}
