package config

import (
	"fmt"
	"strconv"
)

// Feedback is the policy for what the mail system reports back (bounces,
// blocks, complaints) and the thresholds of the reputation guard.
type Feedback struct {
	// SoftLimit soft bounces of one address within SoftDays days suppress
	// it; 0 never suppresses for soft bounces.
	SoftLimit int // DEARFRIEND_BOUNCE_SOFT_LIMIT: default 3
	SoftDays  int // DEARFRIEND_BOUNCE_SOFT_DAYS: default 30

	// Guard pauses a sending campaign whose rates pass a threshold.
	Guard bool // DEARFRIEND_BOUNCE_GUARD: default true
	// GuardMin is how many messages must have been answered (sent,
	// bounced or blocked) before the hard-bounce and block rates count.
	GuardMin int // DEARFRIEND_BOUNCE_GUARD_MIN: default 200
	// GuardHard and GuardBlock are fractions of the messages answered.
	GuardHard  float64 // DEARFRIEND_BOUNCE_GUARD_HARD: default 0.05
	GuardBlock float64 // DEARFRIEND_BOUNCE_GUARD_BLOCK: default 0.05
	// GuardComplaint is a fraction of the messages sent, judged once
	// GuardComplaintMin were sent.
	GuardComplaint    float64 // DEARFRIEND_BOUNCE_GUARD_COMPLAINT: default 0.003
	GuardComplaintMin int     // DEARFRIEND_BOUNCE_GUARD_COMPLAINT_MIN: default 1000
}

// feedbackFromEnv reads the DEARFRIEND_BOUNCE_* policy settings.
func feedbackFromEnv(get func(key, def string) string, num func(key string, def int) int) (Feedback, []error) {
	var errList []error
	frac := func(key string, def float64) float64 {
		raw := get(key, "")
		if raw == "" {
			return def
		}
		f, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			errList = append(errList, fmt.Errorf("DEARFRIEND_%s must be a fraction like 0.05 (5%%), got %q", key, raw))
		}
		return f
	}
	f := Feedback{
		SoftLimit:         num("BOUNCE_SOFT_LIMIT", 3),
		SoftDays:          num("BOUNCE_SOFT_DAYS", 30),
		GuardMin:          num("BOUNCE_GUARD_MIN", 200),
		GuardHard:         frac("BOUNCE_GUARD_HARD", 0.05),
		GuardBlock:        frac("BOUNCE_GUARD_BLOCK", 0.05),
		GuardComplaint:    frac("BOUNCE_GUARD_COMPLAINT", 0.003),
		GuardComplaintMin: num("BOUNCE_GUARD_COMPLAINT_MIN", 1000),
	}
	var err error
	if f.Guard, err = strconv.ParseBool(get("BOUNCE_GUARD", "true")); err != nil {
		errList = append(errList, fmt.Errorf("DEARFRIEND_BOUNCE_GUARD must be true or false, got %q", get("BOUNCE_GUARD", "")))
	}
	return f, errList
}

// validate checks the feedback policy.
func (f Feedback) validate(bad func(format string, args ...any)) {
	if f.SoftLimit < 0 || f.SoftLimit > 1000 {
		bad("DEARFRIEND_BOUNCE_SOFT_LIMIT must be between 0 (never suppress for soft bounces) and 1000, got %d", f.SoftLimit)
	}
	if f.SoftDays < 1 || f.SoftDays > 3650 {
		bad("DEARFRIEND_BOUNCE_SOFT_DAYS must be between 1 and 3650 days, got %d", f.SoftDays)
	}
	if f.GuardMin < 1 || f.GuardComplaintMin < 1 {
		bad("DEARFRIEND_BOUNCE_GUARD_MIN and DEARFRIEND_BOUNCE_GUARD_COMPLAINT_MIN must be at least 1, got %d and %d", f.GuardMin, f.GuardComplaintMin)
	}
	for name, v := range map[string]float64{"HARD": f.GuardHard, "BLOCK": f.GuardBlock, "COMPLAINT": f.GuardComplaint} {
		if !(v > 0 && v <= 1) {
			bad("DEARFRIEND_BOUNCE_GUARD_%s must be a fraction above 0 and at most 1 (0.05 is 5%%), got %v", name, v)
		}
	}
}
