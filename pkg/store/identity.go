package store

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// EmailKey is the form in which addresses are compared: trimmed and
// case-folded, local part included. Every mailbox provider treats
// Jane@Example.org and jane@example.org as one mailbox, and an opt-out must
// hold whatever case the address comes back in; the address as typed stays
// in the email column for display. The key is computed here, never in SQL,
// so both databases and every caller fold case the same way (PostgreSQL's
// lower() depends on the collation and SQLite's folds ASCII only).
//
// Upper-casing before lower-casing folds the letters whose lower case is
// not the lower case of their upper case (dotless ı, long ſ, the Kelvin
// sign), so two addresses that differ only in case, as strings.EqualFold
// sees it, get one key.
func EmailKey(email string) string {
	return strings.ToLower(strings.ToUpper(strings.TrimSpace(email)))
}

// The hooks below keep email_key in step with email on every insert and
// update of a model, so no write path can forget it.
var (
	_ bun.BeforeAppendModelHook = (*Contact)(nil)
	_ bun.BeforeAppendModelHook = (*Suppression)(nil)
	_ bun.BeforeAppendModelHook = (*OrganizationSignature)(nil)
)

// BeforeAppendModel sets the contact's email key.
func (c *Contact) BeforeAppendModel(_ context.Context, _ bun.Query) error {
	c.EmailKey = EmailKey(c.Email)
	return nil
}

// BeforeAppendModel sets the suppression's email key.
func (sp *Suppression) BeforeAppendModel(_ context.Context, _ bun.Query) error {
	sp.EmailKey = EmailKey(sp.Email)
	return nil
}

// BeforeAppendModel sets the signer's email key.
func (o *OrganizationSignature) BeforeAppendModel(_ context.Context, _ bun.Query) error {
	o.EmailKey = EmailKey(o.Email)
	return nil
}
