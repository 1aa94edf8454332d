package admin

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// TestActivityChart: hours without activity are drawn as zero between the
// first and the last; machine activity is left out; past 72 hours the
// buckets are days.
func TestActivityChart(t *testing.T) {
	at := func(day, hour int) time.Time { return time.Date(2026, 5, day, hour, 0, 0, 0, time.UTC) }
	hours := []store.HourStats{
		{Hour: at(4, 9), Sent: 100, Opens: 30, HumanOpens: 20, Clicks: 6, HumanClicks: 4},
		{Hour: at(4, 10), Opens: 2, HumanOpens: 0, Clicks: 1, HumanClicks: 0}, // proxies only
		{Hour: at(4, 12), Opens: 5, HumanOpens: 5, HumanClicks: 1, Clicks: 1},
	}
	actions := []store.HourCount{{Hour: at(4, 9), N: 2}, {Hour: at(4, 13), N: 1}}
	c := activityChart(hours, actions)
	if diff := cmp.Diff([]string{"May 4 09:00", "May 4 10:00", "May 4 11:00", "May 4 12:00", "May 4 13:00"}, c.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	want := []Series{{Name: "Opened by people", Values: []int64{20, 0, 0, 5, 0}},
		{Name: "Clicked by people", Values: []int64{4, 0, 0, 1, 0}}, {Name: "Signed", Values: []int64{2, 0, 0, 0, 1}}}
	if diff := cmp.Diff(want, c.Series); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if c.Bars {
		t.Error("five hours are drawn as bars, want lines")
	}

	// A signature four days later: day by day.
	c = activityChart(hours, append(actions, store.HourCount{Hour: at(8, 7), N: 3}))
	if diff := cmp.Diff([]string{"May 4", "May 5", "May 6", "May 7", "May 8"}, c.Labels); diff != "" {
		t.Errorf("daily labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{3, 0, 0, 0, 3}, c.Series[2].Values); diff != "" {
		t.Errorf("signatures by day (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{25, 0, 0, 0, 0}, c.Series[0].Values); diff != "" {
		t.Errorf("opens by day (-want +got):\n%s", diff)
	}

	if c := activityChart(nil, nil); len(c.Labels) != 0 || len(c.Series) != 3 {
		t.Errorf("no activity: %+v", c)
	}
}
