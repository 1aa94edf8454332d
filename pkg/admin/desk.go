package admin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// The organizer's desk: duplicate a message, a campaign or a petition (the
// copy is a draft named "Copy of …"), delete what was never sent, archive
// what was (hidden from the list unless Archived is chosen). Each is a POST
// with the CSRF token, then a redirect to what it made or left; a refusal
// (a message a campaign uses, a campaign not a draft) is a 409 page saying
// why, with nothing changed.
func (h *Handler) deskRoutes(mux *http.ServeMux) {
	st := h.Store
	mux.Handle("POST /admin/messages/{id}/duplicate", h.action(store.RoleOrganizer, h.desk("message", func(ctx context.Context, id int64) (string, error) {
		m, err := st.DuplicateMessage(ctx, id)
		if err != nil {
			return "", err
		}
		return "/admin/messages/" + strconv.FormatInt(m.ID, 10) + "?done=copied", nil
	})))
	mux.Handle("POST /admin/messages/{id}/delete", h.action(store.RoleOrganizer, h.desk("message", func(ctx context.Context, id int64) (string, error) {
		return "/admin/messages?done=deleted", st.DeleteMessage(ctx, id)
	})))
	mux.Handle("POST /admin/messages/{id}/archive", h.action(store.RoleOrganizer, h.desk("message", func(ctx context.Context, id int64) (string, error) {
		return "/admin/messages?done=archived", st.SetMessageArchived(ctx, id, true)
	})))
	mux.Handle("POST /admin/messages/{id}/unarchive", h.action(store.RoleOrganizer, h.desk("message", func(ctx context.Context, id int64) (string, error) {
		return "/admin/messages/" + strconv.FormatInt(id, 10), st.SetMessageArchived(ctx, id, false)
	})))
	mux.Handle("POST /admin/campaigns/{id}/duplicate", h.action(store.RoleOrganizer, h.desk("campaign", func(ctx context.Context, id int64) (string, error) {
		c, err := st.DuplicateCampaign(ctx, id)
		if err != nil {
			return "", err
		}
		return "/admin/campaigns/" + strconv.FormatInt(c.ID, 10), nil
	})))
	mux.Handle("POST /admin/campaigns/{id}/delete", h.action(store.RoleOrganizer, h.desk("campaign", func(ctx context.Context, id int64) (string, error) {
		return "/admin/campaigns?done=deleted", st.DeleteCampaign(ctx, id)
	})))
	mux.Handle("POST /admin/campaigns/{id}/archive", h.action(store.RoleOrganizer, h.desk("campaign", func(ctx context.Context, id int64) (string, error) {
		return "/admin/campaigns?done=archived", st.SetCampaignArchived(ctx, id, true)
	})))
	mux.Handle("POST /admin/campaigns/{id}/unarchive", h.action(store.RoleOrganizer, h.desk("campaign", func(ctx context.Context, id int64) (string, error) {
		return "/admin/campaigns/" + strconv.FormatInt(id, 10), st.SetCampaignArchived(ctx, id, false)
	})))
	mux.Handle("POST /admin/petitions/{id}/duplicate", h.action(store.RoleOrganizer, h.desk("petition", func(ctx context.Context, id int64) (string, error) {
		p, err := st.DuplicatePetition(ctx, id)
		if err != nil {
			return "", err
		}
		return "/admin/petitions/" + strconv.FormatInt(p.ID, 10) + "/edit", nil
	})))
	mux.Handle("POST /admin/messages/blocks", h.action(store.RoleOrganizer, h.blocksHTML))
}

// desk runs do on the path's id and redirects to where it says.
func (h *Handler) desk(what string, do func(ctx context.Context, id int64) (string, error)) func(http.ResponseWriter, *http.Request, *signedIn) {
	return func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		id, err := routeID(r, what)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		to, err := do(r.Context(), id)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		h.Log.Info("desk change from the admin UI", "path", r.URL.Path, "by", s.User.Email)
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

// deskNotices are what the lists say after a desk change.
var deskNotices = map[string]string{"deleted": "Deleted.", "archived": "Archived: it is listed under Archived."}

// archivedFilter reads the lists' filter: ?archived=1 lists the archived.
func archivedFilter(r *http.Request) bool { return r.URL.Query().Get("archived") == "1" }
