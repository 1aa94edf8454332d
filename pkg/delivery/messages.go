package delivery

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Messages compiles each campaign's message, and each A/B variant of it, once
// per process and keeps it.
type Messages struct {
	store    *store.Store
	compiler *render.Compiler
	urls     URLs

	mu    sync.Mutex
	cache map[messageKey]*render.Compiled
}

// messageKey names one compiled message: a campaign's, or one of its variants (variant 0: none).
type messageKey struct{ campaign, variant int64 }

// URLs are the public URLs a message links to: each recipient's, and each
// action page's own, the link its action_link visits count as clicks of.
type URLs interface {
	render.URLs
	ActionPage(slug string) string
}

// NewMessages returns an empty cache.
func NewMessages(st *store.Store, compiler *render.Compiler, urls URLs) *Messages {
	return &Messages{store: st, compiler: compiler, urls: urls, cache: map[messageKey]*render.Compiled{}}
}

// Input converts a stored message into render input.
func Input(m *store.Message) render.Input {
	return render.Input{Subject: m.Subject, Preheader: m.Preheader, FromName: m.FromName, FromEmail: m.FromEmail,
		ReplyTo: m.ReplyTo, Layout: m.Layout, HTML: m.HTML, Text: m.Text}
}

// ForCampaign returns the compiled message of a campaign, compiling it and
// registering its links the first time.
func (m *Messages) ForCampaign(ctx context.Context, campaignID int64) (*render.Compiled, error) {
	return m.ForVariant(ctx, campaignID, 0)
}

// Check compiles the messages a campaign would send, its own and its A/B
// variants', and returns the first error: a campaign whose message cannot
// be sent as it is saved does not start.
func (m *Messages) Check(ctx context.Context, campaignID int64) error {
	if _, err := m.ForCampaign(ctx, campaignID); err != nil {
		return err
	}
	vs, err := m.store.Variants(ctx, campaignID)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if _, err := m.ForVariant(ctx, campaignID, v.ID); err != nil {
			return fmt.Errorf("variant %s: %w", v.Label, err)
		}
	}
	return nil
}

// ForVariant returns the compiled message of one A/B variant of a campaign:
// the variant's message or the campaign's, with the variant's subject when it
// has one. Variant 0 is the campaign's own message. The variants' links are
// registered with the campaign's, so a click counts for the campaign and,
// through its send, for the variant.
func (m *Messages) ForVariant(ctx context.Context, campaignID, variantID int64) (*render.Compiled, error) {
	key := messageKey{campaignID, variantID}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[key]; ok {
		return c, nil
	}
	camp, err := m.store.GetCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	messageID, subject := camp.MessageID, ""
	if variantID != 0 {
		v, err := m.store.GetVariant(ctx, variantID)
		if err != nil {
			return nil, err
		}
		if v.CampaignID != campaignID {
			return nil, fmt.Errorf("variant %d is not of campaign %d", variantID, campaignID)
		}
		if v.MessageID != nil {
			messageID = *v.MessageID
		}
		subject = v.Subject
	}
	msg, err := m.store.GetMessage(ctx, messageID)
	if err != nil {
		return nil, err
	}
	in := Input(msg)
	if subject != "" {
		in.Subject = subject
	}
	in.UTM = render.UTM{Source: camp.UTM.Source, Medium: camp.UTM.Medium, Campaign: camp.UTM.Campaign}
	c, err := m.compiler.Compile(in)
	if err != nil {
		return nil, err
	}
	// An action link is a link of the campaign like any other: its page.
	urls := slices.Clone(c.Links)
	for _, slug := range c.Actions {
		urls = append(urls, m.urls.ActionPage(slug))
	}
	ids, err := m.store.EnsureLinks(ctx, campaignID, urls)
	if err != nil {
		return nil, err
	}
	c.SetLinkIDs(ids[:len(c.Links)])
	c.SetActionIDs(ids[len(c.Links):])
	m.cache[key] = c
	return c, nil
}

// View renders the email of a send as its recipient got it, with the open
// pixel blanked so that viewing in a browser is not counted as an open.
func (m *Messages) View(ctx context.Context, sendID int64) (string, error) {
	snd, err := m.store.GetSend(ctx, sendID)
	if err != nil {
		return "", err
	}
	var variant int64
	if snd.VariantID != nil {
		variant = *snd.VariantID
	}
	c, err := m.ForVariant(ctx, snd.CampaignID, variant)
	if err != nil {
		return "", err
	}
	contact, err := m.store.GetContact(ctx, snd.ContactID)
	if err != nil {
		return "", err
	}
	out, err := c.Merge(render.Recipient{SendID: snd.ID, Email: snd.Email, FirstName: contact.FirstName, LastName: contact.LastName}, noPixel{m.urls})
	return out.HTML, err
}

type noPixel struct{ render.URLs }

func (noPixel) Open(int64) string { return "data:image/gif;base64,R0lGODlhAQABAAAAACw=" }
