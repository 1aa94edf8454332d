package delivery

import (
	"context"
	"sync"

	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Messages compiles each campaign's message once per process and keeps it.
type Messages struct {
	store    *store.Store
	compiler *render.Compiler
	urls     render.URLs

	mu    sync.Mutex
	cache map[int64]*render.Compiled
}

// NewMessages returns an empty cache.
func NewMessages(st *store.Store, compiler *render.Compiler, urls render.URLs) *Messages {
	return &Messages{store: st, compiler: compiler, urls: urls, cache: map[int64]*render.Compiled{}}
}

// Input converts a stored message into render input.
func Input(m *store.Message) render.Input {
	return render.Input{Subject: m.Subject, Preheader: m.Preheader, FromName: m.FromName, FromEmail: m.FromEmail,
		ReplyTo: m.ReplyTo, Layout: m.Layout, HTML: m.HTML, Text: m.Text}
}

// ForCampaign returns the compiled message of a campaign, compiling it and
// registering its links the first time.
func (m *Messages) ForCampaign(ctx context.Context, campaignID int64) (*render.Compiled, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.cache[campaignID]; ok {
		return c, nil
	}
	camp, err := m.store.GetCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	msg, err := m.store.GetMessage(ctx, camp.MessageID)
	if err != nil {
		return nil, err
	}
	in := Input(msg)
	in.UTM = render.UTM{Source: camp.UTM.Source, Medium: camp.UTM.Medium, Campaign: camp.UTM.Campaign}
	c, err := m.compiler.Compile(in)
	if err != nil {
		return nil, err
	}
	ids, err := m.store.EnsureLinks(ctx, campaignID, c.Links)
	if err != nil {
		return nil, err
	}
	c.SetLinkIDs(ids)
	m.cache[campaignID] = c
	return c, nil
}

// View renders the email of a send as its recipient got it, with the open
// pixel blanked so that viewing in a browser is not counted as an open.
func (m *Messages) View(ctx context.Context, sendID int64) (string, error) {
	snd, err := m.store.GetSend(ctx, sendID)
	if err != nil {
		return "", err
	}
	c, err := m.ForCampaign(ctx, snd.CampaignID)
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
