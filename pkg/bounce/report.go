package bounce

import (
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

// classify finds the failures a message reports, trying the standard
// formats first and the free text of non-standard reports last.
func classify(m message, p *parts) []Failure {
	if len(p.feedback) > 0 || p.reportTy == "feedback-report" || (p.original != nil && p.original.Get("X-Hmxmroriginalrecipient") != "") {
		return complaints(m, p)
	}
	if fs, ok := sesFailures(p); ok {
		return fs
	}
	if fs := dsnFailures(p); len(fs) > 0 {
		if m.header.Get("X-Ses-Outgoing") != "" && !strings.Contains(strings.ToLower(m.header.Get("From")), "amazonses.com") {
			// A bounce an SES receiving rule sends on the receiving
			// domain's behalf: the rule, not the mailbox, speaks.
			for i := range fs {
				if fs[i].Kind == Hard {
					fs[i].Kind, fs[i].Reason = Soft, "filtered"
				}
			}
		}
		return fs
	}
	if isAutoReply(m.header) {
		if a := firstAddress(m.header.Get("From")); a != "" {
			return []Failure{{Recipient: a, Kind: AutoReply, Reason: "vacation"}}
		}
		return nil
	}
	if fs := listRefusals(m.header, p); len(fs) > 0 {
		return fs
	}
	if !looksLikeBounce(m.header, p) {
		return nil
	}
	return textFailures(m, p)
}

// complaints reads an ARF feedback report: the recipient is the one the
// report names, else the recipient of the quoted original message.
func complaints(m message, p *parts) []Failure {
	var rcpts []string
	for _, fb := range p.feedback {
		for _, b := range fieldBlocks(fb) {
			for _, v := range b["Original-Rcpt-To"] {
				if a := firstAddress(v); a != "" {
					rcpts = append(rcpts, a)
				}
			}
		}
	}
	if len(rcpts) == 0 && p.original != nil {
		// Hotmail's JMRP names the recipient in a header of its own.
		for _, k := range []string{"X-Hmxmroriginalrecipient", "To", "Delivered-To", "X-Original-To"} {
			if a := firstAddress(p.original.Get(k)); a != "" {
				rcpts = append(rcpts, a)
				break
			}
		}
	}
	if len(rcpts) == 0 {
		// A complaint that names no one still counts: the caller matches
		// it by the original's Message-ID.
		rcpts = []string{""}
	}
	var out []Failure
	seen := map[string]bool{}
	for _, r := range rcpts {
		if seen[r] {
			continue
		}
		seen[r] = true
		out = append(out, Failure{Recipient: r, Kind: Complaint, Reason: "feedback"})
	}
	return out
}

// dsnFailures reads the per-recipient fields of RFC 3464 delivery-status
// parts. Recipients whose action is not a failure or a delay are skipped.
func dsnFailures(p *parts) []Failure {
	var out []Failure
	seen := map[string]bool{}
	for _, st := range p.status {
		for _, b := range fieldBlocks(st) {
			rcpt := addrField(b.Get("Final-Recipient"))
			if rcpt == "" {
				rcpt = addrField(b.Get("Original-Recipient"))
			}
			if rcpt == "" || seen[rcpt] {
				continue
			}
			action := strings.ToLower(strings.TrimSpace(b.Get("Action")))
			if i := strings.IndexAny(action, " ("); i > 0 {
				action = action[:i]
			}
			if action == "delivered" || action == "relayed" || action == "expanded" {
				continue
			}
			seen[rcpt] = true
			if len(out) >= maxFailures {
				return out
			}
			f := Failure{Recipient: rcpt, Status: statusRE.FindString(b.Get("Status"))}
			f.Diagnostic = dsnDiagnostic(b)
			near := nearText(p.texts, rcpt)
			if f.Diagnostic == "" {
				f.Diagnostic = near
			}
			if c := b.Get("X-Powermta-Bouncecategory"); c != "" {
				near += "\nX-PowerMTA-BounceCategory: " + c
			}
			classifyFailure(&f, near)
			out = append(out, f)
		}
	}
	return out
}

// dsnDiagnostic is the diagnostic of one recipient block without its type
// prefix ("smtp; 550 ...").
func dsnDiagnostic(b textproto.MIMEHeader) string {
	d := b.Get("Diagnostic-Code")
	if t, rest, ok := strings.Cut(d, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " ") {
		d = rest
	}
	return strings.TrimSpace(d)
}

// addrField is the address of a DSN address field ("rfc822; a@b").
func addrField(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		v = rest
	}
	v = strings.Trim(strings.TrimSpace(v), "<>")
	if quotedLocal.MatchString(v) {
		// A quoted local part stays quoted: unquoted it is no address.
		return strings.ToLower(v)
	}
	return firstAddress(v)
}

