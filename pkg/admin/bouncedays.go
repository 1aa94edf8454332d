package admin

import (
	"context"
	"fmt"
	"html/template"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// dashboardBounceDays is how many UTC days back the dashboard shows bounces.
const dashboardBounceDays = 30

// complaintLine is the complaint rate Gmail and Yahoo ask bulk senders to
// stay under: 0.3% of the messages sent.
const complaintLine = 0.003

// bounceDayRow is one UTC day of bounces by kind and the messages sent that day.
type bounceDayRow struct {
	store.BounceDay
	Sent int64
}

// ComplaintRate is the day's complaints against its messages sent, or "–"
// when nothing was sent that day. Complaints may come days after the
// message, so a day's rate is a sign, not an exact figure.
func (r bounceDayRow) ComplaintRate() string {
	if r.Sent == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f%%", float64(r.Complaint)*100/float64(r.Sent))
}

// OverLine reports whether the day's complaint rate is at or over complaintLine.
func (r bounceDayRow) OverLine() bool {
	return r.Sent > 0 && float64(r.Complaint) >= complaintLine*float64(r.Sent)
}

// bounceDays is bounces by kind per UTC day: a chart from the first day to
// the last, and the days with any bounce or complaint, newest first.
type bounceDays struct {
	ID    string // the heading that names the table
	Empty string // what the page says when there is no day
	Rows  []bounceDayRow
	Chart template.HTML
}

// loadBounceDays gathers bounces by day of campaign id (0: every campaign)
// since since, with the messages sent each day.
func (h *Handler) loadBounceDays(ctx context.Context, id int64, since time.Time, headingID, empty string) (*bounceDays, error) {
	days, err := h.Store.BouncesByDay(ctx, id, since)
	if err != nil {
		return nil, err
	}
	sent, err := h.Store.SentByDay(ctx, id, since)
	if err != nil {
		return nil, err
	}
	b := &bounceDays{ID: headingID, Empty: empty}
	for i := len(days) - 1; i >= 0; i-- {
		b.Rows = append(b.Rows, bounceDayRow{BounceDay: days[i], Sent: sent[days[i].Day]})
	}
	if b.Chart, err = bounceChart(id, days).HTML(); err != nil {
		return nil, fmt.Errorf("draw bounces by day: %w", err)
	}
	return b, nil
}

// bounceChart draws bounces by kind day by day, from the first day with any
// to the last; days between with none are drawn as zero.
func bounceChart(id int64, days []store.BounceDay) Chart {
	c := Chart{ID: fmt.Sprintf("bounce-days-%d", id), Title: "Bounces and complaints by day (UTC)", Unit: "messages",
		Series: []Series{{Name: "Hard"}, {Name: "Soft"}, {Name: "Block"}, {Name: "Complaint"}}}
	if len(days) == 0 {
		return c
	}
	byDay := make(map[string]store.BounceDay, len(days))
	for _, d := range days {
		byDay[d.Day] = d
	}
	first, err1 := time.Parse(time.DateOnly, days[0].Day)
	last, err2 := time.Parse(time.DateOnly, days[len(days)-1].Day)
	if err1 != nil || err2 != nil {
		return c
	}
	for t := first; !t.After(last); t = t.AddDate(0, 0, 1) {
		d := byDay[t.Format(time.DateOnly)]
		c.Labels = append(c.Labels, t.Format("Jan 2"))
		for i, n := range []int64{d.Hard, d.Soft, d.Block, d.Complaint} {
			c.Series[i].Values = append(c.Series[i].Values, n)
		}
	}
	c.Bars = len(c.Labels) < 4
	return c
}
