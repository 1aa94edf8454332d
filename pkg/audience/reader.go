package audience

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/input"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// Mapping says which contact field each CSV column fills: {"Header": "field"}.
// A field is one of StandardFields, "attributes.KEY" with an optional type
// (":string", ":number", ":bool", ":date"), or "-" to ignore the column.
// Columns not in the mapping are mapped by their header.
type Mapping map[string]string

// StandardFields are the contact fields a column can fill.
// "attributes" is a JSON object of custom fields, as an export writes it.
var StandardFields = []string{"email", "first_name", "last_name", "postal_code", "region", "country", "time_zone", "tags", "consent_at", "attributes"}

// headerAliases maps a normalized header to a standard field.
var headerAliases = map[string]string{
	"email": "email", "e_mail": "email", "email_address": "email", "mail": "email",
	"first_name": "first_name", "firstname": "first_name", "first": "first_name", "given_name": "first_name",
	"last_name": "last_name", "lastname": "last_name", "last": "last_name", "family_name": "last_name", "surname": "last_name",
	"postal_code": "postal_code", "postcode": "postal_code", "zip": "postal_code", "zip_code": "postal_code", "zipcode": "postal_code",
	"region": "region", "state": "region", "province": "region",
	"country": "country", "time_zone": "time_zone", "timezone": "time_zone", "tz": "time_zone",
	"tags": "tags", "tag": "tags", "consent_at": "consent_at", "attributes": "attributes",
	// Read-only columns of an export: an import does not set them.
	"status": "-", "source": "-", "created_at": "-",
}

// Attribute value types.
const (
	TypeString = "string"
	TypeNumber = "number"
	TypeBool   = "bool"
	TypeDate   = "date"
)

var attrKey = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Limits on a file's shape.
const (
	MaxColumns    = 200
	maxFieldBytes = 1000
	maxTags       = 50
)

type column struct {
	field string // a standard field, "attr" or "" (ignored)
	key   string // the attribute key
	typ   string // the attribute type
}

// Reader reads contacts from a CSV file with a header line. It holds one row
// at a time, whatever the size of the file.
type Reader struct {
	csv    *csv.Reader
	header []string
	cols   []column
	rows   int64
	zones  map[string]bool // time zones found valid; loading one reads a file
	// seen maps the hash of each email key read to its first line: a
	// file's second row for one person is a reject, not a silent update.
	// 16 bytes a row whatever the address; two people sharing a 64-bit
	// hash (odds under 1 in 300,000 at ten million rows) would show as a
	// reject naming the line, never as a silent loss.
	seen map[uint64]int64
	seed maphash.Seed
	// normalized counts the valid rows whose region was a state or
	// province name (or a code in lower case) written as its code;
	// changes lists them by the value as typed, at most maxRegionChanges
	// values (the count goes on beyond).
	normalized int64
	changes    map[string]int
	changeList store.RegionChanges
}

// maxRegionChanges bounds the values an import's report lists as written
// as codes: the 64 states, districts, territories and provinces, each in a
// few spellings, fit; a column of free text does not grow it without end.
const maxRegionChanges = 200

