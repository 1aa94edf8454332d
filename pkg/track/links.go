package track

import "net/url"

// Links builds the public URLs of a send; it satisfies render.URLs.
type Links struct {
	base   string
	signer *Signer
}

// NewLinks makes URLs under base (the public URL, no trailing slash).
func NewLinks(base string, signer *Signer) *Links { return &Links{base: base, signer: signer} }

// Click is the tracked URL of a link.
func (l *Links) Click(sendID, linkID int64) string {
	return l.base + "/t/c/" + l.signer.Sign(KindClick, sendID, linkID)
}

// Open is the open pixel.
func (l *Links) Open(sendID int64) string {
	return l.base + "/t/o/" + l.signer.Sign(KindOpen, sendID, 0) + ".gif"
}

// Unsubscribe is the unsubscribe page; an RFC 8058 one-click POST goes to the same URL.
func (l *Links) Unsubscribe(sendID int64) string {
	return l.base + "/u/" + l.signer.Sign(KindUnsubscribe, sendID, 0)
}

// Preferences is the preference page.
func (l *Links) Preferences(sendID int64) string {
	return l.base + "/p/" + l.signer.Sign(KindPreferences, sendID, 0)
}

// View shows the email in a browser.
func (l *Links) View(sendID int64) string {
	return l.base + "/v/" + l.signer.Sign(KindView, sendID, 0)
}

// Action is the recipient's link to the action page slug (a petition): the
// token lets the page recognize them and sign in one click, and names the
// link (linkID, 0 for none) whose click the visit counts as.
func (l *Links) Action(sendID, linkID int64, slug string) string {
	return l.ActionPage(slug) + "?r=" + l.signer.Sign(KindAction, sendID, linkID)
}

// ActionPage is the public page of action slug, as a campaign's links table
// names the link its action_link clicks count for.
func (l *Links) ActionPage(slug string) string {
	return l.base + "/a/" + url.PathEscape(slug)
}

// UnsubscribeToken is the bare token of the unsubscribe URL, for the mailto List-Unsubscribe.
func (l *Links) UnsubscribeToken(sendID int64) string {
	return l.signer.Sign(KindUnsubscribe, sendID, 0)
}

// BounceToken is the token of a send's VERP envelope sender
// (bounce+<token>@<bounce domain>): a bounce addressed to it names the send.
func (l *Links) BounceToken(sendID int64) string {
	return l.signer.Sign(KindBounce, sendID, 0)
}
