package action

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The sign form's CSRF token is bound to the visitor: a random id in a
// cookie of ours, which another site can neither read nor set, plus the time
// the form was drawn. A token copied from our page into another site's form
// is therefore worthless to that site's visitors, and any token expires.
const (
	visitorCookie = "df_visitor"
	csrfLifetime  = 2 * time.Hour
	// csrfSkew tolerates clocks of several servers a little apart.
	csrfSkew = time.Minute
)

// visitor returns the visitor id of the request, setting a new one on w when
// there is none (or it is not one of ours in shape).
func (h *Handler) visitor(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(visitorCookie); err == nil && validVisitor(c.Value) {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: visitorCookie, Value: id, Path: "/a/", HttpOnly: true,
		Secure: strings.HasPrefix(h.PublicURL, "https://"), SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	return id
}

func validVisitor(v string) bool {
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	return err == nil && len(b) == 16
}

// csrfMessage is what a sign form's token signs: the petition, the
// recognized recipient's link token (empty for anyone else), the visitor and
// the time the form was drawn.
func csrfMessage(slug, link, visitor string, at int64) string {
	return slug + "\x00" + link + "\x00" + visitor + "\x00" + strconv.FormatInt(at, 10)
}

// csrf returns the token of a sign form drawn now for visitor.
func (h *Handler) csrf(slug, link, visitor string) string {
	at := h.now().Unix()
	return strconv.FormatInt(at, 10) + "." + h.Signer.CSRF(csrfPurpose, csrfMessage(slug, link, visitor, at))
}

// checkCSRF reports whether got is a token drawn for the visitor of r, for
// this petition and link, less than csrfLifetime ago.
func (h *Handler) checkCSRF(r *http.Request, slug, link, got string) bool {
	c, err := r.Cookie(visitorCookie)
	if err != nil || !validVisitor(c.Value) {
		return false
	}
	ts, mac, ok := strings.Cut(got, ".")
	at, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return false
	}
	age := h.now().Sub(time.Unix(at, 0))
	if age > csrfLifetime || age < -csrfSkew {
		return false
	}
	return h.Signer.CheckCSRF(csrfPurpose, csrfMessage(slug, link, c.Value, at), mac)
}
