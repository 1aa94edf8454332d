package store

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
)

// Cond is a condition on a contact (the table aliased c), built from bun
// queries over the allowlist below. Every value it carries is a bound
// parameter; the SQL text comes only from this file. pkg/audience builds Conds
// from segment rule trees; nothing outside pkg/store sees what is inside.
type Cond struct {
	build func(db bun.IDB) schema.QueryAppender
}

// FieldType is the type of a contact field a condition compares.
type FieldType string

// The field types.
const (
	TextField   FieldType = "text"
	TimeField   FieldType = "time"
	NumberField FieldType = "number"
	BoolField   FieldType = "bool"
)

// Op is a comparison of a field with values.
type Op string

// The comparisons. Time fields take the order comparisons and exists;
// text fields take equality, contains, starts_with, in and exists.
const (
	OpEquals     Op = "equals"
	OpNotEquals  Op = "not_equals"
	OpContains   Op = "contains"
	OpStartsWith Op = "starts_with"
	OpIn         Op = "in"
	OpExists     Op = "exists"
	OpGT         Op = "gt"
	OpGTE        Op = "gte"
	OpLT         Op = "lt"
	OpLTE        Op = "lte"
)

type segmentField struct {
	column   string
	typ      FieldType
	nullable bool
	// emailKey: the column holds EmailKey values, and so are the values
	// compared with it folded, so a rule matches an address in any case.
	emailKey bool
}

// segmentFields is the allowlist of contact columns a segment may name.
// Adding a field is one line.
var segmentFields = map[string]segmentField{
	"email":       {column: "c.email_key", typ: TextField, emailKey: true},
	"first_name":  {column: "c.first_name", typ: TextField},
	"last_name":   {column: "c.last_name", typ: TextField},
	"status":      {column: "c.status", typ: TextField},
	"postal_code": {column: "c.postal_code", typ: TextField},
	"region":      {column: "c.region", typ: TextField},
	"country":     {column: "c.country", typ: TextField},
	"time_zone":   {column: "c.time_zone", typ: TextField},
	"source":      {column: "c.source", typ: TextField},
	"created_at":  {column: "c.created_at", typ: TimeField},
	"consent_at":  {column: "c.consent_at", typ: TimeField, nullable: true},
}

// SegmentField returns the type of the contact field name, if a segment may name it.
func SegmentField(name string) (FieldType, bool) {
	f, ok := segmentFields[name]
	return f.typ, ok
}

// SegmentFields returns the names of the fields a segment may name, sorted.
func SegmentFields() []string {
	names := make([]string, 0, len(segmentFields))
	for n := range segmentFields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func expr(query string, args ...any) Cond {
	return Cond{build: func(bun.IDB) schema.QueryAppender { return bun.SafeQuery(query, args...) }}
}

// coalesce makes a comparison that may be NULL (a missing attribute, an empty
// nullable column) false, so that NOT of it is true: two-valued logic, as an
// organizer reads a rule.
func coalesce(c Cond) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		return bun.SafeQuery("COALESCE((?), FALSE)", c.build(db))
	}}
}

// All is true when every c is; All() is true.
func All(cs ...Cond) Cond { return join(" AND ", "1 = 1", cs) }

// Any is true when one c is; Any() is false.
func Any(cs ...Cond) Cond { return join(" OR ", "1 = 0", cs) }

func join(sep, empty string, cs []Cond) Cond {
	if len(cs) == 0 {
		return expr(empty)
	}
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		args := make([]any, len(cs))
		parts := make([]string, len(cs))
		for i, c := range cs {
			args[i], parts[i] = c.build(db), "?"
		}
		return bun.SafeQuery("("+strings.Join(parts, sep)+")", args...)
	}}
}

// Not is true when c is false.
func Not(c Cond) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender { return bun.SafeQuery("NOT (?)", c.build(db)) }}
}

// FieldCond compares the allowlisted contact field name with values: one value
// for a comparison, any number for in, none for exists. Text values are
// strings, time values time.Time. An unknown field is an error.
func FieldCond(name string, op Op, values ...any) (Cond, error) {
	f, ok := segmentFields[name]
	if !ok {
		return Cond{}, fmt.Errorf("segment field %q is not allowed", name)
	}
	if op == OpExists {
		if f.nullable {
			return expr("? IS NOT NULL", bun.Safe(f.column)), nil
		}
		if f.typ == TextField {
			return expr("? <> ''", bun.Safe(f.column)), nil
		}
		return expr("1 = 1"), nil
	}
	if f.emailKey {
		folded := make([]any, len(values))
		for i, v := range values {
			if s, ok := v.(string); ok {
				v = EmailKey(s)
			}
			folded[i] = v
		}
		values = folded
	}
	c, err := compare(func(bun.IDB) schema.QueryAppender { return bun.Safe(f.column) }, op, values)
	if err != nil {
		return Cond{}, fmt.Errorf("segment field %s: %w", name, err)
	}
	if f.nullable {
		c = coalesce(c)
	}
	return c, nil
}

