package api

import (
	"context"
	"net/http"
)

// The organizer's desk, as the admin has it: copies are drafts named
// "Copy of …"; what was never sent is deleted; what was sent is archived,
// hidden from the admin's lists.

func (a *API) duplicateMessage(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	m, err := a.store.DuplicateMessage(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, outMessage(m))
	return nil
}

func (a *API) duplicateCampaign(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	c, err := a.store.DuplicateCampaign(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (a *API) duplicatePetition(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.store.DuplicatePetition(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, petitionOut{p, 0})
	return nil
}

// byID answers 204 once do has done its work on the path's id.
func byID(do func(ctx context.Context, id int64) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := do(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// deskRoutes are the copy, delete and archive routes.
func (a *API) deskRoutes(mux Mux) {
	s := a.store
	mux.Handle("POST /api/v1/messages/{id}/duplicate", a.handle(a.duplicateMessage))
	mux.Handle("DELETE /api/v1/messages/{id}", a.handle(byID(s.DeleteMessage)))
	mux.Handle("POST /api/v1/messages/{id}/archive", a.handle(byID(func(ctx context.Context, id int64) error { return s.SetMessageArchived(ctx, id, true) })))
	mux.Handle("DELETE /api/v1/messages/{id}/archive", a.handle(byID(func(ctx context.Context, id int64) error { return s.SetMessageArchived(ctx, id, false) })))
	mux.Handle("POST /api/v1/campaigns/{id}/duplicate", a.handle(a.duplicateCampaign))
	mux.Handle("DELETE /api/v1/campaigns/{id}", a.handle(byID(s.DeleteCampaign)))
	mux.Handle("POST /api/v1/campaigns/{id}/archive", a.handle(byID(func(ctx context.Context, id int64) error { return s.SetCampaignArchived(ctx, id, true) })))
	mux.Handle("DELETE /api/v1/campaigns/{id}/archive", a.handle(byID(func(ctx context.Context, id int64) error { return s.SetCampaignArchived(ctx, id, false) })))
	mux.Handle("POST /api/v1/petitions/{id}/duplicate", a.handle(a.duplicatePetition))
}