// NewReader reads the header of r (in encoding enc) and maps its columns.
// A mapping naming a column the file lacks or an unknown field, and a file
// without an email column, are errors naming "mapping.<Header>" or "mapping".
func NewReader(r io.Reader, enc string, m Mapping) (*Reader, error) {
	cr := csv.NewReader(newCRLFKeeper(decode(r, enc)))
	cr.FieldsPerRecord = -1 // a row of the wrong length is a reject, not the end
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, errs.Field("file", "is empty: the first line must name the columns")
	}
	if err != nil {
		return nil, errs.Field("file", "the header line cannot be read: %v", err)
	}
	if len(header) > MaxColumns {
		return nil, errs.Field("file", "has %d columns, at most %d", len(header), MaxColumns)
	}
	header = append([]string(nil), header...)
	for i := range header {
		header[i] = unescapeField(header[i])
	}
	rd := &Reader{csv: cr, header: header, cols: make([]column, len(header))}
	present := make(map[string]bool, len(header))
	for _, h := range header {
		present[h] = true
	}
	for _, h := range sortedKeys(m) {
		if !present[h] {
			return nil, errs.Field("mapping."+h, "names no column of the file (columns: %s)", strings.Join(header, ", "))
		}
	}
	taken := map[string]string{}
	for i, h := range header {
		col, err := mapColumn(h, m)
		if err != nil {
			return nil, err
		}
		name := col.field
		if col.field == "attr" {
			name = "attributes." + col.key
		}
		if name != "" {
			if prev, dup := taken[name]; dup {
				return nil, errs.Field("mapping."+h, "columns %q and %q both fill %s", prev, h, name)
			}
			taken[name] = h
		}
		rd.cols[i] = col
	}
	if _, ok := taken["email"]; !ok {
		return nil, errs.Field("mapping", "no column holds the email address (columns: %s); name one \"email\" or map it", strings.Join(header, ", "))
	}
	return rd, nil
}

func sortedKeys(m Mapping) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// mapColumn decides what the column headed h fills.
func mapColumn(h string, m Mapping) (column, error) {
	target, explicit := m[h]
	if !explicit {
		key := normalizeHeader(h)
		if key == "" {
			return column{}, nil // an unnamed column is ignored
		}
		if f, ok := headerAliases[key]; ok {
			if f == "-" {
				return column{}, nil
			}
			return column{field: f}, nil
		}
		if !attrKey.MatchString(key) {
			return column{}, errs.Field("mapping."+h, "the header cannot name a custom field; map the column or ignore it with \"-\"")
		}
		return column{field: "attr", key: key, typ: TypeString}, nil
	}
	target = strings.TrimSpace(target)
	if target == "-" || target == "" {
		return column{}, nil
	}
	if key, ok := strings.CutPrefix(target, "attributes."); ok {
		key, typ, hasType := strings.Cut(key, ":")
		if !hasType {
			typ = TypeString
		}
		if !attrKey.MatchString(key) {
			return column{}, errs.Field("mapping."+h, "custom field name %q must be lower-case letters, digits and _, starting with a letter", key)
		}
		switch typ {
		case TypeString, TypeNumber, TypeBool, TypeDate:
		default:
			return column{}, errs.Field("mapping."+h, "unknown type %q: use string, number, bool or date", typ)
		}
		return column{field: "attr", key: key, typ: typ}, nil
	}
	for _, f := range StandardFields {
		if target == f {
			return column{field: f}, nil
		}
	}
	return column{}, errs.Field("mapping."+h, "unknown field %q: use one of %s, attributes.KEY[:type] or -", target, strings.Join(StandardFields, ", "))
}

// normalizeHeader is a header as a key: lower-case, runs of other characters
// than letters and digits turned into one underscore.
func normalizeHeader(h string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		} else {
			under = true
		}
	}
	return b.String()
}

// Header is the header line of the file.
func (rd *Reader) Header() []string { return rd.header }

// RegionChanges lists the values of the valid rows read so far written as
// their state or province codes, with their rows, ordered by code then
// value; a copy.
func (rd *Reader) RegionChanges() store.RegionChanges {
	out := slices.Clone(rd.changeList)
	slices.SortFunc(out, func(a, b store.RegionChange) int {
		return cmp.Or(cmp.Compare(a.To, b.To), cmp.Compare(a.From, b.From))
	})
	return out
}

// noteRegion counts a row whose region from was written as to.
func (rd *Reader) noteRegion(from, to string) {
	rd.normalized++
	if i, ok := rd.changes[from]; ok {
		rd.changeList[i].Rows++
		return
	}
	if len(rd.changeList) >= maxRegionChanges {
		return
	}
	if rd.changes == nil {
		rd.changes = map[string]int{}
	}
	rd.changes[from] = len(rd.changeList)
	rd.changeList = append(rd.changeList, store.RegionChange{From: from, To: to, Rows: 1})
}

// RegionsNormalized counts the valid rows read so far whose region was
// rewritten as a state or province code ("New York", "ny": "NY").
func (rd *Reader) RegionsNormalized() int64 { return rd.normalized }

