package audience

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// ExportHeader is the header line of an export. Importing an export gives
// back the same contacts: status, source and created_at are read-only and
// ignored by an import, attributes is a JSON object.
var ExportHeader = []string{"email", "first_name", "last_name", "postal_code", "region", "country", "time_zone",
	"tags", "consent_at", "attributes", "status", "source", "created_at"}

// ExportCSV streams the contacts filter selects to w as CSV, a page at a time.
func ExportCSV(ctx context.Context, st *store.Store, filter store.ContactFilter, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportHeader); err != nil {
		return err
	}
	row := make([]string, len(ExportHeader))
	err := st.EachContact(ctx, filter, func(page []store.TaggedContact) error {
		for _, c := range page {
			attrs := "{}"
			if len(c.Attributes) > 0 {
				b, err := json.Marshal(c.Attributes)
				if err != nil {
					return fmt.Errorf("contact %d attributes: %w", c.ID, err)
				}
				attrs = string(b)
			}
			consent := ""
			if c.ConsentAt != nil {
				consent = c.ConsentAt.UTC().Format(time.RFC3339)
			}
			row = append(row[:0], c.Email, c.FirstName, c.LastName, c.PostalCode, c.Region, c.Country, c.TimeZone,
				strings.Join(c.Tags, ", "), consent, attrs, c.Status, c.Source, c.CreatedAt.UTC().Format(time.RFC3339))
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}
