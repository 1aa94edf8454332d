package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/testenv"
)

func TestParseSchedule(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		wall, zone string
		local      bool
		want       time.Time // the instant the campaign starts
		field      string    // the field an error names
	}{
		{"2026-05-01T09:00", "America/New_York", false, time.Date(2026, 5, 1, 9, 0, 0, 0, ny), ""},
		{" 2026-05-01T09:00:30 ", "America/New_York", false, time.Date(2026, 5, 1, 9, 0, 30, 0, ny), ""},
		{"2026-05-01T09:00", "UTC", false, time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC), ""},
		// At local time, it starts when 9:00 comes at UTC+14.
		{"2026-05-01T09:00", "America/New_York", true, time.Date(2026, 4, 30, 19, 0, 0, 0, time.UTC), ""},
		{"2026-05-01T09:00", "Mars/Olympus_Mons", false, time.Time{}, "time_zone"},
		{"2026-05-01T09:00", "", false, time.Time{}, "time_zone"},
		{"2026-05-01T09:00", "Local", false, time.Time{}, "time_zone"},
		{"2026-05-01T09:00", "../../etc/passwd", false, time.Time{}, "time_zone"},
		{"tomorrow at nine", "UTC", false, time.Time{}, "send_at"},
		{"2026-02-30T09:00", "UTC", false, time.Time{}, "send_at"},
		{"", "UTC", false, time.Time{}, "send_at"},
	} {
		sc, err := store.ParseSchedule(tc.wall, tc.zone, tc.local)
		if tc.field != "" {
			if e, ok := errs.As(err); !ok || e.Field != tc.field || !strings.Contains(e.Message, "like") {
				t.Errorf("ParseSchedule(%q, %q): %v, want an error naming %s", tc.wall, tc.zone, err, tc.field)
			}
			continue
		}
		if err != nil || !sc.Start().Equal(tc.want) || sc.Zone != strings.TrimSpace(tc.zone) || sc.Local != tc.local {
			t.Errorf("ParseSchedule(%q, %q, %v) = %+v starting %v, %v; want %v", tc.wall, tc.zone, tc.local, sc, sc.Start(), err, tc.want)
		}
	}
}

func FuzzParseSchedule(f *testing.F) {
	f.Add("2026-05-01T09:00", "America/New_York", true)
	f.Add("2026-05-01T09:00:00", "UTC", false)
	f.Add("9am", "Europe/Paris", false)
	f.Fuzz(func(t *testing.T, wall, zone string, local bool) {
		sc, err := store.ParseSchedule(wall, zone, local)
		if err != nil {
			if e, ok := errs.As(err); !ok || (e.Field != "send_at" && e.Field != "time_zone") {
				t.Fatalf("ParseSchedule(%q, %q): %v names no field", wall, zone, err)
			}
			return
		}
		// What was read is what was typed: written back in its zone, it reads the same.
		again, err := store.ParseSchedule(sc.At.Format("2006-01-02T15:04:05"), sc.Zone, local)
		if err != nil || !again.Start().Equal(sc.Start()) && sc.At.Format("2006-01-02T15:04:05") == again.At.Format("2006-01-02T15:04:05") {
			t.Fatalf("ParseSchedule(%q, %q) = %v, read again %v, %v", wall, zone, sc.At, again.At, err)
		}
		if local && sc.Start().After(sc.At) {
			t.Fatalf("a local-time campaign starts at %v, after its own zone's time %v", sc.Start(), sc.At)
		}
	})
}

