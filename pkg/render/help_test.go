package render

import (
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHelpCoversData fails when a merge field or function is added without
// its line of help in the message editor, or help names one that is gone.
func TestHelpCoversData(t *testing.T) {
	var fields []string
	typ := reflect.TypeFor[*Data]()
	for i := range typ.Elem().NumField() {
		if f := typ.Elem().Field(i); f.IsExported() {
			fields = append(fields, "."+f.Name)
		}
	}
	for i := range typ.NumMethod() {
		if m := typ.Method(i); m.Name != "String" {
			fields = append(fields, "."+m.Name)
		}
	}
	var funcs []string
	for name := range funcMap(&Compiled{}) {
		funcs = append(funcs, name)
	}
	names := func(hs []Help) []string {
		var out []string
		for _, h := range hs {
			out = append(out, h.Name)
		}
		slices.Sort(out)
		return out
	}
	slices.Sort(fields)
	slices.Sort(funcs)
	if d := cmp.Diff(fields, names(MergeTags)); d != "" {
		t.Errorf("MergeTags differ from Data's fields and methods (-data +help):\n%s", d)
	}
	if d := cmp.Diff(funcs, names(Functions)); d != "" {
		t.Errorf("Functions differ from the function set (-set +help):\n%s", d)
	}
}
