// Package track owns what a recipient's mail client and browser reach: signed
// tokens, the open pixel, click redirects, unsubscribe (page and RFC 8058
// one-click), the preference page and view in browser. A forged or altered
// token gets a 404, never a redirect; a GET never changes a subscription. It
// must not render campaign emails beyond asking pkg/render for one.
package track
