package feedback

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// TokenVerifier checks a signed token (track.Signer).
type TokenVerifier interface {
	Verify(kind track.Kind, token string) (sendID, linkID int64, err error)
}

var _ TokenVerifier = (*track.Signer)(nil)

// match is the send an event is about, and how it was found; send is nil
// when none is, why saying so.
type match struct {
	send *store.Send
	by   string // "token", "message_id" or "address"
	why  string
}

// match finds the send of ev: by its signed VERP token; else by the
// Message-ID of the original message, when it is one this deployment made;
// else the newest send to the recipient's address. A token that does not
// verify, or a Message-ID of another deployment, matches nothing: no
// weaker way is tried, so a forged report can change nothing.
func (s *Sink) match(ctx context.Context, ev bounce.Event) (match, error) {
	if ev.Token != "" {
		id, _, err := s.d.Tokens.Verify(track.KindBounce, ev.Token)
		if err != nil {
			return match{why: "its VERP token does not verify (forged or of another deployment)"}, nil
		}
		return s.byID(ctx, id, "token")
	}
	if ev.MessageID != "" {
		campaignID, sendID, deployment, ok := parseMessageID(ev.MessageID)
		switch {
		case ok && deployment != s.d.Deployment:
			return match{why: "its Message-ID names another deployment (" + deployment + ")"}, nil
		case ok:
			m, err := s.byID(ctx, sendID, "message_id")
			if m.send != nil && m.send.CampaignID != campaignID {
				return match{why: "its Message-ID names a send of another campaign"}, err
			}
			return m, err
		}
	}
	if ev.Recipient == "" {
		return match{why: "it names no token, no Message-ID of ours and no recipient"}, nil
	}
	snd, err := s.d.Store.LastSendTo(ctx, ev.Recipient)
	if errors.Is(err, store.ErrNotFound) {
		return match{why: "no send to its recipient"}, nil
	} else if err != nil {
		return match{}, err
	}
	return match{send: snd, by: "address"}, nil
}

// byID is the send with id, found by way of by.
func (s *Sink) byID(ctx context.Context, id int64, by string) (match, error) {
	snd, err := s.d.Store.GetSend(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return match{why: "its send " + strconv.FormatInt(id, 10) + " does not exist"}, nil
	} else if err != nil {
		return match{}, err
	}
	return match{send: snd, by: by}, nil
}

// parseMessageID reads a campaign message's Message-ID,
// <c<campaign>.s<send>.<deployment>@domain> (delivery/messageid.go); ok is
// false for any other. A Message-ID of the form without a deployment part
// (made before deployments had ids) has deployment "".
func parseMessageID(id string) (campaignID, sendID int64, deployment string, ok bool) {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	local, _, found := strings.Cut(id, "@")
	if !found {
		return 0, 0, "", false
	}
	parts := strings.Split(local, ".")
	if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[0], "c") || !strings.HasPrefix(parts[1], "s") {
		return 0, 0, "", false
	}
	c, err1 := strconv.ParseInt(parts[0][1:], 10, 64)
	snd, err2 := strconv.ParseInt(parts[1][1:], 10, 64)
	if err1 != nil || err2 != nil || c <= 0 || snd <= 0 {
		return 0, 0, "", false
	}
	if len(parts) == 3 {
		deployment = parts[2]
	}
	return c, snd, deployment, true
}
