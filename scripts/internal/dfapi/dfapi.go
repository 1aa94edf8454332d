// Package dfapi is the part of dearfriend's API the scripts under scripts/
// drive: a list imported from addresses, a campaign sent to it, its ledger.
// It holds no state beyond the base URL and token.
package dfapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Client talks to dearfriend's API at Base with Token.
type Client struct{ Base, Token string }

func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
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

// JSON sends in as JSON and decodes the answer into out.
func (c *Client) JSON(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	_, err := c.do(ctx, method, path, "application/json", body, out)
	return err
}

// WaitUp waits until the API answers.
func (c *Client) WaitUp(ctx context.Context) error {
	for {
		if err := c.JSON(ctx, "GET", "/api/v1/campaigns", nil, nil); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dearfriend did not answer at %s", c.Base)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ImportList makes a list of emails and returns its id.
func (c *Client) ImportList(ctx context.Context, emails []string) (int64, error) {
	var list store.List
	if err := c.JSON(ctx, "POST", "/api/v1/lists", map[string]any{"name": "Imported"}, &list); err != nil {
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
		if err := c.JSON(ctx, "GET", fmt.Sprintf("/api/v1/imports/%d", imp.ID), nil, &imp); err != nil {
			return 0, err
		}
	}
	if imp.Status != store.ImportDone || imp.Imported != int64(len(emails)) {
		return 0, fmt.Errorf("import %+v, want %d imported", imp, len(emails))
	}
	return list.ID, nil
}

// SendCampaign sends a campaign to list and waits until it is sent.
func (c *Client) SendCampaign(ctx context.Context, list int64, name string) (int64, error) {
	id, err := c.DraftCampaign(ctx, list, name)
	if err != nil {
		return 0, err
	}
	if err := c.Send(ctx, id); err != nil {
		return 0, err
	}
	return id, c.WaitSent(ctx, id)
}

// DraftCampaign makes a message and a draft campaign of it to list.
func (c *Client) DraftCampaign(ctx context.Context, list int64, name string) (int64, error) {
	return c.DraftCampaignWith(ctx, list, name, nil)
}

// DraftCampaignWith is DraftCampaign with fields (of POST /api/v1/campaigns,
// like rate_per_second) added to the campaign.
func (c *Client) DraftCampaignWith(ctx context.Context, list int64, name string, fields map[string]any) (int64, error) {
	var msg store.Message
	if err := c.JSON(ctx, "POST", "/api/v1/messages", map[string]any{"subject": "The river needs you (" + name + ")",
		"from_name": "Maya Ortiz", "from_email": "action@example.org", "html": "<p>Dear friend, call the Governor today.</p>"}, &msg); err != nil {
		return 0, err
	}
	in := map[string]any{"name": name, "message_id": msg.ID, "audience": map[string]any{"lists": []int64{list}}}
	maps.Copy(in, fields)
	var camp store.Campaign
	if err := c.JSON(ctx, "POST", "/api/v1/campaigns", in, &camp); err != nil {
		return 0, err
	}
	return camp.ID, nil
}

// Send starts sending campaign id.
func (c *Client) Send(ctx context.Context, id int64) error {
	return c.JSON(ctx, "POST", fmt.Sprintf("/api/v1/campaigns/%d/send", id), nil, nil)
}

// Sent reports whether campaign id is sent.
func (c *Client) Sent(ctx context.Context, id int64) (bool, error) {
	var camp store.Campaign
	err := c.JSON(ctx, "GET", fmt.Sprintf("/api/v1/campaigns/%d", id), nil, &camp)
	return camp.Status == store.CampaignSent, err
}

// WaitSent waits until campaign id is sent.
func (c *Client) WaitSent(ctx context.Context, id int64) error {
	for {
		if sent, err := c.Sent(ctx, id); err != nil || sent {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("campaign %d not sent at the deadline", id)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
