// Package templates embeds the email layouts, the demo content and the public
// pages, so the binary carries everything it shows. It holds files only.
package templates

import "embed"

// FS holds email/ (layouts), demo/ (seed content) and pages/ (public pages).
//
//go:embed email demo pages
var FS embed.FS
