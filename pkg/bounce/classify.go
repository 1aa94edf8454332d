package bounce

import (
	"regexp"
	"strings"
)

// reasonPattern is one reason and the words that say it. The order of
// reasonPatterns matters: the sender-side refusals (blocked, spam, policy)
// come before the address failures, because a refusal of the sender that
// happens to mention "user" or "recipient" must never suppress a live
// address.
type reasonPattern struct {
	reason string
	re     *regexp.Regexp
}

func rp(reason string, words ...string) reasonPattern {
	return reasonPattern{reason, regexp.MustCompile(`(?i)(?:` + strings.Join(words, "|") + `)`)}
}

var reasonPatterns = []reasonPattern{
	// Unambiguous words of particular servers first, before the
	// general words they contain ("blacklisted", "IP address").
	rp("blocked", `my name was rejected`),
	rp("hostunknown", `couldn'?t find a mail exchanger`, `could not deliver mail to .* the account or domain may not exist`,
		`(?:^|[\s:])[a-z0-9-]+(?:\.[a-z0-9-]+)+\.?\s+does not exist`, `invalid domain`, `domain is not reachable`, `domain does not exist`),
	rp("userunknown", `address couldn'?t be found`, `invalid final delivery userid`,
		`unable to deliver message to <[^>]*> \(and other recipients in the same domain\)`,
		// Outlook.com (Hotmail) refuses an address it does not have with
		// RFC 5321's stock 550 text and its own error numbers after it;
		// other servers use the stock text for any refusal.
		`mailbox unavailable \(-?\d+:\d+:-?\d+\)`,
		// Lotus Notes, in English and in Japanese, about its directory.
		`not listed in public name & address book`, `ディレクトリのリストにありません`),
	rp("suspend", `temporar(?:y|ily) (?:locked|disabled|suspended)`),
	rp("filtered", `refused due to recipient preferences`, `recipient preferences`),
	rp("notaccept", `no smtp service`, `null mx`, `does not accept (?:any )?mail`),
	rp("mailboxfull",
		`mailbox (?:is |was )?full`, `mail ?box(?:es)? (?:is )?(?:over|exceeded|full)`, `over ?quota`, `quota (?:exceeded|full|violation)`,
		`exceeded (?:the )?(?:storage|quota)`, `(?:disk|storage) quota`, `user is over`, `insufficient (?:disk )?space`,
		`mailbox (?:size )?limit exceeded`, `exceeds? (?:the )?(?:mailbox|storage|quota)`, `account is full`, `inbox is full`,
		`not enough (?:disk )?space`, `user has exceeded`, `out of (?:disk )?space`, `mailfolder is full`, `maildir over`,
		`has exceeded (?:his|her|its|their)`, `too much mail`, `storage (?:limit|full)`, `does not have enough space`),
	rp("mesgtoobig",
		`message (?:is )?too (?:big|large)`, `message size exceeds`, `size limit`, `message length exceeds`, `exceeds (?:the )?(?:maximum|max)(?:imum)? (?:message )?size`, `message file too big`),
	rp("exceedlimit", `message too large for this recipient`),
	rp("suspend",
		`(?:account|mailbox|user|address) (?:has been |is |was )?(?:disabled|suspended|deactivated|inactive|locked|frozen|closed|expired)`,
		`inactive (?:account|user|mailbox)`, `(?:disabled|suspended|deactivated) (?:account|mailbox|user)`, `mailbox unavailable or access denied`,
		`account that you tried to reach is (?:disabled|inactive)`, `this account has been`, `currently suspended`),
	rp("hasmoved", `has moved to`, `address (?:has )?(?:changed|moved)`, `no longer (?:valid|in use)(?:; please| use)`),
	rp("norelaying",
		`relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed))`, `not (?:permitted|allowed) to relay`, `unable to relay`, `we do not relay`,
		`relay not permitted`, `no relaying`, `relaying (?:mail )?to .* is not allowed`, `not a gateway`),
	rp("spamdetected",
		`\bspam\b`, `spamming`, `junk mail`, `(?:message|mail|content) (?:was )?(?:classified|considered|identified|detected) as (?:spam|junk|bulk)`,
		`unsolicited`, `bulk mail`, `spam ?assassin`, `message (?:content )?(?:rejected|refused) due to content`),
	rp("virusdetected", `virus`, `malware`, `infected`, `trojan`),
	rp("blocked",
		`blocked`, `black ?list`, `block ?list`, `listed (?:in|on|at|by)`, `\brbl\b`, `\bdnsbl\b`, `spamhaus`, `spamcop`, `sorbs`, `barracuda`,
		`client host (?:\[[^\]]*\] )?(?:rejected|blocked)`, `connection (?:refused|rejected|denied)`, `reverse (?:dns|lookup)`, `\bptr\b`, `rdns`,
		`not allowed to send`, `banned`, `your (?:ip|host|server|network)`, `\bip\b.* (?:reputation|rejected|denied)`, `reputation`,
		`access denied`, `service unavailable.*(?:client|host)`, `poor reputation`, `too many (?:spam|complaints)`, `refused to talk`,
		`dynamic (?:ip|address)`, `\bhelo\b`, `\behlo\b`, `sender address rejected`, `sender (?:is )?(?:rejected|blocked|denied)`,
		`envelope sender`, `mail from .* (?:rejected|refused)`, `domain of sender`, `sender domain`, `bad sender`, `sender verify failed`,
		`sender (?:address )?verification`, `unverified sender`, `sender (?:mx|domain) (?:not found|does not exist)`, `\bdmarc\b`,
		`not authorized to send`, `unauthenticated`, `authentication (?:required|failed)`, `\bspf\b`, `\bdkim\b`, `\brejected by (?:the )?(?:recipient )?(?:domain|server)'?s? policy`),
	rp("policyviolation",
		`polic(?:y|ies)`, `prohibited`, `not (?:permitted|accepted) (?:by|due to)`, `message (?:content )?rejected`, `content (?:rejected|refused|filter)`,
		`attachment`, `not allowed`, `restricted`, `forbidden`),
	rp("toomanyconn", `too many (?:connections|concurrent|messages|recipients)`, `connection (?:rate|limit)`, `rate limit`, `throttl`, `try again later.*(?:rate|many)`),
	rp("securityerror", `\btls\b`, `\bssl\b`, `certificate`, `encrypt`, `authentication`, `security`),
	rp("rejected", `rejected (?:the )?sender`, `sender rejected`, `mail from rejected`),
	rp("userunknown",
		`user ?(?:name )?(?:is )?unknown`, `unknown (?:local[- ]?part|user|recipient|mailbox|address|e-?mail|account)`, `no such (?:user|mailbox|recipient|person|address|account|local user)`,
		`(?:user|mailbox|recipient|address|account|addressee|e-?mail address|e-?mail account) (?:\S+ )?(?:does ?(?:n'?o|no)t|doesn't) exist`, `does not exist`,
		`(?:user|mailbox|recipient|address|account|addressee) (?:\S+ )?(?:not found|unknown|invalid|not (?:valid|known|listed|recognized))`,
		`invalid (?:recipient|mailbox|user|address|account)`, `recipient (?:address )?rejected`, `no mailbox`, `mailbox not found`, `not a valid (?:user|mailbox|recipient|address)`,
		`unrouteable address`, `addressee unknown`, `not (?:our|a local) (?:customer|user)`, `bad (?:destination )?(?:mailbox|recipient|address)`,
		`recipient not (?:found|known|exist)`, `user not (?:found|exist|known|listed)`, `email account that you tried to reach does not exist`,
		`undeliverable address`, `does not have an? (?:account|mailbox)`, `no account`,
		`unknown or illegal alias`, `not listed in`, `no longer (?:available|active|exists?)`, `is not a known user`, `mailbox is inactive`,
		`no mail ?box here`, `not have a mailbox`, `account (?:is )?unavailable`, `not exist`, `non-?existent`, `recipient unknown`, `unknown recipient`,
		`address rejected`, `rejected: user`, `destination (?:address|mailbox) (?:is )?(?:invalid|unknown)`),
	rp("hostunknown",
		`host (?:or domain name )?(?:not found|unknown)`, `unknown host`, `domain (?:not found|does not exist|unknown|name not found)`, `no such (?:domain|host)`,
		`unrouteable (?:mail )?domain`, `name or service not known`, `unknown domain`, `couldn'?t find any host`, `illegal host`, `no mx`,
		`dns (?:error|lookup failed)`, `domain (?:is )?(?:not (?:valid|in use|exist)|invalid)`, `nxdomain`, `host .* not found`, `mx (?:record|lookup)`),
	rp("filtered", `filter`),
	rp("expired",
		`expired`, `retry (?:time(?:out)?|period) (?:exceeded|expired)`, `too long in (?:the )?queue`, `giving up`, `gave up`, `could not be delivered (?:for|within)`,
		`delivery time`, `timed? ?out`, `has been delayed`, `not (?:yet )?been delivered`, `delay`, `maximum time`, `queue(?:d)? (?:too long|for)`, `undeliverable for`),
	rp("networkerror", `network`, `connection (?:reset|closed|lost|dropped)`, `lost connection`, `unreachable`, `no route`, `loop`, `hop count`, `too many hops`),
	rp("systemfull", `system (?:is )?full`, `disk full`, `no space left`),
	rp("systemerror", `system error`, `internal (?:server )?error`, `server error`, `temporar(?:y|ily)`, `local error`, `resources`, `configuration error`, `i/o error`),
	rp("contenterror", `content`, `header`, `8bit`, `encoding`, `mime`),
	rp("syntaxerror", `syntax`, `command unrecognized`, `unrecognized command`),
}