// Rows counts the data rows read so far, rejected ones included.
func (rd *Reader) Rows() int64 { return rd.rows }

// Record is one data row: a contact, or the reason it was rejected.
type Record struct {
	Line   int64 // where the row starts in the file (the header is line 1)
	Row    store.ImportRow
	Reject string // why the row is refused; "" for a valid row
	Raw    string // a rejected row as read, one CSV line
}

// Next reads the next data row; io.EOF at the end of the file. A row that
// cannot be parsed or is not valid comes back with Reject set; any other
// error ends the file.
func (rd *Reader) Next() (Record, error) {
	fields, err := rd.csv.Read()
	if errors.Is(err, io.EOF) {
		return Record{}, io.EOF
	}
	var perr *csv.ParseError
	if errors.As(err, &perr) {
		rd.rows++
		return Record{Line: int64(perr.StartLine), Reject: "not valid CSV: " + perr.Err.Error()}, nil
	}
	if err != nil {
		return Record{}, fmt.Errorf("read CSV: %w", err)
	}
	rd.rows++
	for i := range fields {
		fields[i] = unescapeField(fields[i])
	}
	line, _ := rd.csv.FieldPos(0)
	rec := Record{Line: int64(line)}
	if len(fields) != len(rd.header) {
		rec.Reject = fmt.Sprintf("has %d fields, the header has %d", len(fields), len(rd.header))
	} else {
		var typed string
		rec.Row, rec.Reject, typed = rd.contact(fields)
		rec.Row.Line = rec.Line
		if rec.Reject == "" {
			rec.Reject = rd.repeated(rec.Row.Email, rec.Line)
		}
		if rec.Reject == "" && typed != "" {
			rd.noteRegion(typed, rec.Row.Region)
		}
	}
	if rec.Reject != "" {
		rec.Raw = rawLine(fields)
	}
	return rec, nil
}

// repeated says why the row of email at line repeats an earlier one, or ""
// for the first row of a person. Case does not make another person.
func (rd *Reader) repeated(email string, line int64) string {
	if rd.seen == nil {
		rd.seen, rd.seed = map[uint64]int64{}, maphash.MakeSeed()
	}
	h := maphash.String(rd.seed, store.EmailKey(email))
	if first, ok := rd.seen[h]; ok {
		return fmt.Sprintf("repeats line %d: the same address in any letter case; only the first row is imported", first)
	}
	rd.seen[h] = line
	return ""
}

// contact turns the fields of a row into an import row, or says why it
// cannot; typed is the region as typed when it was rewritten as its code.
func (rd *Reader) contact(fields []string) (row store.ImportRow, reject string, typed string) {
	for i, col := range rd.cols {
		v := strings.TrimSpace(fields[i])
		if col.field == "" || v == "" {
			continue
		}
		h := rd.header[i]
		if len(v) > maxFieldBytes {
			return row, fmt.Sprintf("column %q: longer than %d bytes", h, maxFieldBytes), ""
		}
		// A custom field may hold several lines (a quoted cell keeps them);
		// the contact's own fields end up in mail headers and must not.
		if err := input.Check(h, v, col.field == "attr"); err != nil {
			return row, fmt.Sprintf("column %q: %s", h, messageOf(err)), ""
		}
		switch col.field {
		case "email":
			email, err := NormalizeEmail(h, v)
			if err != nil {
				return row, fmt.Sprintf("column %q: %s", h, messageOf(err)), ""
			}
			row.Email = email
		case "first_name":
			row.FirstName = v
		case "last_name":
			row.LastName = v
		case "postal_code":
			row.PostalCode = v
		case "region":
			row.Region = NormalizeRegion(v)
			if row.Region != v {
				typed = v
			}
		case "country":
			row.Country = v
		case "time_zone":
			if !rd.validZone(v) {
				return row, fmt.Sprintf("column %q: %q is not an IANA time zone", h, v), ""
			}
			row.TimeZone = v
		case "consent_at":
			t, ok := parseTime(v)
			if !ok {
				return row, fmt.Sprintf("column %q: %q is not a date (2006-01-02 or RFC 3339)", h, v), ""
			}
			row.ConsentAt = &t
		case "tags":
			tags, reason := splitTags(v)
			if reason != "" {
				return row, fmt.Sprintf("column %q: %s", h, reason), ""
			}
			row.Tags = tags
		case "attributes":
			attrs, err := attributesJSON(v)
			if err != nil {
				return row, fmt.Sprintf("column %q: %v", h, err), ""
			}
			if row.Attributes == nil {
				row.Attributes = map[string]any{}
			}
			for k, val := range attrs {
				if _, set := row.Attributes[k]; !set {
					row.Attributes[k] = val
				}
			}
		case "attr":
			val, err := AttributeValue(col.typ, v)
			if err != nil {
				return row, fmt.Sprintf("column %q: %v", h, err), ""
			}
			if row.Attributes == nil {
				row.Attributes = map[string]any{}
			}
			row.Attributes[col.key] = val
		}
	}
	if row.Email == "" {
		return row, "no email address", ""
	}
	return row, "", typed
}

