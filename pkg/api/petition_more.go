package api

import (
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/export"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// petitionReport answers GET /api/v1/petitions/{id}/report: signatures in
// total, by day, by source campaign and by referral.
func (a *API) petitionReport(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rep, err := a.store.PetitionReport(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// petitionSignaturesCSV streams GET /api/v1/petitions/{id}/signatures.csv,
// the list delivered to the target (export.PetitionSignatures).
func (a *API) petitionSignaturesCSV(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := a.store.GetPetition(r.Context(), id)
	if err != nil {
		return err
	}
	export.Headers(w, export.PetitionFilename(p))
	if err := export.PetitionSignatures(r.Context(), w, a.store, p); err != nil {
		// The header is out: the best left is to cut the body short and log.
		a.log.Error("export petition signatures", "petition_id", id, "err", err)
	}
	return nil
}

// listOrganizations answers GET /api/v1/petitions/{id}/organizations, with
// ?status=pending|approved|rejected to narrow it.
func (a *API) listOrganizations(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetPetition(r.Context(), id); err != nil {
		return err
	}
	status := r.URL.Query().Get("status")
	switch status {
	case "", store.OrgPending, store.OrgApproved, store.OrgRejected:
	default:
		return errs.Field("status", "must be %s, %s or %s", store.OrgPending, store.OrgApproved, store.OrgRejected)
	}
	orgs, err := a.store.OrganizationSignatures(r.Context(), id, status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"organizations": orgs})
	return nil
}

func (a *API) approveOrganization(w http.ResponseWriter, r *http.Request) error {
	return a.decideOrganization(w, r, store.OrgApproved)
}

func (a *API) rejectOrganization(w http.ResponseWriter, r *http.Request) error {
	return a.decideOrganization(w, r, store.OrgRejected)
}

// decideOrganization approves or rejects one organization's signature of a letter.
func (a *API) decideOrganization(w http.ResponseWriter, r *http.Request, status string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	orgID, err := strconv.ParseInt(r.PathValue("org_id"), 10, 64)
	if err != nil || orgID <= 0 {
		return errs.New(errs.NotFound, "no such organization signature %q", r.PathValue("org_id"))
	}
	o, err := a.store.DecideOrganization(r.Context(), id, orgID, status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
