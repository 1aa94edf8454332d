package inbound

import (
	"bytes"
	"context"
	"errors"
	"log/slog"

	"github.com/emersion/go-smtp"

	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// take acts on one accepted message for its recipients. It answers 451 (the
// sender keeps the message and tries again) only when something could not
// be stored; a message that is no report, or an unsubscribe with a bad
// token, is taken and dropped with a log line.
func (s *Server) take(from string, rcpts []recipient, raw []byte, remote string) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.TakeTimeout)
	defer cancel()
	log := s.deps.Log.With("remote", remote, "from", from, "bytes", len(raw))
	var evs []bounce.Event
	var rep *bounce.Report
	digest := ""
	for _, rc := range rcpts {
		if rc.kind == toUnsubscribe {
			if err := s.unsubscribe(ctx, raw, log); err != nil {
				return err
			}
			continue
		}
		if rep == nil {
			r, err := bounce.Read(bytes.NewReader(raw))
			if errors.Is(err, bounce.ErrTooLarge) {
				return smtp.ErrDataTooLarge
			} else if err != nil {
				log.Error("inbound SMTP: read report", "err", err)
				return errTryLater
			}
			rep, digest = &r, bounce.Digest(raw)
		}
		evs = append(evs, rep.Events("inbound", rc.token, digest, s.deps.Now())...)
	}
	if rep != nil && len(evs) == 0 {
		log.Info("inbound SMTP: mail to the bounce address is no report: dropped", "message_id", rep.MessageID)
		return nil
	}
	if len(evs) == 0 {
		return nil
	}
	if err := s.deps.Sink.Take(ctx, evs); err != nil {
		log.Error("inbound SMTP: report not stored, the sender will retry", "events", len(evs), "err", err)
		return errTryLater
	}
	log.Info("inbound SMTP: report taken", "events", len(evs), "kind", evs[0].Kind, "digest", digest)
	return nil
}

// unsubscribe acts on mail to the List-Unsubscribe mailto address, exactly
// as on the RFC 8058 one-click POST.
func (s *Server) unsubscribe(ctx context.Context, raw []byte, log *slog.Logger) error {
	token, err := mailtoToken(raw)
	if err != nil {
		log.Warn("inbound SMTP: mail to the unsubscribe address dropped", "reason", err.Error())
		return nil
	}
	switch err := s.deps.Unsubscriber.OneClick(ctx, token, "mailto"); {
	case errors.Is(err, track.ErrBadToken) || errs.CodeOf(err) == errs.NotFound:
		log.Warn("inbound SMTP: mail to the unsubscribe address dropped", "reason", "bad or unknown token")
		return nil
	case err != nil:
		log.Error("inbound SMTP: unsubscribe not stored, the sender will retry", "err", err)
		return errTryLater
	}
	log.Info("inbound SMTP: unsubscribed by mail")
	return nil
}
