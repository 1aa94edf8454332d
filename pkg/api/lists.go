package api

import (
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

type listOut struct {
	store.List
	Members int64 `json:"members"`
}

func (a *API) createList(w http.ResponseWriter, r *http.Request) error {
	in, err := decodeNamed(r, store.MaxListName)
	if err != nil {
		return err
	}
	l := &store.List{Name: in.Name, Description: in.Description}
	if err := a.store.CreateList(r.Context(), l); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, listOut{List: *l})
	return nil
}

func (a *API) getList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	l, err := a.store.GetList(r.Context(), id)
	if err != nil {
		return err
	}
	n, err := a.store.CountListMembers(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, listOut{List: *l, Members: n})
	return nil
}

func (a *API) listLists(w http.ResponseWriter, r *http.Request) error {
	ls, err := a.store.ListLists(r.Context())
	if err != nil {
		return err
	}
	if ls == nil {
		ls = []store.List{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"lists": ls})
	return nil
}

func (a *API) addMembers(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetList(r.Context(), id); err != nil {
		return err
	}
	var in struct {
		ContactIDs []int64 `json:"contact_ids"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if len(in.ContactIDs) > 100000 {
		return errs.Field("contact_ids", "at most 100000 per request")
	}
	if err := a.store.AddListMembers(r.Context(), id, in.ContactIDs); err != nil {
		return err
	}
	return a.getList(w, r)
}
