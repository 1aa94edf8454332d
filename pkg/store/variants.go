package store

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/dearfriend/dearfriend/pkg/errs"
)

// MaxVariants is how many variants an A/B test may have (labels A to D).
const MaxVariants = 4

// A/B test phases (Campaign.AB.Phase).
const (
	ABTesting = "testing" // the test share is being sent; the rest of the ledger is held
	ABDecided = "decided" // a winner was chosen; the held rows go out with it
	ABSplit   = "split"   // a share of 100: the whole audience is split, no winner phase
)

// Winner metrics: the rate over delivered messages that picks the winner.
const (
	MetricOpens   = "opens"   // unique human opens
	MetricClicks  = "clicks"  // unique human clicks
	MetricActions = "actions" // petition signatures the variant's messages brought
)

// ABTest is a campaign's A/B settings and where its test stands. The zero
// value is a campaign without variants.
type ABTest struct {
	// Share is the percentage of the audience in the test (1 to 100); the
	// rest waits for the winner. 0: the campaign has no variants.
	Share       int    `bun:"share" json:"share"`
	Metric      string `bun:"metric" json:"metric,omitempty"`
	WaitSeconds int64  `bun:"wait_seconds" json:"wait_seconds,omitempty"`
	// Seed orders the audience for the split; nil means the campaign's id,
	// so that two campaigns test on different people unless told otherwise.
	Seed      *int64     `bun:"seed" json:"seed,omitempty"`
	WinnerID  *int64     `bun:"winner_id" json:"winner_id,omitempty"`
	Phase     string     `bun:"phase" json:"phase,omitempty"`
	DecidedAt *time.Time `bun:"decided_at" json:"decided_at,omitempty"`
}

// Wait is how long the test runs before the winner is chosen.
func (t ABTest) Wait() time.Duration { return time.Duration(t.WaitSeconds) * time.Second }

// DueAt is when the winner of a campaign started at started is chosen.
func (t ABTest) DueAt(started time.Time) time.Time { return started.Add(t.Wait()) }