// AttributeCond compares the custom attribute key with values of type typ
// (text, number or bool; dates are "2006-01-02" text). A contact whose value
// is missing or of another JSON type does not match.
func AttributeCond(key string, typ FieldType, op Op, values ...any) (Cond, error) {
	if op == OpExists {
		return Cond{build: func(db bun.IDB) schema.QueryAppender {
			if isPG(db) {
				return bun.SafeQuery("COALESCE(jsonb_typeof(c.attributes -> ?), 'null') <> 'null'", key)
			}
			return bun.SafeQuery("COALESCE(json_type(c.attributes, ?), 'null') <> 'null'", jsonPath(key))
		}}, nil
	}
	var pgType, sqliteTypes, pgCast, sqliteValue string
	switch typ {
	case TextField:
		pgType, sqliteTypes, sqliteValue = "string", "'text'", "json_extract(c.attributes, ?)"
	case NumberField:
		pgType, sqliteTypes, pgCast, sqliteValue = "number", "'integer', 'real'", "::numeric", "json_extract(c.attributes, ?)"
	case BoolField:
		pgType, sqliteTypes, pgCast, sqliteValue = "boolean", "'true', 'false'", "::boolean", "(json_type(c.attributes, ?) = 'true')"
	default:
		return Cond{}, fmt.Errorf("attribute %s: no %s comparison", key, typ)
	}
	value := func(db bun.IDB) schema.QueryAppender {
		if isPG(db) {
			return bun.SafeQuery("(CASE WHEN jsonb_typeof(c.attributes -> ?) = '"+pgType+"' THEN (c.attributes ->> ?)"+pgCast+" END)", key, key)
		}
		return bun.SafeQuery("(CASE WHEN json_type(c.attributes, ?) IN ("+sqliteTypes+") THEN "+sqliteValue+" END)", jsonPath(key), jsonPath(key))
	}
	c, err := compare(value, op, values)
	if err != nil {
		return Cond{}, fmt.Errorf("attribute %s: %w", key, err)
	}
	return coalesce(c), nil
}

// jsonPath is SQLite's path of a top-level key; callers refuse keys holding
// quotes or backslashes, and the path is a bound value all the same.
func jsonPath(key string) string { return `$."` + key + `"` }

func isPG(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

var compareSQL = map[Op]string{
	OpEquals: "? = ?", OpNotEquals: "? <> ?",
	OpGT: "? > ?", OpGTE: "? >= ?", OpLT: "? < ?", OpLTE: "? <= ?",
}

func compare(left func(bun.IDB) schema.QueryAppender, op Op, values []any) (Cond, error) {
	switch op {
	case OpIn:
		if len(values) == 0 {
			return expr("1 = 0"), nil
		}
		return Cond{build: func(db bun.IDB) schema.QueryAppender {
			return bun.SafeQuery("? IN (?)", left(db), bun.List(values))
		}}, nil
	case OpContains, OpStartsWith:
		if len(values) != 1 {
			return Cond{}, fmt.Errorf("%s takes one value", op)
		}
		s, ok := values[0].(string)
		if !ok {
			return Cond{}, fmt.Errorf("%s takes text", op)
		}
		pattern := likeEscaper.Replace(s) + "%"
		if op == OpContains {
			pattern = "%" + pattern
		}
		return Cond{build: func(db bun.IDB) schema.QueryAppender {
			like := "LIKE" // ASCII case-insensitive in SQLite
			if isPG(db) {
				like = "ILIKE"
			}
			return bun.SafeQuery("? "+like+" ? ESCAPE '\\'", left(db), pattern)
		}}, nil
	}
	sqlText, ok := compareSQL[op]
	if !ok {
		return Cond{}, fmt.Errorf("no operator %q", op)
	}
	if len(values) != 1 {
		return Cond{}, fmt.Errorf("%s takes one value", op)
	}
	v := values[0]
	if t, ok := v.(time.Time); ok {
		v = t.UTC()
	}
	return Cond{build: func(db bun.IDB) schema.QueryAppender { return bun.SafeQuery(sqlText, left(db), v) }}, nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// InList is true for a subscribed member of the list.
func InList(listID int64) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		return bun.SafeQuery("EXISTS (?)", db.NewSelect().TableExpr("list_members AS lm").ColumnExpr("1").
			Where("lm.contact_id = c.id").Where("lm.list_id = ?", listID).Where("lm.status = ?", ContactSubscribed))
	}}
}

// Tagged is true for a contact carrying the tag named name.
func Tagged(name string) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		return bun.SafeQuery("EXISTS (?)", db.NewSelect().TableExpr("contact_tags AS ct").ColumnExpr("1").
			Join("JOIN tags AS t ON t.id = ct.tag_id").
			Where("ct.contact_id = c.id").Where("t.name = ?", name))
	}}
}

// SignedPetition is true for a contact whose name is on the petition; its
// negation (Not) selects the people an alert asking again should go to.
func SignedPetition(petitionID int64) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		return bun.SafeQuery("EXISTS (?)", db.NewSelect().TableExpr("signatures AS sg").ColumnExpr("1").
			Where("sg.contact_id = c.id").Where("sg.petition_id = ?", petitionID))
	}}
}

// EventFilter says which events count: of a kind (EventOpen, EventClick), for
// one campaign (0: any), by a person only (not a privacy proxy or link scanner).
type EventFilter struct {
	Kind       string
	CampaignID int64
	HumanOnly  bool
}

// Engaged is true for a contact with an event e selects at or after since (zero: ever).
func Engaged(e EventFilter, since time.Time) Cond {
	return Cond{build: func(db bun.IDB) schema.QueryAppender {
		q := db.NewSelect().TableExpr("events AS e").ColumnExpr("1").
			Where("e.contact_id = c.id").Where("e.kind = ?", e.Kind)
		if e.CampaignID != 0 {
			q = q.Where("e.campaign_id = ?", e.CampaignID)
		}
		if e.HumanOnly {
			q = q.Where("e.machine = ?", false)
		}
		if !since.IsZero() {
			q = q.Where("e.created_at >= ?", since.UTC())
		}
		return bun.SafeQuery("EXISTS (?)", q)
	}}
}

// Filter narrows a query over "contacts AS c" to the contacts for which c
// holds: a segment as an export's ContactFilter.
func (c Cond) Filter() ContactFilter {
	return func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("?", c.build(q.DB())) }
}