// statusReasons maps RFC 3463 status details to reasons, for a report whose
// words say nothing recognizable.
var statusReasons = map[string]string{
	"1.0": "userunknown", "1.1": "userunknown", "1.2": "hostunknown", "1.3": "userunknown", "1.4": "userunknown",
	"1.5": "undefined", "1.6": "hasmoved", "1.7": "rejected", "1.8": "rejected", "1.9": "systemerror", "1.10": "hostunknown",
	"2.0": "filtered", "2.1": "suspend", "2.2": "mailboxfull", "2.3": "exceedlimit", "2.4": "systemerror",
	"3.0": "systemerror", "3.1": "systemfull", "3.2": "notaccept", "3.3": "systemerror", "3.4": "mesgtoobig", "3.5": "systemerror",
	"4.0": "networkerror", "4.1": "networkerror", "4.2": "networkerror", "4.3": "systemerror", "4.4": "networkerror",
	"4.5": "networkerror", "4.6": "networkerror", "4.7": "expired",
	"5.0": "syntaxerror", "5.1": "syntaxerror", "5.2": "syntaxerror", "5.3": "toomanyconn", "5.4": "syntaxerror", "5.5": "syntaxerror",
	"6.0": "contenterror", "6.1": "contenterror", "6.2": "contenterror", "6.3": "contenterror", "6.4": "contenterror", "6.5": "contenterror",
	"7.0": "securityerror", "7.1": "blocked", "7.2": "securityerror", "7.3": "securityerror", "7.4": "securityerror",
	"7.5": "securityerror", "7.6": "securityerror", "7.7": "securityerror", "7.8": "securityerror", "7.9": "securityerror",
	"7.13": "suspend", "7.17": "suspend", "7.18": "suspend", "7.26": "securityerror",
}

