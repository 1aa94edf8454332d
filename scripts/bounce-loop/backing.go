package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/scripts/internal/benchdb"
)

// database gives dearfriend a database and Redis of its own: PostgreSQL and
// Redis when the test services are set, else SQLite and an in-process Redis.
func database(dir string) (env []string, dsn string, cleanup func(), err error) {
	dsn, redis, cleanup, err := benchdb.Backends(os.Getenv("DEARFRIEND_TEST_DATABASE_URL"), os.Getenv("DEARFRIEND_TEST_REDIS_URL"), "bounceloop")
	if err != nil {
		return nil, "", nil, err
	}
	queue := fmt.Sprintf("bounceloop%d", time.Now().UnixNano())
	return []string{"DEARFRIEND_DATABASE_URL=" + dsn, "DEARFRIEND_REDIS_URL=" + redis, "DEARFRIEND_QUEUE=" + queue}, dsn, cleanup, nil
}

// checker reads the contacts' state from the database.
type checker struct{ st *store.Store }

func openStore(ctx context.Context, dsn string) (*checker, error) {
	st, err := store.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	return &checker{st}, nil
}

func (c *checker) close() { c.st.Close() }

func (c *checker) contact(ctx context.Context, email string) (status string, suppressed bool, err error) {
	ct, err := c.st.ContactByEmail(ctx, email)
	if err != nil {
		return "", false, fmt.Errorf("contact %s: %w", email, err)
	}
	suppressed, err = c.st.IsSuppressed(ctx, email)
	return ct.Status, suppressed, err
}

func (c *checker) countStatus(ctx context.Context, emails []string, status string) (int, error) {
	n := 0
	for _, e := range emails {
		s, _, err := c.contact(ctx, e)
		if err != nil {
			return 0, err
		}
		if s == status {
			n++
		}
	}
	return n, nil
}

// client talks to dearfriend's API.
type client struct{ base string }

func (c *client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(raw, out)
	}
	return resp.StatusCode, nil
}

func (c *client) json(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	_, err := c.do(ctx, method, path, "application/json", body, out)
	return err
}

func (c *client) waitUp(ctx context.Context) error {
	for {
		if err := c.json(ctx, "GET", "/api/v1/campaigns", nil, nil); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dearfriend did not answer at %s", c.base)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// importList makes a list of emails and returns its id.
func (c *client) importList(ctx context.Context, emails []string) (int64, error) {
	var list store.List
	if err := c.json(ctx, "POST", "/api/v1/lists", map[string]any{"name": "Bounce loop"}, &list); err != nil {
		return 0, err
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("list", fmt.Sprint(list.ID))
	fw, _ := mw.CreateFormFile("file", "people.csv")
	io.WriteString(fw, "email\n"+strings.Join(emails, "\n")+"\n")
	mw.Close()
	var imp store.Import
	if _, err := c.do(ctx, "POST", "/api/v1/imports", mw.FormDataContentType(), &buf, &imp); err != nil {
		return 0, err
	}
	for imp.Status == store.ImportRunning {
		time.Sleep(50 * time.Millisecond)
		if err := c.json(ctx, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp); err != nil {
			return 0, err
		}
	}
	if imp.Status != store.ImportDone || imp.Imported != int64(len(emails)) {
		return 0, fmt.Errorf("import %+v, want %d imported", imp, len(emails))
	}
	return list.ID, nil
}

// sendCampaign sends a campaign to list and waits until it is sent.
func (c *client) sendCampaign(ctx context.Context, list int64, name string) (int64, error) {
	var msg store.Message
	if err := c.json(ctx, "POST", "/api/v1/messages", map[string]any{"subject": "The river needs you (" + name + ")",
		"from_name": "Maya Ortiz", "from_email": "action@example.org", "html": "<p>Dear friend, call the Governor today.</p>"}, &msg); err != nil {
		return 0, err
	}
	var camp store.Campaign
	if err := c.json(ctx, "POST", "/api/v1/campaigns", map[string]any{"name": name, "message_id": msg.ID,
		"audience": map[string]any{"lists": []int64{list}}}, &camp); err != nil {
		return 0, err
	}
	if err := c.json(ctx, "POST", fmt.Sprintf("/api/v1/campaigns/%d/send", camp.ID), nil, nil); err != nil {
		return 0, err
	}
	for camp.Status != store.CampaignSent {
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("campaign %d is %s, not sent, at the deadline", camp.ID, camp.Status)
		case <-time.After(100 * time.Millisecond):
		}
		if err := c.json(ctx, "GET", fmt.Sprintf("/api/v1/campaigns/%d", camp.ID), nil, &camp); err != nil {
			return 0, err
		}
	}
	return camp.ID, nil
}

// stats returns a campaign's ledger rows by status.
func (c *client) stats(ctx context.Context, id int64) (map[string]int64, error) {
	var st store.CampaignStats
	err := c.json(ctx, "GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", id), nil, &st)
	return st.Sends, err
}
