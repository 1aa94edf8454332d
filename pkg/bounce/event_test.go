package bounce

import (
	"testing"
	"time"
)

func TestVERPToken(t *testing.T) {
	for in, want := range map[string]string{
		"bounce+abc.DEF@b.example.org": "abc.DEF",
		"<Bounce+x1@b.example.org>":    "x1",
		"bounce+@b.example.org":        "",
		"bounces@b.example.org":        "",
		"someone@example.org":          "",
		"bounce+abc":                   "",
		"":                             "",
		" bounce+t0k3n@example.org ":   "t0k3n",
	} {
		if got := VERPToken(in); got != want {
			t.Errorf("VERPToken(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReportEvents(t *testing.T) {
	at := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	rep := Report{
		Failures:  []Failure{{Recipient: "A@example.org", Kind: Hard}, {Recipient: "b@example.org", Kind: Soft}},
		MessageID: "c1.s2.dep@example.org",
		Envelope:  "bounce+tok@b.example.org",
	}
	evs := rep.Events("inbound", "", "id1", at)
	if len(evs) != 2 {
		t.Fatalf("got %d events, want 2", len(evs))
	}
	if evs[0].Token != "tok" || evs[0].MessageID != rep.MessageID || evs[0].Source != "inbound" || !evs[0].At.Equal(at) {
		t.Errorf("event 0 = %+v", evs[0])
	}
	if evs[0].EventID != "id1/a@example.org" || evs[1].EventID != "id1/b@example.org" {
		t.Errorf("event ids %q %q", evs[0].EventID, evs[1].EventID)
	}
	if got := rep.Events("inbound", "given", "id1", at)[0].Token; got != "given" {
		t.Errorf("a given token is kept: got %q", got)
	}
	x1, x2, y := Digest([]byte("x")), Digest([]byte("x")), Digest([]byte("y"))
	if x1 != x2 || x1 == y {
		t.Error("Digest is not a function of the bytes")
	}
}

func TestClassify(t *testing.T) {
	f := Failure{Recipient: "x@example.org", Status: "5.1.1", Diagnostic: "550 5.1.1 <x@example.org>: Recipient address rejected: User unknown in local recipient table"}
	Classify(&f)
	if f.Kind != Hard || f.Reason != "userunknown" {
		t.Errorf("unknown user: %+v", f)
	}
	f = Failure{Recipient: "x@example.org", Diagnostic: "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org"}
	Classify(&f)
	if f.Kind != Soft || f.Reason != "blocked" || f.Status != "5.7.1" {
		t.Errorf("blocklist: %+v", f)
	}
}
