package action

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// A sign post answers with a redirect to the thank-you page (post,
// redirect, get), so reloading it, going back to it and sharing from it
// work and nothing is posted twice. What the page says is carried by its
// address, signed: whether the signature was new, and the signer's contact
// (for the share links' referral code) and first name as typed, never the
// name we hold for an address a stranger typed.
const thanksPurpose = "petition-thanks"

// thanksState is what a thank-you page shows of its signer.
type thanksState struct {
	New       bool
	ContactID int64
	FirstName string
}

// encode writes s as the t parameter of petition slug's thank-you page.
func (h *Handler) encodeThanks(slug string, s thanksState) string {
	flag := "0"
	if s.New {
		flag = "1"
	}
	body := flag + "." + strconv.FormatInt(s.ContactID, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(s.FirstName))
	return body + "." + h.Signer.CSRF(thanksPurpose, slug+"\x00"+body)
}

// decodeThanks reads the t parameter of slug's thank-you page; ok is false
// for one we did not sign for this petition.
func (h *Handler) decodeThanks(slug, t string) (thanksState, bool) {
	i := strings.LastIndexByte(t, '.')
	if i < 0 || !h.Signer.CheckCSRF(thanksPurpose, slug+"\x00"+t[:i], t[i+1:]) {
		return thanksState{}, false
	}
	parts := strings.Split(t[:i], ".")
	if len(parts) != 3 || (parts[0] != "0" && parts[0] != "1") {
		return thanksState{}, false
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	name, nerr := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || id < 0 || nerr != nil || !utf8.Valid(name) {
		return thanksState{}, false
	}
	return thanksState{New: parts[0] == "1", ContactID: id, FirstName: string(name)}, true
}

// thank answers a sign post with a 303 to the thank-you page of c (whose
// ID may be zero: no referral code) on d's petition.
func (h *Handler) thank(w http.ResponseWriter, r *http.Request, d pageData, c *store.Contact, isNew bool) {
	var st thanksState
	if c != nil {
		st = thanksState{New: isNew, ContactID: c.ID, FirstName: c.FirstName}
	} else {
		st.New = isNew
	}
	u := "/a/" + url.PathEscape(d.Petition.Slug) + "/thanks?" + url.Values{"t": {h.encodeThanks(d.Petition.Slug, st)}}.Encode()
	http.Redirect(w, r, u, http.StatusSeeOther)
}

// thanks is the thank-you page: the count as it is now, the organizer's
// thank-you text and the share links carrying the signer's referral code.
// An address without a valid t goes to the petition's page.
func (h *Handler) thanks(w http.ResponseWriter, r *http.Request) {
	d, ok := h.petition(w, r)
	if !ok {
		return
	}
	st, ok := h.decodeThanks(d.Petition.Slug, r.URL.Query().Get("t"))
	if !ok {
		http.Redirect(w, r, "/a/"+url.PathEscape(d.Petition.Slug), http.StatusSeeOther)
		return
	}
	d.New = st.New
	d.ShareURL = h.PublicURL + "/a/" + d.Petition.Slug
	if !d.Letter {
		d.Signer = &store.Contact{ID: st.ContactID, FirstName: st.FirstName}
		if st.ContactID != 0 {
			d.ShareURL += "?ref=" + h.referral(st.ContactID)
		}
	}
	d.ShareText = cmp.Or(d.Petition.ShareText, d.Petition.Title)
	h.show(w, r, http.StatusOK, "thanks.html", d)
}
