// Package web serves dearfriend's server-rendered HTML pages. So far: the
// outbox, which shows the mail captured in embedded mode.
//
// It owns HTML pages, their templates and their routes. It must not serve
// JSON (that is pkg/api), query the database other than through the small
// interfaces it declares, or change state on a GET.
package web