func (rd *Reader) validZone(v string) bool {
	if rd.zones[v] {
		return true
	}
	if _, err := time.LoadLocation(v); err != nil || v == "Local" {
		return false
	}
	if rd.zones == nil {
		rd.zones = map[string]bool{}
	}
	if len(rd.zones) < 1000 {
		rd.zones[v] = true
	}
	return true
}

func messageOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return err.Error()
}

// AttributeValue converts a text value to a custom field value of type typ:
// a string, a float64 number, a bool, or a date kept as "2006-01-02".
func AttributeValue(typ, v string) (any, error) {
	switch typ {
	case TypeNumber:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number", v)
		}
		return f, nil
	case TypeBool:
		switch strings.ToLower(v) {
		case "true", "yes", "y", "1":
			return true, nil
		case "false", "no", "n", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false", v)
	case TypeDate:
		t, ok := parseTime(v)
		if !ok {
			return nil, fmt.Errorf("%q is not a date (2006-01-02)", v)
		}
		return t.Format(time.DateOnly), nil
	}
	return v, nil
}

// attributesJSON reads a JSON object of custom fields: string, number or bool values.
func attributesJSON(v string) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(v), &m); err != nil || m == nil {
		return nil, fmt.Errorf("is not a JSON object")
	}
	for k, val := range m {
		if err := CheckAttribute(k, val); err != nil || val == nil {
			return nil, fmt.Errorf("custom field %q: a string, a number or true/false named in lower-case letters, digits and _", k)
		}
	}
	return m, nil
}

func parseTime(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, time.DateOnly, time.DateTime} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// splitTags splits "a, b; c" into tag names.
func splitTags(v string) ([]string, string) {
	var tags []string
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ';' }) {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		if len(t) > 100 {
			return nil, fmt.Sprintf("tag %q is longer than 100 bytes", t)
		}
		tags = append(tags, t)
	}
	if len(tags) > maxTags {
		return nil, fmt.Sprintf("more than %d tags", maxTags)
	}
	return tags, ""
}

// rawLine writes fields back as one CSV line, for the rejects file.
func rawLine(fields []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write(fields)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// CheckAttribute reports what is wrong with a custom field set through the
// API: its key must look like an identifier, its value be a string (at most
// 1,000 bytes), a number or a bool; nil (remove it) is allowed.
func CheckAttribute(key string, v any) error {
	if !attrKey.MatchString(key) {
		return fmt.Errorf("a custom field name is lower-case letters, digits and _, starting with a letter")
	}
	switch v := v.(type) {
	case nil, bool, float64:
		return nil
	case string:
		if len(v) > maxFieldBytes {
			return fmt.Errorf("longer than %d bytes", maxFieldBytes)
		}
		if err := input.Check(key, v, true); err != nil {
			return errors.New(messageOf(err))
		}
		return nil
	}
	return fmt.Errorf("must be a string, a number, true or false, or null to remove it")
}
