// Package export writes the CSV files organizers download, the same from the
// JSON API and from the admin UI: it streams rows page by page from
// pkg/store, so memory stays flat whatever the size. It must not decide who
// may download; its callers do.
package export

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// Page is the rows read per query of an export.
const Page = 1000

// SafeCell keeps a spreadsheet from reading a cell as a formula.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Headers makes an answer a CSV download named filename.
func Headers(w http.ResponseWriter, filename string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, filename))
}

// PetitionFilename is the name a petition's signatures download under.
func PetitionFilename(p *store.Petition) string {
	if p.Kind == store.PetitionKindLetter {
		return p.Slug + "-organizations.csv"
	}
	return p.Slug + "-signatures.csv"
}

// PetitionSignatures writes the list delivered to p's target: people with
// their place, comment and date, or for a letter the approved organizations.
// No email address: the target gets names, not a mailing list. An error
// after the first row leaves the file cut short; the caller logs it.
func PetitionSignatures(ctx context.Context, w io.Writer, st *store.Store, p *store.Petition) error {
	cw := csv.NewWriter(w)
	if p.Kind == store.PetitionKindLetter {
		orgs, err := st.ApprovedOrganizations(ctx, p)
		if err != nil {
			return err
		}
		cw.Write([]string{"organization", "contact_name", "website", "approved_at"})
		for _, o := range orgs {
			approved := ""
			if o.DecidedAt != nil {
				approved = o.DecidedAt.UTC().Format(time.RFC3339)
			}
			cw.Write([]string{SafeCell(o.Organization), SafeCell(o.ContactName), SafeCell(o.Website), approved})
		}
		cw.Flush()
		return cw.Error()
	}
	cw.Write([]string{"first_name", "last_name", "city", "region", "postal_code", "comment", "signed_at"})
	var after int64
	for {
		rows, err := st.SignaturePage(ctx, p.ID, after, Page)
		if err != nil {
			return fmt.Errorf("export petition %d signatures after %d: %w", p.ID, after, err)
		}
		for _, s := range rows {
			cw.Write([]string{SafeCell(s.FirstName), SafeCell(s.LastName), SafeCell(s.City), SafeCell(s.Region), SafeCell(s.PostalCode),
				SafeCell(s.Comment), s.CreatedAt.UTC().Format(time.RFC3339)})
			after = s.ID
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err // the client went away
		}
		if len(rows) < Page {
			return nil
		}
	}
}

// Person writes everything stored about one person (store.PersonData) as a
// JSON download named contact-<id>.json: what a person asking for their
// data is handed.
func Person(w http.ResponseWriter, rec *store.PersonRecord) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contact-%d.json"`, rec.Contact.ID))
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(rec) // an error here is the client gone; the headers are sent
}
