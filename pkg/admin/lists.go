package admin

import (
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// listRow is a list with its number of members.
type listRow struct {
	store.List
	Members int64
}

// lists shows every list with its number of members. Creating and editing
// lists is still the API's (POST /api/v1/lists).
func (h *Handler) lists(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ls, err := h.Store.ListLists(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rows := make([]listRow, 0, len(ls))
	for _, l := range ls {
		n, err := h.Store.CountListMembers(r.Context(), l.ID)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		rows = append(rows, listRow{List: l, Members: n})
	}
	h.render(w, r, s, http.StatusOK, "lists.html", view{Title: "Lists", Section: "Lists", Data: rows})
}
