package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/dearfriend/dearfriend/pkg/bounce"
)

// Mux is where routes are registered: an *http.ServeMux, or a recorder in the
// test that holds the routes and the OpenAPI document to each other.
type Mux interface {
	Handle(pattern string, handler http.Handler)
}

// Routes registers every API route on mux. Each one is described in
// openapi.go; TestOpenAPIMatchesRoutes fails when the two disagree.
func (a *API) Routes(mux Mux) {
	mux.Handle("GET /api/v1/openapi.json", http.HandlerFunc(a.openAPI)) // public: no token

	mux.Handle("GET /api/v1/contacts", a.handle(a.listContacts))
	mux.Handle("POST /api/v1/contacts", a.handle(a.createContact))
	mux.Handle("GET /api/v1/contacts/{id}", a.handle(a.getContact))
	mux.Handle("PATCH /api/v1/contacts/{id}", a.handle(a.updateContact))
	mux.Handle("POST /api/v1/contacts/{id}/tags", a.handle(a.addContactTags))
	mux.Handle("DELETE /api/v1/contacts/{id}/tags/{tag}", a.handle(a.removeContactTag))
	mux.Handle("DELETE /api/v1/contacts/{id}/bounce", a.handle(a.liftBounce))
	mux.Handle("DELETE /api/v1/contacts/{id}", a.handle(a.eraseContact))
	mux.Handle("GET /api/v1/contacts/{id}/export.json", a.handle(a.exportContact))

	mux.Handle("POST /api/v1/imports", a.handleLimit(maxImportBytes, a.createImport))
	mux.Handle("GET /api/v1/imports/{id}", a.handle(a.getImport))
	mux.Handle("GET /api/v1/imports/{id}/rejects.csv", a.handle(a.importRejects))

	mux.Handle("GET /api/v1/suppressions", a.handle(a.listSuppressions))
	mux.Handle("POST /api/v1/suppressions", a.handleLimit(64<<20, a.addSuppressions))
	mux.Handle("DELETE /api/v1/suppressions/{id}", a.handle(a.deleteSuppression))

	mux.Handle("GET /api/v1/lists", a.handle(a.listLists))
	mux.Handle("POST /api/v1/lists", a.handle(a.createList))
	mux.Handle("GET /api/v1/lists/{id}", a.handle(a.getList))
	mux.Handle("POST /api/v1/lists/{id}/members", a.handle(a.addMembers))
	mux.Handle("GET /api/v1/lists/{id}/export.csv", a.handle(a.exportList))

	mux.Handle("GET /api/v1/segments", a.handle(a.listSegments))
	mux.Handle("POST /api/v1/segments", a.handle(a.createSegment))
	mux.Handle("GET /api/v1/segments/{id}", a.handle(a.getSegment))
	mux.Handle("GET /api/v1/segments/{id}/count", a.handle(a.countSegment))
	mux.Handle("GET /api/v1/segments/{id}/preview", a.handle(a.previewSegment))
	mux.Handle("GET /api/v1/segments/{id}/export.csv", a.handle(a.exportSegment))
	mux.Handle("POST /api/v1/segments/count", a.handle(a.countRules))
	mux.Handle("POST /api/v1/segments/preview", a.handle(a.previewRules))

	mux.Handle("GET /api/v1/messages", a.handle(a.listMessages))
	mux.Handle("POST /api/v1/messages", a.handle(a.createMessage))
	mux.Handle("GET /api/v1/messages/{id}", a.handle(a.getMessage))
	mux.Handle("GET /api/v1/messages/{id}/preview", a.handle(a.previewHTML))
	mux.Handle("GET /api/v1/messages/{id}/preview.eml", a.handle(a.previewEML))
	mux.Handle("POST /api/v1/messages/{id}/test", a.handle(a.testMessage))

	mux.Handle("GET /api/v1/campaigns", a.handle(a.listCampaigns))
	mux.Handle("POST /api/v1/campaigns", a.handle(a.createCampaign))
	mux.Handle("GET /api/v1/campaigns/{id}", a.handle(a.getCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/send", a.handle(a.sendCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/schedule", a.handle(a.scheduleCampaign))
	mux.Handle("DELETE /api/v1/campaigns/{id}/schedule", a.handle(a.unscheduleCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/pause", a.handle(a.pauseCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/resume", a.handle(a.resumeCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/cancel", a.handle(a.cancelCampaign))
	mux.Handle("POST /api/v1/campaigns/{id}/resend-unknown", a.handle(a.resendUnknown))
	mux.Handle("GET /api/v1/campaigns/{id}/progress", a.handle(a.campaignProgress))
	mux.Handle("POST /api/v1/campaigns/{id}/rate", a.handle(a.setCampaignRate))
	mux.Handle("GET /api/v1/campaigns/{id}/audience/count", a.handle(a.campaignAudienceCount))
	mux.Handle("POST /api/v1/campaigns/audience/count", a.handle(a.audienceCount))
	mux.Handle("GET /api/v1/campaigns/{id}/stats", a.handle(a.campaignStats))
	mux.Handle("GET /api/v1/campaigns/{id}/stats/hourly", a.handle(a.campaignHourly))
	mux.Handle("GET /api/v1/campaigns/{id}/recipients.csv", a.handle(a.campaignRecipientsCSV))
	mux.Handle("GET /api/v1/campaigns/{id}/variants", a.handle(a.campaignVariants))
	mux.Handle("POST /api/v1/campaigns/{id}/winner", a.handle(a.chooseWinner))

	mux.Handle("GET /api/v1/petitions", a.handle(a.listPetitions))
	mux.Handle("POST /api/v1/petitions", a.handle(a.createPetition))
	mux.Handle("GET /api/v1/petitions/{id}", a.handle(a.getPetition))
	mux.Handle("GET /api/v1/petitions/{id}/report", a.handle(a.petitionReport))
	mux.Handle("GET /api/v1/petitions/{id}/signatures.csv", a.handle(a.petitionSignaturesCSV))
	mux.Handle("GET /api/v1/petitions/{id}/organizations", a.handle(a.listOrganizations))
	mux.Handle("POST /api/v1/petitions/{id}/organizations/{org_id}/approve", a.handle(a.approveOrganization))
	mux.Handle("POST /api/v1/petitions/{id}/organizations/{org_id}/reject", a.handle(a.rejectOrganization))

	a.deskRoutes(mux)

	mux.Handle("GET /api/v1/topics", a.handle(a.listTopics))
	mux.Handle("POST /api/v1/topics", a.handle(a.createTopic))
	mux.Handle("GET /api/v1/topics/{id}", a.handle(a.getTopic))

	mux.Handle("POST /api/v1/bounces", a.handleLimit(bounce.MaxSize, a.takeBounces))
	mux.Handle("GET /api/v1/stats/bounces", a.handle(a.bounceStats))

	mux.Handle("GET /api/v1/webhooks", a.handle(a.listWebhooks))
	mux.Handle("POST /api/v1/webhooks", a.handle(a.createWebhook))
	mux.Handle("DELETE /api/v1/webhooks/{id}", a.handle(a.deleteWebhook))

	mux.Handle("/api/", a.handle(func(w http.ResponseWriter, r *http.Request) error {
		return notFoundRoute(r)
	}))
}

func requestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
