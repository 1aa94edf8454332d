package feedback

import (
	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/store"
)

// senderReasons are the reasons (pkg/bounce's vocabulary) of a refusal of
// the sender, not of the address: a blocklist, a spam or virus filter, a
// policy, TLS or authentication, a relay refusing to relay, throttling. The
// same split as a refusal at send time (mailer.StatusBlocked): such a
// report never suppresses the recipient; it is counted as a block.
var senderReasons = map[string]bool{
	"blocked": true, "spamdetected": true, "policyviolation": true, "securityerror": true, "rejected": true,
	"norelaying": true, "virusdetected": true, "toomanyconn": true, "contenterror": true,
}

// reportKind is the kind a failure is taken as (store.Report*), or "" for
// one that is no failure (an auto-reply, a kind not known).
func reportKind(f bounce.Failure) string {
	switch f.Kind {
	case bounce.Complaint:
		return store.ReportComplaint
	case bounce.Hard, bounce.Soft:
		if senderReasons[f.Reason] {
			return store.ReportBlock
		}
		if f.Kind == bounce.Hard {
			return store.ReportHard
		}
		return store.ReportSoft
	}
	return ""
}
