package admin

import (
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// sendingRoutes registers the screens from a spreadsheet to a sent
// campaign: import, segments, messages, the campaign wizard and progress.
// Viewers read; organizers change and send.
func (h *Handler) sendingRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/imports/new", h.page(store.RoleOrganizer, h.importForm))
	mux.Handle("POST /admin/imports", h.upload(store.RoleOrganizer, maxImportUpload, h.createImport))
	mux.Handle("GET /admin/imports/{id}", h.page(store.RoleViewer, h.importReport))
	mux.Handle("GET /admin/imports/{id}/rejects.csv", h.page(store.RoleViewer, h.importRejects))

	mux.Handle("GET /admin/segments", h.page(store.RoleViewer, h.segments))
	mux.Handle("GET /admin/segments/new", h.page(store.RoleViewer, h.newSegment))
	// Counting changes nothing, so viewers may; saving checks the role itself.
	mux.Handle("POST /admin/segments/new", h.action(store.RoleViewer, h.newSegmentPost))
	mux.Handle("GET /admin/segments/{id}", h.page(store.RoleViewer, h.segment))
	mux.Handle("POST /admin/segments/{id}", h.action(store.RoleViewer, h.editSegment))

	mux.Handle("GET /admin/messages", h.page(store.RoleViewer, h.messages))
	mux.Handle("GET /admin/messages/new", h.page(store.RoleOrganizer, h.newMessage))
	mux.Handle("POST /admin/messages", h.action(store.RoleOrganizer, h.saveMessage))
	mux.Handle("GET /admin/messages/{id}", h.page(store.RoleViewer, h.message))
	mux.Handle("POST /admin/messages/{id}", h.action(store.RoleOrganizer, h.saveMessage))
	mux.Handle("GET /admin/messages/{id}/preview", h.page(store.RoleViewer, h.previewMessage))
	mux.Handle("POST /admin/messages/{id}/test", h.action(store.RoleOrganizer, h.testMessage))

	mux.Handle("GET /admin/campaigns", h.page(store.RoleViewer, h.campaigns))
	mux.Handle("GET /admin/campaigns/new", h.page(store.RoleOrganizer, h.newCampaign))
	mux.Handle("POST /admin/campaigns/new", h.action(store.RoleOrganizer, h.wizard))
	mux.Handle("GET /admin/campaigns/{id}", h.page(store.RoleViewer, h.campaign))
	mux.Handle("POST /admin/campaigns/{id}/send", h.action(store.RoleOrganizer, h.sendCampaign))
	mux.Handle("POST /admin/campaigns/{id}/pause", h.action(store.RoleOrganizer, h.controlCampaign(pauseSend)))
	mux.Handle("POST /admin/campaigns/{id}/resume", h.action(store.RoleOrganizer, h.controlCampaign(resumeSend)))
	mux.Handle("POST /admin/campaigns/{id}/cancel", h.action(store.RoleOrganizer, h.controlCampaign(cancelSend)))
	mux.Handle("POST /admin/campaigns/{id}/resend-unknown", h.action(store.RoleOrganizer, h.controlCampaign(resendUnknown)))
	mux.Handle("POST /admin/campaigns/{id}/unschedule", h.action(store.RoleOrganizer, h.unscheduleCampaign))
}

// routeID parses the path's {id}; what names the thing in the error.
func routeID(r *http.Request, what string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.New(errs.NotFound, "There is no %s %q.", what, r.PathValue("id"))
	}
	return id, nil
}