// TestLocalDelivery checks a campaign delivered at a time in each
// recipient's own zone: each ledger row waits for that time in its
// contact's zone (the campaign's for a contact without one, or with one
// not known), and only rows whose time has come are claimed or dispatched.
func TestLocalDelivery(t *testing.T) {
	t.Parallel()
	testenv.EachDatabase(t, func(t *testing.T, dsn string) {
		s := mustOpen(t, dsn)
		ctx := context.Background()
		zones := map[string]string{"tokyo": "Asia/Tokyo", "paris": "Europe/Paris", "nyc": "America/New_York", "none": "", "odd": "Atlantis/Capital"}
		names := []string{"tokyo", "paris", "nyc", "none", "odd"}
		c, _ := mustStarted(t, s, nil)
		l := &store.List{Name: "zones-" + testenv.Random(4)}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, n := range names {
			ct := &store.Contact{Email: n + "-" + testenv.Random(4) + "@example.org", FirstName: n, TimeZone: zones[n]}
			if err := s.CreateContact(ctx, ct); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ct.ID)
		}
		if err := s.AddListMembers(ctx, l.ID, ids); err != nil {
			t.Fatal(err)
		}
		camp := &store.Campaign{Name: "local", MessageID: c.MessageID, Audience: store.Audience{Lists: []int64{l.ID}}}
		if err := s.CreateCampaign(ctx, camp); err != nil {
			t.Fatal(err)
		}
		sc, err := store.ParseSchedule("2030-05-01T09:00", "America/Chicago", true)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.ScheduleCampaignAt(ctx, camp.ID, sc); err != nil {
			t.Fatal(err)
		}
		if err := s.ScheduleCampaignAt(ctx, camp.ID, store.Schedule{At: sc.At, Zone: "Nowhere/Else"}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("a schedule in an unknown zone: %v, want invalid", err)
		}
		got, err := s.GetCampaign(ctx, camp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Date(2030, 4, 30, 19, 0, 0, 0, time.UTC); got.SendAt == nil || !got.SendAt.Equal(want) || got.LocalTime != "2030-05-01T09:00:00" || got.TimeZone != "America/Chicago" {
			t.Fatalf("scheduled %v, %q in %q; want the start %v, 09:00 local", got.SendAt, got.LocalTime, got.TimeZone, want)
		}
		if _, err := s.StartCampaign(ctx, camp.ID); err != nil {
			t.Fatal(err)
		}
		var rows []store.Send
		if err := s.Query(ctx, &rows, "SELECT id, email, not_before FROM sends WHERE campaign_id = ? ORDER BY id", camp.ID); err != nil {
			t.Fatal(err)
		}
		at := func(zone string) time.Time {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			return time.Date(2030, 5, 1, 9, 0, 0, 0, loc).UTC()
		}
		want := map[string]time.Time{"tokyo": at("Asia/Tokyo"), "paris": at("Europe/Paris"), "nyc": at("America/New_York"),
			"none": at("America/Chicago"), "odd": at("America/Chicago")}
		gotAt := map[string]time.Time{}
		for _, r := range rows {
			if r.NotBefore == nil {
				t.Fatalf("row %d has no time", r.ID)
			}
			gotAt[strings.SplitN(r.Email, "-", 2)[0]] = r.NotBefore.UTC()
		}
		if diff := cmp.Diff(want, gotAt); diff != "" {
			t.Errorf("each row's time (-want +got):\n%s", diff)
		}
		// At 9:30 in Paris, Tokyo and Paris are due; New York and Chicago wait.
		now := time.Date(2030, 5, 1, 9, 30, 0, 0, time.UTC).Add(-2 * time.Hour) // CEST is UTC+2
		claim, err := s.ClaimRecipients(ctx, camp.ID, rows[0].ID, rows[len(rows)-1].ID, 100, time.Minute, now)
		if err != nil {
			t.Fatal(err)
		}
		var claimed []string
		for _, r := range claim.Recipients {
			claimed = append(claimed, r.FirstName)
		}
		if diff := cmp.Diff([]string{"tokyo", "paris"}, claimed); diff != "" {
			t.Errorf("claimed at 9:30 in Paris (-want +got):\n%s", diff)
		}
		// The dispatcher passes over rows whose time has not come (now is
		// far before 2030): none of this campaign's is due.
		if _, _, ok, err := s.NextDispatch(ctx, camp.ID, 100); err != nil || ok {
			t.Errorf("dispatch before anyone's time: ok %v, %v; want nothing", ok, err)
		}
	})
}
