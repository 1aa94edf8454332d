package action

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
)

// A visitor who is not recognized may type the address of a supporter we
// know. Their signature counts, but what they asked to change of that
// supporter (subscribe them, rename them, move them, list them by name on
// the page) is sealed into a link mailed to the address; only the owner of
// the mailbox can apply it. The link holds the whole request, signed, so
// nothing waits in the database and an altered link is refused.

const (
	confirmPurpose  = "petition-confirm"
	confirmLifetime = 7 * 24 * time.Hour
)

// pending is what an unrecognized visitor asked to change of contact
// ContactID when signing PetitionID.
type pending struct {
	PetitionID int64  `json:"p"`
	ContactID  int64  `json:"c"`
	FirstName  string `json:"f,omitempty"`
	LastName   string `json:"l,omitempty"`
	PostalCode string `json:"z,omitempty"`
	City       string `json:"y,omitempty"`
	OptIn      bool   `json:"o,omitempty"`
	ShowName   bool   `json:"s,omitempty"`
	Expires    int64  `json:"x"`
}

// changes lists, in words, what applying p would change of c; none means
// there is nothing to confirm.
func (p pending) changes(c *store.Contact, org string) []string {
	var out []string
	if p.OptIn && c.Status == store.ContactUnsubscribed {
		out = append(out, "Email me about this campaign and others from "+org+".")
	}
	if p.FirstName != c.FirstName || p.LastName != c.LastName {
		out = append(out, "My name is "+p.FirstName+" "+p.LastName+".")
	}
	if p.PostalCode != "" && p.PostalCode != c.PostalCode {
		out = append(out, "My postal code is "+p.PostalCode+".")
	}
	if p.ShowName {
		place := ""
		if p.City != "" {
			place = " and city (" + p.City + ")"
		}
		out = append(out, "Show my first name"+place+" on the petition's page.")
	}
	return out
}

// seal signs p into a token for a link.
func (h *Handler) seal(p pending) string {
	b, _ := json.Marshal(p)
	body := base64.RawURLEncoding.EncodeToString(b)
	return body + "." + h.Signer.CSRF(confirmPurpose, body)
}

// unseal returns the pending request a token of a link seals, if the token
// verifies and has not expired.
func (h *Handler) unseal(token string) (pending, bool) {
	var p pending
	body, mac, ok := strings.Cut(token, ".")
	if !ok || len(token) > 4096 || !h.Signer.CheckCSRF(confirmPurpose, body, mac) {
		return p, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(body)
	if err != nil || json.Unmarshal(b, &p) != nil || h.now().Unix() > p.Expires {
		return p, false
	}
	return p, true
}

// holdChanges mails c the link that applies what the visitor asked for
// their signature sigID; it reports whether there was anything to confirm.
func (h *Handler) holdChanges(ctx context.Context, pet *store.Petition, c *store.Contact, sigID int64, f fields) bool {
	p := pending{PetitionID: pet.ID, ContactID: c.ID, FirstName: f.FirstName, LastName: f.LastName,
		PostalCode: f.PostalCode, City: f.City, OptIn: f.OptIn, ShowName: f.ShowName,
		Expires: h.now().Add(confirmLifetime).Unix()}
	if len(p.changes(c, h.Org.Name)) == 0 || h.Confirm == nil {
		return false
	}
	link := h.PublicURL + "/a/" + pet.Slug + "/confirm/" + h.seal(p)
	if err := h.Confirm.ConfirmChanges(ctx, sigID, link); err != nil {
		h.Log.Error("queue signature confirmation with changes", "signature_id", sigID, "err", err)
	}
	return true
}

// confirmData is what the confirmation page shows.
type confirmData struct {
	pageData
	Changes []string
	Done    bool
	Expired bool
}

// confirmPage only asks: scanners fetch every link, so a GET changes nothing.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	h.confirmation(w, r, false)
}

// confirm applies the changes the link seals.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request) {
	h.confirmation(w, r, true)
}

func (h *Handler) confirmation(w http.ResponseWriter, r *http.Request, apply bool) {
	d, ok := h.petition(w, r)
	if !ok {
		return
	}
	cd := confirmData{pageData: d}
	p, ok := h.unseal(r.PathValue("token"))
	if !ok || p.PetitionID != d.Petition.ID {
		cd.Expired = true
		h.renderConfirm(w, http.StatusNotFound, cd)
		return
	}
	ctx := r.Context()
	c, err := h.Store.GetContact(ctx, p.ContactID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	cd.Changes = p.changes(c, d.OrgName)
	if !apply {
		h.renderConfirm(w, http.StatusOK, cd)
		return
	}
	if _, err := h.Store.UpsertSigner(ctx, store.Signer{Email: c.Email, FirstName: p.FirstName, LastName: p.LastName,
		PostalCode: p.PostalCode, OptIn: p.OptIn}); err != nil {
		h.fail(w, r, err)
		return
	}
	if p.ShowName {
		if err := h.Store.ShowSignature(ctx, p.PetitionID, c.ID, p.City); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	cd.Done = true
	h.renderConfirm(w, http.StatusOK, cd)
}

func (h *Handler) renderConfirm(w http.ResponseWriter, status int, d confirmData) {
	track.SetPageHeaders(w.Header())
	w.WriteHeader(status)
	if err := h.pages.ExecuteTemplate(w, "confirm.html", d); err != nil {
		h.Log.Error("render action page", "page", "confirm.html", "err", err)
	}
}
