// Package templates embeds the email layouts, the demo content and the public
// pages, so the binary carries everything it shows. It holds files only.
package templates

import "embed"

// FS holds email/ (layouts), demo/ (seed content), pages/ (public pages)
// and admin/ (the admin UI's pages and its stylesheet).
//
//go:embed email demo pages admin
var FS embed.FS