var (
	statusRE = regexp.MustCompile(`\b([245])\.(\d{1,3})\.(\d{1,3})\b`)
	replyRE  = regexp.MustCompile(`(?:^|[^\d.])([245])\d\d(?:[ :-]|$)`)
)

// hardReasons are the reasons that say the address itself is dead.
var hardReasons = map[string]bool{"userunknown": true, "hostunknown": true, "hasmoved": true}

var (
	afterRcpt = regexp.MustCompile(`(?i)in reply to rcpt|after rcpt|>>> ?rcpt|rcpt to command`)
	afterData = regexp.MustCompile(`(?i)in reply to (?:end of )?data|after (?:end of )?data|>>> ?data\b|data command|end of data|smtp command -* ?data`)
	afterMail = regexp.MustCompile(`(?i)in reply to mail from|after mail from|>>> ?mail from|mail from command`)
	// KDDI (au) answers "550 : User unknown", with no address, to mail
	// its user chose not to receive.
	kddiFiltered = regexp.MustCompile(`(?i)550:? +: *user unknown`)
	// m-FILTER names the failed command in a section of its own.
	mfilterData = regexp.MustCompile(`(?i)-+ ?smtp command\s+data`)
	tryAgain    = regexp.MustCompile(`(?i)not found, try again|temporar`)
)

