package audience

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/export"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// WriteRejects writes the rows import id refused as CSV to w: line, reason,
// row as read. The API and the admin UI serve the same file.
func WriteRejects(ctx context.Context, st *store.Store, w io.Writer, id int64) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"line", "reason", "row"})
	err := st.EachImportReject(ctx, id, func(page []store.ImportReject) error {
		for _, rj := range page {
			// The row is what someone uploaded: a cell starting with =, +, -
			// or @ must not run as a formula in the organizer's spreadsheet.
			cw.Write([]string{strconv.FormatInt(rj.Line, 10), export.SafeCell(rj.Reason), export.SafeCell(rj.Raw)})
		}
		cw.Flush()
		return cw.Error()
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}
