package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// Routes registers every API route on mux.
func (a *API) Routes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/contacts", a.handle(a.listContacts))
	mux.Handle("POST /api/v1/contacts", a.handle(a.createContact))
	mux.Handle("GET /api/v1/contacts/{id}", a.handle(a.getContact))

	mux.Handle("GET /api/v1/lists", a.handle(a.listLists))
	mux.Handle("POST /api/v1/lists", a.handle(a.createList))
	mux.Handle("GET /api/v1/lists/{id}", a.handle(a.getList))
	mux.Handle("POST /api/v1/lists/{id}/members", a.handle(a.addMembers))

	mux.Handle("GET /api/v1/messages", a.handle(a.listMessages))
	mux.Handle("POST /api/v1/messages", a.handle(a.createMessage))
	mux.Handle("GET /api/v1/messages/{id}", a.handle(a.getMessage))

	mux.Handle("GET /api/v1/campaigns", a.handle(a.listCampaigns))
	mux.Handle("POST /api/v1/campaigns", a.handle(a.createCampaign))
	mux.Handle("GET /api/v1/campaigns/{id}", a.handle(a.getCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/send", a.handle(a.sendCampaign))

	mux.Handle("/api/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFoundRoute(r)
	}))
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