// classifyFailure fills Reason, Kind and Status of f from its status and
// diagnostic words; context is the prose around the recipient, where the
// report may say which SMTP command failed.
func classifyFailure(f *Failure, context string) {
	diag := strings.Join(strings.Fields(f.Diagnostic), " ")
	context = strings.Join(strings.Fields(context), " ")
	if f.Status == "" || strings.HasSuffix(f.Status, ".0.0") {
		if m := statusRE.FindString(diag); m != "" {
			f.Status = m
		}
	}
	class := ""
	if f.Status != "" {
		class = f.Status[:1]
	} else if m := replyRE.FindStringSubmatch(diag); m != nil {
		class = m[1]
	}
	reason := textReason(diag)
	if sr := statusReason(f.Status); sr != "" && sr != "undefined" {
		switch {
		case reason == "":
			reason = sr
		case hardReasons[sr] && weakReasons[reason]:
			// The status names the address; vaguer words (expired,
			// system error) do not outweigh it.
			reason = sr
		}
	}
	if reason == "" {
		reason = "undefined"
	}
	if (weakReasons[reason] || reason == "securityerror") && class == "5" && afterMail.MatchString(diag+"\n"+context) && !afterRcpt.MatchString(diag+"\n"+context) {
		// Refused at MAIL FROM, in words that say nothing more (Exim's
		// "SMTP error ... after MAIL FROM: 550 5.7.0 ..."): the sender
		// was refused, whatever the status guesses.
		reason = "rejected"
	}
	if hardReasons[reason] {
		cmd := diag + "\n" + context
		switch {
		case afterRcpt.MatchString(cmd):
		case afterMail.MatchString(cmd):
			// Refused at MAIL FROM: the sender's address or domain.
			reason = "rejected"
		case reason == "userunknown" && (afterData.MatchString(cmd) && !strings.HasPrefix(f.Status, "5.1.") || kddiFiltered.MatchString(diag)):
			// Accepted at RCPT TO, refused after the message was seen:
			// a filter speaking, not a missing mailbox, unless the
			// server gives the status of a bad address (5.1.x).
			reason = "filtered"
		case reason == "hostunknown" && tryAgain.MatchString(diag):
			reason = "networkerror"
		}
		if reason == "userunknown" && !hardEvidence(f.Status, diag, cmd) {
			// "User unknown" with no code at all, or with a status that
			// names something else (a policy, the mailbox's state), is
			// too often a filter's euphemism to suppress an address on.
			reason = "filtered"
		}
	}
	f.Reason = reason
	f.Kind = Soft
	if hardReasons[reason] && class != "4" {
		f.Kind = Hard
	}
	if reason == "notaccept" && class != "4" {
		f.Kind = Hard
	}
}