// Variant is one version of an A/B test: a subject, a body (a message of its
// own) or both, overriding the campaign's message.
type Variant struct {
	bun.BaseModel `bun:"table:campaign_variants"`
	ID            int64  `bun:"id,pk,autoincrement" json:"id"`
	CampaignID    int64  `bun:"campaign_id" json:"campaign_id"`
	Label         string `bun:"label" json:"label"`
	// Subject replaces the subject of the message; "" keeps it.
	Subject string `bun:"subject" json:"subject,omitempty"`
	// MessageID replaces the campaign's message (body, sender, subject unless
	// Subject is set); nil keeps it.
	MessageID *int64    `bun:"message_id" json:"message_id,omitempty"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

// checkABTest validates the variants and test settings of a new campaign.
// Each error names the field at fault.
func (s *Store) checkABTest(ctx context.Context, ab ABTest, variants []Variant) error {
	if len(variants) == 0 {
		if ab.Share != 0 || ab.Metric != "" || ab.WaitSeconds != 0 || ab.Seed != nil {
			return errs.Field("variants", "an A/B test needs at least 2 variants")
		}
		return nil
	}
	if len(variants) < 2 || len(variants) > MaxVariants {
		return errs.Field("variants", "give 2 to %d variants, not %d", MaxVariants, len(variants))
	}
	for i, v := range variants {
		if v.Subject == "" && v.MessageID == nil {
			return errs.Field(fmt.Sprintf("variants[%d]", i), "set a subject, a message_id or both")
		}
		if v.MessageID == nil {
			continue
		}
		if _, err := s.GetMessage(ctx, *v.MessageID); errs.CodeOf(err) == errs.NotFound {
			return errs.Field(fmt.Sprintf("variants[%d].message_id", i), "message %d does not exist", *v.MessageID)
		} else if err != nil {
			return err
		}
	}
	if ab.Share < 1 || ab.Share > 100 {
		return errs.Field("ab_test.share", "must be a percentage from 1 to 100, not %d", ab.Share)
	}
	if ab.Share == 100 {
		return nil // a plain split: no winner, so no metric or wait
	}
	switch ab.Metric {
	case MetricOpens, MetricClicks, MetricActions:
	default:
		return errs.Field("ab_test.metric", "must be opens, clicks or actions, not %q", ab.Metric)
	}
	if ab.WaitSeconds < 1 || ab.WaitSeconds > 30*24*3600 {
		return errs.Field("ab_test.wait", "must be from 1 second to 30 days")
	}
	return nil
}

// insertVariants labels variants A, B, … in order and inserts them for campaignID.
func insertVariants(ctx context.Context, db bun.IDB, campaignID int64, variants []Variant) error {
	now := time.Now().UTC()
	for i := range variants {
		variants[i].ID = 0
		variants[i].CampaignID = campaignID
		variants[i].Label = string(rune('A' + i))
		variants[i].CreatedAt = now
	}
	if _, err := db.NewInsert().Model(&variants).Returning("id").Exec(ctx); err != nil {
		return fmt.Errorf("insert variants: %w", err)
	}
	return nil
}

// Variants returns the variants of a campaign by label; none for a campaign without.
func (s *Store) Variants(ctx context.Context, campaignID int64) ([]Variant, error) {
	vs := []Variant{}
	if err := s.db.NewSelect().Model(&vs).Where("campaign_id = ?", campaignID).Order("label").Scan(ctx); err != nil {
		return nil, fmt.Errorf("variants of campaign %d: %w", campaignID, err)
	}
	return vs, nil
}

// GetVariant returns the variant with id.
func (s *Store) GetVariant(ctx context.Context, id int64) (*Variant, error) {
	var v Variant
	if err := s.db.NewSelect().Model(&v).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "variant", id)
	}
	return &v, nil
}

// splitOrder is a SQL expression ordering contacts for an A/B split: a hash
// of the contact id (column col) and seed, the same in SQLite and PostgreSQL
// (integer arithmetic below 2^48, XOR written as (a|b)-(a&b)). Ordering by it
// rather than by id keeps the test share from following sign-up order.
func splitOrder(col string, seed int64) string {
	const p = 2147483647 // 2^31-1: a multiplicative hash modulo a prime
	s := uint64(seed) * 0x9E3779B97F4A7C15
	s = (s ^ s>>31) & 0x7fffffff
	x := fmt.Sprintf("((%s %% %d) * 48271 %% %d)", col, p, p)
	return fmt.Sprintf("((((%[1]s | %[2]d) - (%[1]s & %[2]d)) * 69621) %% %[3]d)", x, s, p)
}

// snapshotSplit inserts the audience of an A/B campaign into the ledger. The
// contacts are ordered by splitOrder; the first share percent (rounded up)
// are the test, dealt to the variants in turn so their sizes differ by at
// most one, and queued; the rest are held for the winner. The same audience
// and seed always give the same split.
func snapshotSplit(ctx context.Context, tx bun.Tx, c *Campaign, audience *bun.SelectQuery, now time.Time) error {
	var variants []Variant
	if err := tx.NewSelect().Model(&variants).Where("campaign_id = ?", c.ID).Order("label").Scan(ctx); err != nil {
		return fmt.Errorf("variants of campaign %d: %w", c.ID, err)
	}
	if len(variants) == 0 {
		return fmt.Errorf("campaign %d has an A/B test and no variants", c.ID)
	}
	seed := c.ID
	if c.AB.Seed != nil {
		seed = *c.AB.Seed
	}
	audience = audience.ColumnExpr("c.id, c.email").ColumnExpr(splitOrder("c.id", seed) + " AS h")
	ranked := tx.NewSelect().TableExpr("(?) AS a", audience).
		ColumnExpr("a.id, a.email, row_number() OVER (ORDER BY a.h, a.id) - 1 AS rn, count(*) OVER () AS n")
	variantOf := "CASE r.rn % " + fmt.Sprint(len(variants))
	for i, v := range variants {
		variantOf += fmt.Sprintf(" WHEN %d THEN %d", i, v.ID)
	}
	variantOf += " END"
	inTest := fmt.Sprintf("r.rn * 100 < r.n * %d", c.AB.Share)
	_, err := tx.NewRaw(`INSERT INTO sends (campaign_id, contact_id, email, status, variant_id, attempts, last_reply, updated_at)
		SELECT ?, r.id, r.email, CASE WHEN `+inTest+` THEN ? ELSE ? END, CASE WHEN `+inTest+` THEN `+variantOf+` END, 0, '', ?
		FROM (?) AS r WHERE 1 = 1 ORDER BY r.id
		ON CONFLICT (campaign_id, contact_id) DO NOTHING`, c.ID, SendQueued, SendHeld, now, ranked).Exec(ctx)
	if err != nil {
		return fmt.Errorf("snapshot A/B audience: %w", err)
	}
	return nil
}

// VariantStats is what one variant did: its rows of the ledger, delivered
// messages, unique human opens and clicks, signatures, and their rates over
// delivered.
type VariantStats struct {
	Variant
	Recipients int64   `bun:"recipients" json:"recipients"`
	Delivered  int64   `bun:"delivered" json:"delivered"`
	Opens      int64   `bun:"opens" json:"opens"`
	Clicks     int64   `bun:"clicks" json:"clicks"`
	Actions    int64   `bun:"actions" json:"actions"`
	OpenRate   float64 `bun:"-" json:"open_rate"`
	ClickRate  float64 `bun:"-" json:"click_rate"`
	ActionRate float64 `bun:"-" json:"action_rate"`
}

// count returns the numerator metric is measured by.
func (v VariantStats) count(metric string) int64 {
	switch metric {
	case MetricOpens:
		return v.Opens
	case MetricClicks:
		return v.Clicks
	default:
		return v.Actions
	}
}

// CampaignVariantStats counts each variant of a campaign, by label. Opens and
// clicks are people's: the activity of privacy proxies and link scanners is
// left out, as it says nothing of which variant people preferred.
func (s *Store) CampaignVariantStats(ctx context.Context, campaignID int64) ([]VariantStats, error) {
	engaged := func(kind string) string {
		return "(SELECT count(DISTINCT e.send_id) FROM events AS e JOIN sends AS s ON s.id = e.send_id" +
			" WHERE s.variant_id = v.id AND e.kind = '" + kind + "' AND e.machine = FALSE)"
	}
	out := []VariantStats{}
	err := s.db.NewSelect().TableExpr("campaign_variants AS v").
		ColumnExpr("v.id, v.campaign_id, v.label, v.subject, v.message_id, v.created_at").
		ColumnExpr("(SELECT count(*) FROM sends AS s WHERE s.variant_id = v.id) AS recipients").
		ColumnExpr("(SELECT count(*) FROM sends AS s WHERE s.variant_id = v.id AND s.status = ?) AS delivered", SendSent).
		ColumnExpr(engaged(EventOpen)+" AS opens").
		ColumnExpr(engaged(EventClick)+" AS clicks").
		ColumnExpr("(SELECT count(*) FROM signatures AS g JOIN sends AS s ON s.id = g.send_id WHERE s.variant_id = v.id) AS actions").
		Where("v.campaign_id = ?", campaignID).OrderExpr("v.label").Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("variant stats of campaign %d: %w", campaignID, err)
	}
	for i := range out {
		if d := float64(out[i].Delivered); d > 0 {
			out[i].OpenRate, out[i].ClickRate, out[i].ActionRate = float64(out[i].Opens)/d, float64(out[i].Clicks)/d, float64(out[i].Actions)/d
		}
	}
	return out, nil
}

// bestVariant returns the variant with the highest rate of metric over
// delivered; on a tie the lowest label, the first in stats. Rates are
// compared as cross products, exactly.
func bestVariant(stats []VariantStats, metric string) VariantStats {
	best := stats[0]
	for _, v := range stats[1:] {
		if v.count(metric)*best.Delivered > best.count(metric)*v.Delivered {
			best = v
		}
	}
	return best
}

// DecideWinner ends the test phase of a sending or paused campaign: the
// variant labelled label wins, or, when label is empty, the one with the best
// rate of the campaign's metric. It records the winner and returns it; the
// held rows stay held until ReleaseHeld. A campaign not in its test phase is
// a conflict (a winner is chosen once).
func (s *Store) DecideWinner(ctx context.Context, campaignID int64, label string) (*Variant, error) {
	c, err := s.GetCampaign(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	switch {
	case c.AB.Phase == ABDecided:
		return nil, errs.New(errs.Conflict, "campaign %d already has its winner", campaignID)
	case c.AB.Phase != ABTesting:
		return nil, errs.New(errs.Conflict, "campaign %d has no winner to choose (it is %s and its A/B phase is %q)", campaignID, c.Status, c.AB.Phase)
	case c.Status != CampaignSending && c.Status != CampaignPaused:
		return nil, errs.New(errs.Conflict, "campaign %d is %s: no winner is sent", campaignID, c.Status)
	}
	stats, err := s.CampaignVariantStats(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	if len(stats) == 0 {
		return nil, fmt.Errorf("campaign %d is testing without variants", campaignID)
	}
	var winner *Variant
	if label == "" {
		best := bestVariant(stats, c.AB.Metric)
		winner = &best.Variant
	}
	for i := range stats {
		if label != "" && stats[i].Label == label {
			winner = &stats[i].Variant
		}
	}
	if winner == nil {
		return nil, errs.Field("variant", "campaign %d has no variant %q", campaignID, label)
	}
	res, err := s.db.NewUpdate().Model((*Campaign)(nil)).Set("ab_winner_id = ?", winner.ID).Set("ab_phase = ?", ABDecided).
		Set("ab_decided_at = ?", time.Now().UTC()).Where("id = ? AND ab_phase = ?", campaignID, ABTesting).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("record winner of campaign %d: %w", campaignID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, errs.New(errs.Conflict, "campaign %d already has its winner", campaignID)
	}
	return winner, nil
}

// ReleaseHeld moves the held rows of a decided campaign to queued with the
// winner's variant, in id order, page ids at a time (one short UPDATE per
// page, so a million held rows never lock the ledger at once), for at most
// pages pages (0: until none is held). It returns how many rows moved. A
// second call, or one after a crash, picks up where the last stopped.
func (s *Store) ReleaseHeld(ctx context.Context, campaignID int64, page, pages int) (int64, error) {
	c, err := s.GetCampaign(ctx, campaignID)
	if err != nil {
		return 0, err
	}
	if c.AB.Phase != ABDecided || c.AB.WinnerID == nil {
		return 0, errs.New(errs.Conflict, "campaign %d has no winner yet", campaignID)
	}
	var moved, after int64
	for done := 0; pages <= 0 || done < pages; done++ {
		next := s.db.NewSelect().Model((*Send)(nil)).Column("id").
			Where("campaign_id = ? AND status = ? AND id > ?", campaignID, SendHeld, after).
			Order("id").Limit(int64(page))
		var ids []int64
		err := s.db.NewUpdate().Model((*Send)(nil)).Set("status = ?", SendQueued).Set("variant_id = ?", *c.AB.WinnerID).
			Set("updated_at = ?", time.Now().UTC()).Where("id IN (?) AND status = ?", next, SendHeld).
			Returning("id").Scan(ctx, &ids)
		if err != nil {
			return moved, fmt.Errorf("release held rows of campaign %d: %w", campaignID, err)
		}
		if len(ids) == 0 {
			return moved, nil
		}
		moved += int64(len(ids))
		after = slices.Max(ids)
	}
	return moved, nil
}

// LedgerPage returns up to limit ledger rows of a campaign with id greater
// than after, in id order (keyset pagination).
func (s *Store) LedgerPage(ctx context.Context, campaignID, after int64, limit int) ([]Send, error) {
	var out []Send
	if err := s.db.NewSelect().Model(&out).Where("campaign_id = ? AND id > ?", campaignID, after).
		Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("ledger of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
