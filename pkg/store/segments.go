package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// Segment is a saved rule tree, evaluated whenever it is counted or sent to.
type Segment struct {
	bun.BaseModel `bun:"table:segments"`
	ID            int64           `bun:"id,pk,autoincrement" json:"id"`
	Name          string          `bun:"name" json:"name"`
	Description   string          `bun:"description" json:"description"`
	Rules         json.RawMessage `bun:"rules,type:json" json:"rules"`
	CreatedAt     time.Time       `bun:"created_at" json:"created_at"`
	UpdatedAt     time.Time       `bun:"updated_at" json:"updated_at"`
}

// SegmentCompiler compiles a saved segment's rule tree into a condition as of
// now. pkg/audience owns the rule vocabulary and provides it; the store only
// knows conditions.
type SegmentCompiler func(rules json.RawMessage, now time.Time) (Cond, error)

// UseSegmentCompiler sets how saved segments are compiled. Call it once, before
// serving; without it an audience naming a segment is refused.
func (s *Store) UseSegmentCompiler(fn SegmentCompiler) { s.segments = fn }

// CreateSegment inserts g; a name already taken is a conflict. The caller has
// validated g.Rules.
func (s *Store) CreateSegment(ctx context.Context, g *Segment) error {
	now := time.Now().UTC()
	g.CreatedAt, g.UpdatedAt = now, now
	if _, err := s.db.NewInsert().Model(g).Returning("id").Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a segment named %q already exists", g.Name), Err: err}
		}
		return fmt.Errorf("insert segment: %w", err)
	}
	return nil
}

// UpdateSegment replaces the name, description and rules of segment g.ID;
// a name another segment has is a conflict, an id naming none not found.
// The caller has validated g.Rules. Campaigns not yet sent to the segment
// reach whom the new rules select.
func (s *Store) UpdateSegment(ctx context.Context, g *Segment) error {
	g.UpdatedAt = time.Now().UTC()
	res, err := s.db.NewUpdate().Model(g).Column("name", "description", "rules", "updated_at").WherePK().Exec(ctx)
	if err != nil {
		if isUniqueViolation(err) {
			return &errs.Error{Code: errs.Conflict, Field: "name", Message: fmt.Sprintf("a segment named %q already exists", g.Name), Err: err}
		}
		return fmt.Errorf("update segment %d: %w", g.ID, err)
	}
	return oneRow(res, "segment", g.ID)
}

// TagNames returns the name of every tag, sorted: the choices a segment
// builder suggests.
func (s *Store) TagNames(ctx context.Context) ([]string, error) {
	names := []string{}
	if err := s.db.NewSelect().Model((*Tag)(nil)).Column("name").Order("name").Scan(ctx, &names); err != nil {
		return nil, fmt.Errorf("tag names: %w", err)
	}
	return names, nil
}

// GetSegment returns the segment with id.
func (s *Store) GetSegment(ctx context.Context, id int64) (*Segment, error) {
	var g Segment
	if err := s.db.NewSelect().Model(&g).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "segment", id)
	}
	return &g, nil
}

// ListSegments returns every segment in id order.
func (s *Store) ListSegments(ctx context.Context) ([]Segment, error) {
	var gs []Segment
	err := s.db.NewSelect().Model(&gs).Order("id").Scan(ctx)
	return gs, err
}

// CountWhere counts the contacts for which cond holds, whatever their
// status (but erased).
func (s *Store) CountWhere(ctx context.Context, cond Cond) (int64, error) {
	n, err := s.db.NewSelect().TableExpr("contacts AS c").Where("?", cond.build(s.db)).Where("c.status <> ?", ContactErased).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count segment: %w", err)
	}
	return n, nil
}

// PreviewWhere returns the first limit contacts (by id) for which cond holds.
func (s *Store) PreviewWhere(ctx context.Context, cond Cond, limit int) ([]Contact, error) {
	cs := []Contact{}
	err := s.db.NewSelect().Model(&cs).ModelTableExpr("contacts AS c").ColumnExpr("c.*").
		Where("?", cond.build(s.db)).Where("c.status <> ?", ContactErased).OrderExpr("c.id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("preview segment: %w", err)
	}
	return cs, nil
}

// CheckAudience reports, naming the field, ids of aud that name no list or segment.
func (s *Store) CheckAudience(ctx context.Context, aud Audience) error {
	return checkAudience(ctx, s.db, aud)
}

