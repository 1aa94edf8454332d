package admin

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/export"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// signaturesPerPage is how many signatures a petition's page lists at a time.
const signaturesPerPage = 50

// Choices of the petition form's select fields.
var (
	petitionKinds  = store.PetitionKindPetition + "|" + store.PetitionKindLetter
	petitionStates = "open|closed"
	orgOrders      = store.OrgOrderApproved + "|" + store.OrgOrderAlphabetical
)

func (h *Handler) petitionRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin/petitions", h.page(store.RoleViewer, h.petitions))
	mux.Handle("GET /admin/petitions/new", h.page(store.RoleOrganizer, h.newPetitionPage))
	mux.Handle("POST /admin/petitions", h.action(store.RoleOrganizer, h.createPetition))
	mux.Handle("GET /admin/petitions/{id}", h.page(store.RoleViewer, h.petition))
	mux.Handle("GET /admin/petitions/{id}/edit", h.page(store.RoleOrganizer, h.editPetitionPage))
	mux.Handle("POST /admin/petitions/{id}", h.action(store.RoleOrganizer, h.editPetition))
	mux.Handle("GET /admin/petitions/{id}/signatures.csv", h.page(store.RoleOrganizer, h.petitionCSV))
	mux.Handle("POST /admin/petitions/{id}/organizations/{org}/approve", h.action(store.RoleOrganizer, h.decideOrganization(store.OrgApproved)))
	mux.Handle("POST /admin/petitions/{id}/organizations/{org}/reject", h.action(store.RoleOrganizer, h.decideOrganization(store.OrgRejected)))
}

// petitionRow is a petition in the list, with its count.
type petitionRow struct {
	store.Petition
	Signatures int64
}

func (h *Handler) petitions(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ps, err := h.Store.ListPetitions(r.Context())
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rows := make([]petitionRow, len(ps))
	for i, p := range ps {
		// A letter counts the organizations listed on it.
		count := h.Store.CountSignatures
		if p.Kind == store.PetitionKindLetter {
			count = func(ctx context.Context, id int64) (int64, error) {
				return h.Store.CountOrganizations(ctx, id, store.OrgApproved)
			}
		}
		n, err := count(r.Context(), p.ID)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		rows[i] = petitionRow{p, n}
	}
	h.render(w, r, s, http.StatusOK, "petitions.html", view{Title: "Petitions and letters", Section: "Petitions", Data: rows})
}

// petitionOf returns the petition the path's {id} names.
func (h *Handler) petitionOf(r *http.Request) (*store.Petition, error) {
	id, err := routeID(r, "petition")
	if err != nil {
		return nil, err
	}
	return h.Store.GetPetition(r.Context(), id)
}

// petitionNotices are the confirmations a petition's page shows after a change (?saved=).
var petitionNotices = map[string]string{"created": "The petition is created.", "petition": "The petition is saved.",
	store.OrgApproved: "The organization is approved: it is listed on the letter.", store.OrgRejected: "The organization is rejected: it is not listed."}

// petition shows a petition: what it says, where its signatures came from
// (by day, by campaign, by share link), the organizations of a letter to
// approve, and its signatures a page at a time (?after= the last id shown).
func (h *Handler) petition(w http.ResponseWriter, r *http.Request, s *signedIn) {
	ctx := r.Context()
	p, err := h.petitionOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	rep, err := h.Store.PetitionReport(ctx, p.ID)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	var orgs []store.OrganizationSignature
	if p.Kind == store.PetitionKindLetter {
		if orgs, err = h.Store.OrganizationSignatures(ctx, p.ID, ""); err != nil {
			h.failFor(w, r, s, err)
			return
		}
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	sigs, err := h.Store.SignaturePage(ctx, p.ID, max(after, 0), signaturesPerPage)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	var next string
	if len(sigs) == signaturesPerPage {
		next = "/admin/petitions/" + strconv.FormatInt(p.ID, 10) + "?" + url.Values{"after": {strconv.FormatInt(sigs[len(sigs)-1].ID, 10)}}.Encode() + "#signatures"
	}
	byDay := Chart{ID: "by-day", Title: "Signatures by day (UTC)", Unit: "signatures", Bars: true, Series: []Series{{Name: "Signatures"}}}
	days := rep.ByDay
	if p.Kind == store.PetitionKindLetter {
		byDay = Chart{ID: "by-day", Title: "Organizations signed on by day (UTC)", Unit: "organizations", Bars: true,
			Series: []Series{{Name: "Organizations signed on"}}}
		days = rep.OrgsByDay
	}
	for _, d := range days {
		byDay.Labels = append(byDay.Labels, d.Day)
		byDay.Series[0].Values = append(byDay.Series[0].Values, d.Signatures)
	}
	chart, err := byDay.HTML()
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.render(w, r, s, http.StatusOK, "petition.html", view{Title: p.Title, Section: "Petitions", Notice: petitionNotices[r.URL.Query().Get("saved")],
		Data: struct {
			Petition      *store.Petition
			Report        *store.PetitionReport
			ByDay         template.HTML
			Organizations []store.OrganizationSignature
			Signatures    []store.SignatureRow
			Next          string
			Continued     bool
		}{p, rep, chart, orgs, sigs, next, after > 0}})
}

// petitionForm fills the form with p's fields.
func petitionForm(p *store.Petition) *Form {
	state := "open"
	if !p.Open {
		state = "closed"
	}
	return NewForm(url.Values{"slug": {p.Slug}, "title": {p.Title}, "target": {p.Target}, "petition_text": {p.PetitionText},
		"goal": {strconv.FormatInt(p.Goal, 10)}, "state": {state}, "thank_you_text": {p.ThankYouText}, "share_text": {p.ShareText},
		"kind": {p.Kind}, "org_order": {p.OrgOrder}})
}

// readPetition fills p from the form and checks it with the API's rules
// (store.CheckPetition); problems go to their field.
func readPetition(f *Form, p *store.Petition) bool {
	p.Slug, p.Title, p.Target, p.PetitionText = f.Get("slug"), f.Get("title"), f.Get("target"), f.Get("petition_text")
	p.ThankYouText, p.ShareText, p.Kind, p.OrgOrder = f.Get("thank_you_text"), f.Get("share_text"), f.Get("kind"), f.Get("org_order")
	p.Open = f.Get("state") != "closed"
	goal := strings.TrimSpace(f.Get("goal"))
	if goal == "" {
		goal = "0"
	}
	n, err := strconv.ParseInt(goal, 10, 64)
	if err != nil {
		f.Fail("goal", "Type a whole number of signatures, or 0 for no goal.")
	}
	p.Goal = n
	if err := store.CheckPetition(p); err != nil && !f.Take(err) {
		f.Fail("", sentence(err.Error()))
	}
	return f.OK()
}

func (h *Handler) newPetitionPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := petitionForm(&store.Petition{Open: true, Kind: store.PetitionKindPetition, OrgOrder: store.OrgOrderApproved})
	h.showPetitionForm(w, r, s, http.StatusOK, nil, f)
}

