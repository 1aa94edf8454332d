package admin

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
)

// maxFormBytes bounds a form body (a message's HTML is the largest field a
// screen will post; imports upload with their own limit).
const maxFormBytes = 4 << 20

// Form is what a person typed into a screen's form and what was wrong with
// it, field by field, so the page can be shown again with both: each error
// next to its field, the values kept.
type Form struct {
	Values url.Values
	Errors map[string]string // by field name; "" is about the whole form
}

// NewForm makes a form showing values (nil for an empty form).
func NewForm(values url.Values) *Form {
	if values == nil {
		values = url.Values{}
	}
	return &Form{Values: values, Errors: map[string]string{}}
}

// readForm parses a posted form, bounded to maxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) (*Form, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return nil, errs.New(errs.TooLarge, "the form could not be read")
	}
	if err := input.Values(r.PostForm); err != nil {
		return nil, err
	}
	return NewForm(r.PostForm), nil
}

// Get returns a field's value as typed.
func (f *Form) Get(name string) string { return f.Values.Get(name) }

// Ptr returns a pointer to a field's value: how a form fills a patch whose
// nil fields mean "unchanged" (every field of a form is sent, so none is nil).
func (f *Form) Ptr(name string) *string {
	v := f.Values.Get(name)
	return &v
}

// Fail records a problem with a field, keeping the first one per field.
func (f *Form) Fail(name, message string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = message
	}
}

// OK reports whether no problem was recorded.
func (f *Form) OK() bool { return len(f.Errors) == 0 }

// Take records err on its field when it is an invalid-input or conflict
// error, and reports whether it did. Any other error is the caller's to
// fail with. A field path like "attributes.age" or "tags[2]" goes to the
// form's field, "attributes" or "tags".
func (f *Form) Take(err error) bool {
	e, ok := errs.As(err)
	if !ok || (e.Code != errs.Invalid && e.Code != errs.Conflict) {
		return false
	}
	name := e.Field
	if i := strings.IndexAny(name, ".["); i >= 0 {
		name = name[:i]
	}
	f.Fail(name, sentence(e.Message))
	return true
}

// sentence makes a domain error's message ("must be one line...") read as a
// sentence on its own.
func sentence(m string) string {
	if m == "" {
		return m
	}
	m = strings.ToUpper(m[:1]) + m[1:]
	if !strings.HasSuffix(m, ".") {
		m += "."
	}
	return m
}

// Field is one input of a form as the "field" template draws it: a label, the
// input with what was typed, and the error, if any, right under it.
type Field struct {
	Name, Label, Type string
	Value, Error      string
	Hint              string   // help shown under the label
	Options           []string // the choices of a "select"
	Required          bool
	Autocomplete      string // the browser's autofill hint: "email", "current-password", ...
}

// newField builds a Field for the template helper
// {{ template "field" (field .Form "email" "Email" "email") }}; further
// arguments are "required" or key=value pairs: hint=..., options=a|b|c,
// autocomplete=email.
func newField(f *Form, name, label, typ string, more ...string) Field {
	fd := Field{Name: name, Label: label, Type: typ}
	if f != nil {
		fd.Value, fd.Error = f.Get(name), f.Errors[name]
	}
	for _, kv := range more {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "hint":
			fd.Hint = v
		case "options":
			fd.Options = strings.Split(v, "|")
		case "autocomplete":
			fd.Autocomplete = v
		case "required":
			fd.Required = true
		}
	}
	return fd
}
