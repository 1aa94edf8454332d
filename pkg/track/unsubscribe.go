package track

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// UnsubscribeStore is what an unsubscribe needs of the database.
type UnsubscribeStore interface {
	GetSend(ctx context.Context, id int64) (*store.Send, error)
	Unsubscribe(ctx context.Context, u store.Unsubscription) (*store.Event, error)
}

// Unsubscriber records unsubscribes and tells the outgoing webhooks: the one
// code behind the unsubscribe page, the RFC 8058 one-click POST and mail to
// the List-Unsubscribe mailto (pkg/inbound).
type Unsubscriber struct {
	store    UnsubscribeStore
	signer   *Signer
	notifier Notifier // may be nil
	log      *slog.Logger
}

// NewUnsubscriber returns the unsubscriber of st, checking tokens with
// signer; notifier may be nil.
func NewUnsubscriber(st UnsubscribeStore, signer *Signer, notifier Notifier, log *slog.Logger) *Unsubscriber {
	return &Unsubscriber{store: st, signer: signer, notifier: notifier, log: log}
}

// OneClick unsubscribes, from everything, the contact of the send an
// unsubscribe token names, as RFC 8058's one-click POST asks; agent says who
// asked (the POST's User-Agent, "mailto"). It is safe to repeat. A bad token
// is ErrBadToken and a token naming no send store.ErrNotFound: nothing
// changes for either.
func (u *Unsubscriber) OneClick(ctx context.Context, token, agent string) error {
	sendID, _, err := u.signer.Verify(KindUnsubscribe, token)
	if err != nil {
		return err
	}
	snd, err := u.store.GetSend(ctx, sendID)
	if err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return u.Unsubscribe(ctx, snd, store.Unsubscription{SendID: snd.ID, UserAgent: truncate(agent, 512)})
}

// Unsubscribe records un for the contact of snd and, when it changed
// anything, queues the unsubscribe webhook.
func (u *Unsubscriber) Unsubscribe(ctx context.Context, snd *store.Send, un store.Unsubscription) error {
	ev, err := u.store.Unsubscribe(ctx, un)
	if err != nil {
		return fmt.Errorf("unsubscribe send %d: %w", snd.ID, err)
	}
	if u.notifier == nil || ev == nil {
		return nil
	}
	data := map[string]any{"email": snd.Email, "contact_id": ev.ContactID, "campaign_id": ev.CampaignID,
		"reason": ev.Reason, "list_id": ev.ListID, "at": ev.CreatedAt}
	if err := u.notifier.Notify(context.WithoutCancel(ctx), store.EventUnsubscribe, data); err != nil {
		u.log.Error("queue unsubscribe webhook", "contact_id", ev.ContactID, "err", err)
	}
	return nil
}