var quotedLocal = regexp.MustCompile(`^"[^"]+"@[^\s@]+$`)

// nearText is the text around the first mention of rcpt in the readable
// parts: the reason a report gives only in prose.
func nearText(texts []string, rcpt string) string {
	for _, t := range texts {
		if len(t) > maxProse {
			t = t[:maxProse]
		}
		lt := strings.ToLower(t)
		if i := strings.Index(lt, rcpt); i >= 0 {
			limit := len(t)
			// Stop at the next line that names another address.
			for _, loc := range addrRE.FindAllStringIndex(lt[i+len(rcpt):], -1) {
				a := lt[i+len(rcpt)+loc[0] : i+len(rcpt)+loc[1]]
				if a != rcpt {
					limit = i + len(rcpt) + loc[0]
					limit = strings.LastIndexByte(t[:limit], '\n') + 1
					break
				}
			}
			if limit <= i {
				limit = len(t)
			}
			return segment(t, i, i+len(rcpt), limit)
		}
	}
	return ""
}

var autoSubject = regexp.MustCompile(`(?i)^\s*(?:auto(?:matic)?[ -]?(?:reply|response|antwort)|auto:|out of (?:the )?office|away from|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|risposta automatica|automaattinen|autosvar)`)

// isAutoReply reports an RFC 3834 auto-reply or a vacation message.
func isAutoReply(h mail.Header) bool {
	from := strings.ToLower(h.Get("From"))
	if strings.Contains(from, "mailer-daemon") || strings.Contains(from, "postmaster") {
		return false
	}
	as := strings.ToLower(h.Get("Auto-Submitted"))
	if strings.HasPrefix(as, "auto-replied") {
		return true
	}
	if h.Get("X-Autoreply") != "" || h.Get("X-Autorespond") != "" || strings.EqualFold(h.Get("Precedence"), "auto_reply") {
		return true
	}
	return autoSubject.MatchString(decodeHeader(h.Get("Subject")))
}

var (
	bounceFrom    = regexp.MustCompile(`(?i)mailer-daemon|postmaster|mail delivery (?:subsystem|system)|mail ?administrator|bounce|mdaemon|mailer|mail system|delivery|noreply|no-reply|daemon`)
	bounceSubject = regexp.MustCompile(`(?i)undeliver|undelivered|delivery (?:status|failure|failed|notification|problem|report)|returned mail|failure notice|mail delivery|could not be delivered|not delivered|failed|non[- ]?delivery|returned to sender|rejected|nondeliverable|warning|delayed|error|bounce|permanent|unzustellbar|no se puede entregar|non remis|problem`)
)

// A mailing list's manager refuses a post from someone not subscribed to
// it from the list's own administrative address (fml's "-admin@",
// Mailman's and Majordomo's "-owner@" and "-request@"), saying so ("You are
// not a member of this mailing list <list@...>"): the list refused the
// message, like a server would. It never suppresses anyone.
var (
	listManagerFrom = regexp.MustCompile(`(?i)-(?:admin|owner|request)@`)
	listRefusal     = regexp.MustCompile(`(?i)\bnot (?:a )?member\b|\bnon-?member\b`)
)

// listRefusals reads a list manager's refusal: the list is the address in
// the sentence that refuses; the other addresses in the notice are for
// help (the list's "-ctl" or "-request" address).
func listRefusals(h mail.Header, p *parts) []Failure {
	if !listManagerFrom.MatchString(h.Get("From")) {
		return nil
	}
	text := p.prose()
	loc := listRefusal.FindStringIndex(text)
	if loc == nil {
		return nil
	}
	start := strings.LastIndexByte(text[:loc[0]], '\n') + 1
	end := strings.IndexByte(text[loc[1]:], '\n')
	if end < 0 {
		end = len(text)
	} else {
		end += loc[1]
	}
	line := strings.TrimSpace(text[start:end])
	var out []Failure
	for _, a := range addrRE.FindAllString(line, 5) {
		out = append(out, Failure{Recipient: strings.ToLower(a), Kind: Soft, Reason: "rejected", Diagnostic: line})
	}
	return out
}

// looksLikeBounce decides whether a message without a delivery-status part
// is a report at all, from who sent it and what it is called.
func looksLikeBounce(h mail.Header, p *parts) bool {
	if p.reportTy == "delivery-status" {
		return true
	}

	return bounceFrom.MatchString(h.Get("From")) || bounceSubject.MatchString(decodeHeader(h.Get("Subject")))
}

func decodeHeader(s string) string {
	if d, err := new(mimeDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}