// showPetitionForm draws the create form (p nil) or the edit form of p.
func (h *Handler) showPetitionForm(w http.ResponseWriter, r *http.Request, s *signedIn, status int, p *store.Petition, f *Form) {
	title, action := "New petition or letter", "/admin/petitions"
	if p != nil {
		title, action = "Edit "+p.Title, "/admin/petitions/"+strconv.FormatInt(p.ID, 10)
	}
	h.render(w, r, s, status, "petition_edit.html", view{Title: title, Section: "Petitions", Form: f,
		Data: struct {
			Petition                 *store.Petition
			Action                   string
			Kinds, States, OrgOrders string
		}{p, action, petitionKinds, petitionStates, orgOrders}})
}

func (h *Handler) createPetition(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := NewForm(r.PostForm)
	p := &store.Petition{}
	if readPetition(f, p) {
		if err := h.Store.CreatePetition(r.Context(), p); err != nil && !f.Take(err) {
			h.failFor(w, r, s, err)
			return
		}
	}
	if !f.OK() {
		h.showPetitionForm(w, r, s, http.StatusUnprocessableEntity, nil, f)
		return
	}
	savedPetition(w, r, p, "created")
}

func (h *Handler) editPetitionPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	p, err := h.petitionOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	h.showPetitionForm(w, r, s, http.StatusOK, p, petitionForm(p))
}

func (h *Handler) editPetition(w http.ResponseWriter, r *http.Request, s *signedIn) {
	p, err := h.petitionOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	f := NewForm(r.PostForm)
	saved := *p
	if readPetition(f, &saved) {
		if err := h.Store.UpdatePetition(r.Context(), &saved); err != nil && !f.Take(err) {
			h.failFor(w, r, s, err)
			return
		}
	}
	if !f.OK() {
		h.showPetitionForm(w, r, s, http.StatusUnprocessableEntity, p, f)
		return
	}
	savedPetition(w, r, p, "petition")
}

// savedPetition sends the browser back to the petition's page, saying what changed.
func savedPetition(w http.ResponseWriter, r *http.Request, p *store.Petition, what string) {
	http.Redirect(w, r, "/admin/petitions/"+strconv.FormatInt(p.ID, 10)+"?saved="+what, http.StatusSeeOther)
}

// decideOrganization approves or rejects an organization's signature of a letter.
func (h *Handler) decideOrganization(status string) func(http.ResponseWriter, *http.Request, *signedIn) {
	return func(w http.ResponseWriter, r *http.Request, s *signedIn) {
		p, err := h.petitionOf(r)
		if err != nil {
			h.failFor(w, r, s, err)
			return
		}
		orgID, err := strconv.ParseInt(r.PathValue("org"), 10, 64)
		if err != nil || orgID <= 0 {
			h.failFor(w, r, s, errs.New(errs.NotFound, "There is no organization signature %q.", r.PathValue("org")))
			return
		}
		if _, err := h.Store.DecideOrganization(r.Context(), p.ID, orgID, status); err != nil {
			h.failFor(w, r, s, err)
			return
		}
		http.Redirect(w, r, "/admin/petitions/"+strconv.FormatInt(p.ID, 10)+"?saved="+status+"#organizations", http.StatusSeeOther)
	}
}

// petitionCSV downloads the list for the target, as the API's export does.
func (h *Handler) petitionCSV(w http.ResponseWriter, r *http.Request, s *signedIn) {
	p, err := h.petitionOf(r)
	if err != nil {
		h.failFor(w, r, s, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	export.Headers(w, export.PetitionFilename(p))
	if err := export.PetitionSignatures(r.Context(), w, h.Store, p); err != nil {
		// The header is out: the best left is to cut the file short and log.
		h.Log.Error("export petition signatures", "petition_id", p.ID, "err", err)
	}
}