func checkAudience(ctx context.Context, db bun.IDB, aud Audience) error {
	for _, f := range []struct {
		field string
		model any
		ids   []int64
	}{
		{"audience.lists", (*List)(nil), aud.Lists},
		{"audience.segments", (*Segment)(nil), aud.Segments},
		{"audience.exclude_lists", (*List)(nil), aud.ExcludeLists},
		{"audience.exclude_segments", (*Segment)(nil), aud.ExcludeSegments},
	} {
		if len(f.ids) == 0 {
			continue
		}
		n, err := db.NewSelect().Model(f.model).Where("id IN (?)", bun.List(f.ids)).Count(ctx)
		if err != nil {
			return err
		}
		if n != int64(len(uniq(f.ids))) {
			return errs.Field(f.field, "some ids name nothing")
		}
	}
	return nil
}

// CountAudience returns how many contacts a campaign to aud with topicID
// would be sent to now: exactly what StartCampaign would snapshot.
func (s *Store) CountAudience(ctx context.Context, aud Audience, topicID *int64) (int64, error) {
	if err := checkAudience(ctx, s.db, aud); err != nil {
		return 0, err
	}
	q, err := s.audienceQuery(ctx, s.db, aud, topicID, time.Now().UTC())
	if err != nil {
		return 0, err
	}
	n, err := q.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count audience: %w", err)
	}
	return n, nil
}

// audienceQuery selects the contacts (aliased c) a campaign to aud reaches at
// now: members of its lists and segments, each contact once, minus members of
// its excluded lists and segments, and always minus everyone not subscribed,
// suppressed (by address or domain) or held back by their preferences.
// StartCampaign snapshots it and CountAudience counts it, so the count shown
// before a send is the number sent to.
func (s *Store) audienceQuery(ctx context.Context, db bun.IDB, aud Audience, topicID *int64, now time.Time) (*bun.SelectQuery, error) {
	var include, exclude []Cond
	for _, id := range aud.Lists {
		include = append(include, InList(id))
	}
	for _, id := range aud.ExcludeLists {
		exclude = append(exclude, InList(id))
	}
	for _, g := range []struct {
		ids  []int64
		into *[]Cond
	}{{aud.Segments, &include}, {aud.ExcludeSegments, &exclude}} {
		for _, id := range g.ids {
			c, err := s.segmentCond(ctx, db, id, now)
			if err != nil {
				return nil, err
			}
			*g.into = append(*g.into, c)
		}
	}
	q := db.NewSelect().TableExpr("contacts AS c").
		Where("c.status = ?", ContactSubscribed).
		Where("?", Any(include...).build(db)).
		Where("NOT EXISTS (?)", s.suppressedQuery(db, "c.email_key"))
	if len(exclude) > 0 {
		q = q.Where("NOT ?", Any(exclude...).build(db))
	}
	return applyPreferences(q, topicID, now), nil // topic opt-outs, pauses, frequency caps
}

// segmentCond loads and compiles the segment id.
func (s *Store) segmentCond(ctx context.Context, db bun.IDB, id int64, now time.Time) (Cond, error) {
	if s.segments == nil {
		return Cond{}, errors.New("segments need a compiler: call Store.UseSegmentCompiler")
	}
	var g Segment
	if err := db.NewSelect().Model(&g).Where("id = ?", id).Scan(ctx); err != nil {
		return Cond{}, notFound(err, "segment", id)
	}
	c, err := s.segments(g.Rules, now)
	if err != nil {
		return Cond{}, fmt.Errorf("segment %d: %w", id, err)
	}
	return c, nil
}

// ExplainCountWhere runs CountWhere(cond) under EXPLAIN ANALYZE and returns
// the plan, one line per step: for benchmarks and slow segments.
func (s *Store) ExplainCountWhere(ctx context.Context, cond Cond) ([]string, error) {
	q := s.db.NewSelect().TableExpr("contacts AS c").ColumnExpr("count(*)").Where("?", cond.build(s.db))
	explain := "EXPLAIN ANALYZE "
	if s.dialect == "sqlite" {
		explain = "EXPLAIN QUERY PLAN "
	}
	rows, err := s.db.QueryContext(ctx, explain+q.String())
	if err != nil {
		return nil, fmt.Errorf("explain segment count: %w", err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
	}
	return plan, rows.Err()
}
