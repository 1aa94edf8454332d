package api

import (
	"net/http"
	"strconv"

	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// exportList streams the subscribed members of a list as CSV.
func (a *API) exportList(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := a.store.GetList(r.Context(), id); err != nil {
		return err
	}
	return a.exportCSV(w, r, "list-"+strconv.FormatInt(id, 10)+".csv", store.InList(id).Filter())
}

// exportCSV streams the contacts filter selects as a CSV attachment. Once
// rows are on their way an error can only cut the stream short; it is logged.
func (a *API) exportCSV(w http.ResponseWriter, r *http.Request, filename string, filter store.ContactFilter) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	if err := audience.ExportCSV(r.Context(), a.store, filter, w); err != nil {
		a.log.Error("export contacts", "path", r.URL.Path, "err", err)
	}
	return nil
}
