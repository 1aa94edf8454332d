// Package track owns what a recipient's mail client and browser reach: signed
// tokens, the open pixel, click redirects, unsubscribe (page and RFC 8058
// one-click), the preference center and view in browser, and the recorder
// that buffers opens and clicks and writes them in batches, flagging machine
// activity (privacy proxies, link scanners). A forged or altered token gets a
// 404, never a redirect; a GET never changes a subscription; every form
// carries a CSRF token bound to its link. It must not render campaign emails
// beyond asking for one, nor compute statistics (pkg/store does).
package track