// weakReasons are vague words that a specific status code outweighs.
var weakReasons = map[string]bool{
	"expired": true, "networkerror": true, "systemerror": true, "contenterror": true, "syntaxerror": true,
	"undefined": true, "userunknown": true, "hostunknown": true, "hasmoved": true,
}

// hardEvidence reports whether a failure carries a code that backs a hard
// verdict: a permanent status about the address (5.1.x, or 5.0.0, 5.4.4
// and 5.5.x with a 5xx reply), or a 5xx reply with no status at all.
//
// cmd is the diagnostic with the prose around it, where the report says
// which SMTP command the remote server refused.
func hardEvidence(status, diag, cmd string) bool {
	if postfixSaid.MatchString(diag) && !strings.Contains(diag, "in reply to") {
		// Postfix always names the command it was answered; without
		// it the report has been mangled on the way.
		return false
	}
	reply := replyRE.FindStringSubmatch(diag)
	has5xx := reply != nil && reply[1] == "5"
	switch {
	case status != "" && status[0] == '5' && has5xx && statusRE.FindString(diag) == "" && afterRcpt.MatchString(cmd):
		// The remote refused the recipient at RCPT TO with a bare reply
		// ("553 Invalid recipient a@b"): the status is the reporting MTA's
		// own translation of the reply code (Bigfoot, Sendmail), not the
		// remote's word, so it is read as a reply with no status.
		return true
	case powerMTABadMailbox.MatchString(cmd) && (status == "" || status[0] == '5'):
		// PowerMTA, a bulk sender's MTA, classifies the remote reply
		// itself; "bad-mailbox" is a recipient the remote server does
		// not have, whatever status the remote chose.
		return true
	case status == "":
		return has5xx || ownVerdict.MatchString(diag)
	case status[0] != '5':
		return false
	case strings.HasPrefix(status, "5.1."):
		return true
	case status == "5.0.0" && ownVerdict.MatchString(diag):
		// 5.0.0 is what a reporting MTA writes when it has no better
		// status (Gmail's "Address not found" reports carry it): its own
		// verdict about the address is the evidence.
		return true
	case status == "5.0.0" || strings.HasPrefix(status, "5.4.") || strings.HasPrefix(status, "5.5.") || strings.HasPrefix(status, "5.3."):
		return has5xx
	}
	// 5.2.x (the mailbox's state) and 5.7.x (policy) name something
	// other than a missing address. Even "550 5.2.1 <a>... User Unknown"
	// stays soft: RFC 3463 lets X.2.1 (mailbox disabled) be temporary,
	// and the reference parser itself reads that same reply both ways.
	return false
}

// powerMTABadMailbox is PowerMTA's own reading of the remote reply, in the
// X-PowerMTA-BounceCategory field of its DSN: "bad-mailbox" is a recipient
// the remote server does not have.
var powerMTABadMailbox = regexp.MustCompile(`(?i)x-powermta-bouncecategory: ?bad-mailbox`)

// ownVerdict are the words a server writes about its own users when it
// bounces without quoting any SMTP reply: no filter speaks like this.
var ownVerdict = regexp.MustCompile(`(?i)unrouteable address|please check if (?:the )?address is correct|wasn.t found at the destination domain|recipient name is not recognized|no mailbox here by that name|^unknown user: |address couldn.t be found|invalid final delivery userid|not listed in public name & address book|ディレクトリのリストにありません`)

// postfixSaid is how Postfix quotes a remote server: "host mx[192.0.2.1] said:".
var postfixSaid = regexp.MustCompile(`\] said: `)

func textReason(diag string) string {
	if strings.TrimSpace(diag) == "" {
		return ""
	}
	for _, p := range reasonPatterns {
		if p.re.MatchString(diag) {
			return p.reason
		}
	}
	return ""
}

func statusReason(status string) string {
	if len(status) < 5 {
		return ""
	}
	return statusReasons[status[2:]]
}
