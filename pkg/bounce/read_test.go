package bounce

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/japanese"
)

// got is the part of a failure the table tests check.
type got struct {
	Recipient string
	Kind      Kind
	Reason    string
}

func summary(fs []Failure) []got {
	var out []got
	for _, f := range fs {
		out = append(out, got{f.Recipient, f.Kind, f.Reason})
	}
	return out
}

// dsn builds a multipart/report with one delivery-status part.
func dsn(text, status string) string {
	return "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\r\n" +
		"To: bounces+s1@lists.example.net\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\n" + text + "\r\n" +
		"--B\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.example.org\r\n\r\n" + status + "\r\n" +
		"--B\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"From: Campaign <news@example.net>\r\nTo: ada@example.com\r\nMessage-ID: <m1@example.net>\r\nSubject: Act now\r\n\r\n" +
		"--B--\r\n"
}

// plain builds a free-text report as old servers write them.
func plain(from, subject, body string) string {
	return "From: " + from + "\nTo: bounces+s1@lists.example.net\nSubject: " + subject + "\n\n" + body
}

var readCases = []struct {
	name string
	msg  string
	want []got
}{
	{"rfc3464 user unknown", dsn("The mail system could not deliver it.",
		"Final-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <ada@example.com>: Recipient address rejected: User unknown in local recipient table"),
		[]got{{"ada@example.com", Hard, "userunknown"}}},
	{"rfc3464 host unknown", dsn("No such domain.",
		"Final-Recipient: rfc822; ada@nowhere.example\r\nAction: failed\r\nStatus: 5.1.2\r\nDiagnostic-Code: X-Postfix; Host or domain name not found. Name service error for name=nowhere.example type=A: Host not found"),
		[]got{{"ada@nowhere.example", Hard, "hostunknown"}}},
	{"rfc3464 mailbox full", dsn("Over quota.",
		"Final-Recipient: rfc822; bo@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full"),
		[]got{{"bo@example.com", Soft, "mailboxfull"}}},
	{"rfc3464 delayed", dsn("Still trying.",
		"Final-Recipient: rfc822; cy@example.com\r\nAction: delayed\r\nStatus: 4.4.7\r\nDiagnostic-Code: smtp; 421 4.4.7 Delivery time expired"),
		[]got{{"cy@example.com", Soft, "expired"}}},
	{"rfc3464 delivered is no failure", dsn("Delivered.",
		"Final-Recipient: rfc822; ok@example.com\r\nAction: delivered\r\nStatus: 2.0.0"),
		nil},
	{"rfc3464 two recipients without a blank line", dsn("Two failed.",
		"Final-Recipient: rfc822; a1@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user\r\n"+
			"Final-Recipient: rfc822; a2@example.com\r\nAction: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 over quota"),
		[]got{{"a1@example.com", Hard, "userunknown"}, {"a2@example.com", Soft, "mailboxfull"}}},
	{"sender refusal with 5.1.1 is soft", dsn("Refused.",
		"Final-Recipient: rfc822; dee@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 Client host [192.0.2.1] blocked using zen.spamhaus.org"),
		[]got{{"dee@example.com", Soft, "blocked"}}},
	{"policy status with user words is soft", dsn("Refused.",
		"Final-Recipient: rfc822; eve@example.com\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1 Recipient address rejected: User unknown"),
		[]got{{"eve@example.com", Soft, "filtered"}}},
	{"bare reply at RCPT outweighs the reporter's status", dsn("   ----- Transcript of session follows -----\r\n>>> RCPT TO:<kay@example.com>\r\n<<< 553 Invalid recipient kay@example.com (Mode: normal)",
		"Final-Recipient: RFC822; <kay@example.com>\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: SMTP; 553 Invalid recipient kay@example.com (Mode: normal)"),
		[]got{{"kay@example.com", Hard, "userunknown"}}},
	{"bare reply with no command named keeps the reporter's status", dsn("Delivery failed.",
		"Final-Recipient: RFC822; <lea@example.com>\r\nAction: failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: SMTP; 553 Invalid recipient lea@example.com"),
		[]got{{"lea@example.com", Soft, "filtered"}}},
	{"user unknown after DATA is a filter", dsn("<fay@example.com>: host mx[192.0.2.2] said: 550 Unknown user fay@example.com (in reply to end of DATA command)",
		"Final-Recipient: rfc822; fay@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\nDiagnostic-Code: smtp; 550 Unknown user fay@example.com"),
		[]got{{"fay@example.com", Soft, "filtered"}}},
	{"user unknown after DATA with an address status is hard", dsn("<fox@example.com>: host mx[192.0.2.2] said: 550 5.1.1 <fox@example.com>: User unknown (in reply to end of DATA command)",
		"Final-Recipient: rfc822; fox@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <fox@example.com>: User unknown"),
		[]got{{"fox@example.com", Hard, "userunknown"}}},
	{"user unknown without any code is not hard", dsn("Failed.",
		"Final-Recipient: rfc822; gus@example.com\r\nAction: failed\r\nStatus: 5.0.0\r\nDiagnostic-Code: The account does not exist."),
		[]got{{"gus@example.com", Soft, "filtered"}}},
	{"5.2.1 user unknown stays soft", dsn("<ann@example.com>: host mx.example.com[192.0.2.4] said: 550 5.2.1 <ann@example.com>... User Unknown (in reply to RCPT TO command)",
		"Final-Recipient: rfc822; ann@example.com\r\nAction: failed\r\nStatus: 5.2.1\r\nDiagnostic-Code: smtp; 550 5.2.1 <ann@example.com>... User Unknown"),
		[]got{{"ann@example.com", Soft, "filtered"}}},
	{"powermta bad-mailbox is hard", "From: Mail Delivery Subsystem <postmaster@mta1.example.net>\r\nTo: bounces+s1@lists.example.net\r\nSubject: Delivery report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"P\"\r\n\r\n" +
		"--P\r\nContent-Type: text/plain\r\n\r\nHello, this is the mail server on mta1.example.net.\r\n\r\n  <bea@example.com>  delivery failed; will not continue trying\r\n\r\n" +
		"--P\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;mta1.example.net\r\n\r\n" +
		"Final-Recipient: rfc822;bea@example.com\r\nAction: failed\r\nStatus: 5.2.1 (mailbox disabled, not accepting messages)\r\n" +
		"Diagnostic-Code: smtp;550 5.2.1 <bea@example.com>... User Unknown\r\nX-PowerMTA-BounceCategory: bad-mailbox\r\n--P--\r\n",
		[]got{{"bea@example.com", Hard, "userunknown"}}},
	{"powermta spam-related is not", "From: Mail Delivery Subsystem <postmaster@mta1.example.net>\r\nTo: bounces+s1@lists.example.net\r\nSubject: Delivery report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"P\"\r\n\r\n" +
		"--P\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns;mta1.example.net\r\n\r\n" +
		"Final-Recipient: rfc822;bob@example.com\r\nAction: failed\r\nStatus: 5.2.1\r\n" +
		"Diagnostic-Code: smtp;550 5.2.1 <bob@example.com>... User Unknown\r\nX-PowerMTA-BounceCategory: spam-related\r\n--P--\r\n",
		[]got{{"bob@example.com", Soft, "filtered"}}},
	{"gmail address not found with 5.0.0 is hard", dsn("** Address not found **\r\n\r\nYour message wasn't delivered to cat@example.com because the address couldn't be found. Check for typos or unnecessary spaces and try again.",
		"Final-Recipient: rfc822; cat@example.com\r\nAction: failed\r\nStatus: 5.0.0"),
		[]got{{"cat@example.com", Hard, "userunknown"}}},
	{"outlook.com mailbox unavailable is hard", dsn("Delivery to the following recipients failed.",
		"Final-Recipient: rfc822;ivo@hotmail.example\r\nAction: failed\r\nStatus: 5.5.0\r\nDiagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable (-1990012310:2448:-2147467259)"),
		[]got{{"ivo@hotmail.example", Hard, "userunknown"}}},
	{"stock mailbox unavailable elsewhere is not", dsn("Delivery failed.",
		"Final-Recipient: rfc822;jan@example.com\r\nAction: failed\r\nStatus: 5.5.0\r\nDiagnostic-Code: smtp;550 Requested action not taken: mailbox unavailable"),
		[]got{{"jan@example.com", Soft, "syntaxerror"}}},
	{"sender domain refused at MAIL FROM", plain("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Mail delivery failed: returning message to sender",
		"This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"+
			"  hal@example.com\n    host mx.example.com [192.0.2.3]\n    SMTP error from remote mail server after MAIL FROM:<news@example.net>:\n    550 5.1.8 No such domain example.net\n"),
		[]got{{"hal@example.com", Soft, "rejected"}}},
	{"exim refused at RCPT", plain("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Mail delivery failed: returning message to sender",
		"This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"+
			"  ida@example.com\n    SMTP error from remote mail server after RCPT TO:<ida@example.com>:\n    550 5.1.1 <ida@example.com>: Recipient address rejected: User unknown\n\n"+
			"------ This is a copy of the message, including all the headers. ------\n\nFrom: news@example.net\nTo: ida@example.com\nMessage-ID: <m2@example.net>\n\nHello\n"),
		[]got{{"ida@example.com", Hard, "userunknown"}}},
	{"qmail", plain("MAILER-DAEMON@mx.example.org", "failure notice",
		"Hi. This is the qmail-send program at mx.example.org.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n"+
			"<jo@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"+
			"<kim@example.com>:\nThis message is looping: it already has my Delivered-To line. (#5.4.6)\n\n--- Below this line is a copy of the message.\n\nReturn-Path: <news@example.net>\nTo: jo@example.com\n"),
		[]got{{"jo@example.com", Hard, "userunknown"}, {"kim@example.com", Soft, "networkerror"}}},
	{"qmail report to the address that failed", "From: MAILER-DAEMON@mx.example.org\nTo: gia@example.org\nSubject: failure notice\n\n" +
		"Hi. This is the qmail-send program at mx.example.org.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n\n" +
		"<gia@example.org>:\n192.0.2.20 does not like recipient.\nRemote host said: 552 Error: disk quota exceeded\nGiving up on 192.0.2.20.\n",
		[]got{{"gia@example.org", Soft, "mailboxfull"}}},
	{"qmail no mail exchanger", plain("MAILER-DAEMON@mx.example.org", "failure notice",
		"Hi. This is the qmail-send program at mx.example.org.\n\n<lu@nowhere.example>:\nSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n"),
		[]got{{"lu@nowhere.example", Hard, "hostunknown"}}},
	{"qmail helo refused is the sender's problem", plain("MAILER-DAEMON@mx.example.org", "failure notice",
		"Hi. This is the qmail-send program at mx.example.org.\n\n<liz@example.com>:\nConnected to 192.0.2.7 but my name was rejected.\nRemote host said: 501 5.0.0 Invalid domain name\n"),
		[]got{{"liz@example.com", Soft, "blocked"}}},
	{"dns failure to retry is soft", dsn("<mo@example.com>: Name service error for domain example.com: Host not found, try again",
		"Final-Recipient: rfc822; mo@example.com\r\nAction: failed\r\nStatus: 5.4.4"),
		[]got{{"mo@example.com", Soft, "networkerror"}}},
	{"the address a failed one was expanded from is no failure", plain("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Mail delivery failed: returning message to sender",
		"This message was created automatically by mail delivery software.\n\nA message that you sent could not be delivered to one or more of its\nrecipients. The following address(es) failed:\n\n"+
			"  nia@example.org\n    (ultimately generated from list@example.org)\n    retry timeout exceeded\n"),
		[]got{{"nia@example.org", Soft, "expired"}}},
	{"exim failed-recipients header", "From: Mail Delivery System <Mailer-Daemon@mx.example.org>\nTo: ivy@example.com\nX-Failed-Recipients: ivy@example.com\nSubject: Mail delivery failed\n\n" +
		"The following address(es) failed:\n\n  ivy@example.com\n    SMTP error from remote mail server after RCPT TO:<ivy@example.com>:\n    550 5.1.1 <ivy@example.com>: User unknown\n",
		[]got{{"ivy@example.com", Hard, "userunknown"}}},
	{"mime parts without a content-type header", "From: MAILER-DAEMON@mx.example.org\nTo: news@example.net\nSubject: Returned mail: see transcript for details\n\n" +
		"--b1.example.org\n\nThe original message was received.\n\n--b1.example.org\nContent-Type: message/delivery-status\n\n" +
		"Final-Recipient: RFC822; oz@example.com\nAction: failed\nStatus: 4.4.7\n\n--b1.example.org--\n",
		[]got{{"oz@example.com", Soft, "expired"}}},
	{"prose naming no address falls back to the original, never hard", plain("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Returned mail: User unknown",
		"   ----- Transcript of session follows -----\n550 5.1.1 kit... User unknown\n\n   ----- Unsent message follows -----\nFrom: news@example.net\nTo: kit@example.com\nSubject: Hi\n\nHi\n"),
		[]got{{"kit@example.com", Soft, "userunknown"}}},
	{"exim naming a local part only, original without To", plain("Mail Delivery System <Mailer-Daemon@mx.example.org>", "Mail delivery failed: returning message to sender",
		"A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n"+
			"  mia\n    SMTP error from remote mail server after MAIL FROM:<news@example.net> SIZE=1543:\n    host mx.example.com [192.0.2.20]: 550 5.7.0 <news@example.net>... Please use the smtp server of your ISP.\n\n"+
			"------ This is a copy of the message, including all the headers. ------\n\nReturn-path: <news@example.net>\nReceived: from localhost ([127.0.0.1])\n\tby mx.example.org with smtp (Exim 4.72)\n\tfor mia@example.com; Fri, 01 Oct 2010 19:15:19 +0900\nFrom: news@example.net\n\nHi\n"),
		[]got{{"mia@example.com", Soft, "rejected"}}},
	{"old sendmail", plain("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Returned mail: see transcript for details",
		"The original message was received at Mon, 1 Jan 2001 00:00:00 GMT\n\n   ----- The following addresses had permanent fatal errors -----\n<max@example.com>\n\n"+
			"   ----- Transcript of session follows -----\n... while talking to mx.example.com.:\n>>> RCPT To:<max@example.com>\n<<< 550 5.1.1 <max@example.com>... User unknown\n550 5.1.1 <max@example.com>... User unknown\n"),
		[]got{{"max@example.com", Hard, "userunknown"}}},
	{"gmail quotes the remote reply a paragraph after the address", plain("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)",
		"Delivery to the following recipient failed permanently:\n\n     hugo@example.com\n\nTechnical details of permanent failure: \n"+
			"Google tried to deliver your message, but it was rejected by the server for the recipient domain example.com by mx.example.com. [192.0.2.6].\n\n"+
			"The error that the other server returned was:\n550 5.1.1 <hugo@example.com>... User Unknown\n\n----- Original message -----\n\nFrom: news@example.net\nTo: hugo@example.com\n"),
		[]got{{"hugo@example.com", Hard, "userunknown"}}},
	{"mobile carrier filter", plain("Mail Delivery Subsystem <MAILER-DAEMON@mx.example.org>", "Undelivered Mail",
		"<ned@ezweb.ne.jp>: 550 : User unknown\n"),
		[]got{{"ned@ezweb.ne.jp", Soft, "filtered"}}},
	{"arf complaint", "From: fbl@isp.example\r\nTo: abuse@example.net\r\nSubject: FW: Act now\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n" +
		"--F\r\nContent-Type: text/plain\r\n\r\nThis is an abuse report.\r\n" +
		"--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: FBL/1.0\r\nVersion: 1\r\nOriginal-Rcpt-To: ola@example.com\r\n" +
		"--F\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@example.net\r\nTo: ola@example.com\r\nMessage-ID: <m3@example.net>\r\n\r\nHi\r\n--F--\r\n",
		[]got{{"ola@example.com", Complaint, "feedback"}}},
	{"arf complaint naming no one", "From: fbl@isp.example\r\nTo: abuse@example.net\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"\r\n\r\n" +
		"--F\r\nContent-Type: message/feedback-report\r\n\r\nFeedback-Type: abuse\r\n" +
		"--F\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: news@example.net\r\nTo: undisclosed-recipients:;\r\nMessage-ID: <m4@example.net>\r\n--F--\r\n",
		[]got{{"", Complaint, "feedback"}}},
	{"hotmail jmrp", "From: staff@hotmail.com\r\nTo: abuse@example.net\r\nSubject: complaint about message from 192.0.2.9\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"J\"\r\n\r\n--J\r\nContent-Type: message/rfc822\r\n\r\nX-HmXmrOriginalRecipient: pat@example.com\r\nFrom: news@example.net\r\nTo: pat@example.com\r\n\r\nHi\r\n--J--\r\n",
		[]got{{"pat@example.com", Complaint, "feedback"}}},
	{"rfc3834 auto-reply", "From: Quinn <quinn@example.com>\nTo: news@example.net\nAuto-Submitted: auto-replied\nSubject: Away until Monday\n\nI am away.\n",
		[]got{{"quinn@example.com", AutoReply, "vacation"}}},
	{"out of office by subject", "From: rae@example.com\nTo: news@example.net\nSubject: Out of Office: Act now\n\nBack soon.\n",
		[]got{{"rae@example.com", AutoReply, "vacation"}}},
	{"ses bounce by mail", "From: no-reply@sns.amazonaws.com\nTo: ops@example.net\nSubject: AWS Notification Message\n\n" +
		`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"sam@example.com","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}]},` + "\n" +
		` "mail":{"source":"news@example.net"}}` + "\n",
		[]got{{"sam@example.com", Hard, "userunknown"}}},
	{"ses complaint by mail", "From: no-reply@sns.amazonaws.com\nTo: ops@example.net\nSubject: AWS Notification Message\n\n" +
		`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"tia@example.com"}]}}` + "\n",
		[]got{{"tia@example.com", Complaint, "feedback"}}},
	{"google groups", plain("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)",
		"The group you tried to contact may not exist, or you may not have permission to post messages to the group.\n\nGoogle Groups\n\n----- Original message -----\n\nFrom: news@example.net\nTo: team@googlegroups.com\nMessage-ID: <m5@example.net>\n\nHi\n"),
		[]got{{"team@googlegroups.com", Soft, "rejected"}}},
	{"broken part header still read", "From: MAILER-DAEMON@mx.example.org\r\nTo: news@example.net\r\nSubject: Undeliverable\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"O\"\r\n\r\n" +
		"--O\r\nContent-Type: multipart/alternative;\r\nboundary=\"I\"\r\n\r\n--I\r\nContent-Type: text/plain\r\n\r\nRejected.\r\n--I--\r\n" +
		"--O\r\nContent-Type: message/delivery-status\r\n\r\nFinal-Recipient: rfc822;uma@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp;550 5.1.1 unknown recipient\r\n",
		[]got{{"uma@example.com", Hard, "userunknown"}}},
	{"a bounce forwarded by a person, quoted", "From: Ada <ada@example.net>\nTo: bounces+s1@lists.example.net\nSubject: Fwd: Returned mail: see transcript for details\n\nForwarding this.\n\nBegin forwarded message:\n\n" +
		"> From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n> To: <ada@example.net>\n> Subject: Returned mail: see transcript for details\n> Message-Id: <r1@mx.example.net>\n>\n" +
		">    ----- The following addresses had permanent fatal errors -----\n> <dan@example.com>\n>     (reason: 550 5.1.1 <dan@example.com>... User unknown)\n>\n" +
		">    ----- Transcript of session follows -----\n> ... while talking to mx.example.com.:\n>>>> RCPT To:<dan@example.com>\n> <<< 550 5.1.1 <dan@example.com>... User unknown\n",
		[]got{{"dan@example.com", Hard, "userunknown"}}},
	{"a report attached to a relay's report", "From: Mail Delivery Subsystem <MAILER-DAEMON@gw.example.net>\nTo: news@example.net\nSubject: Returned mail: User unknown\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=\"W\"\n\n--W\nContent-Type: text/plain\n\n----- The following addresses had permanent delivery errors -----\n\n" +
		"--W\nContent-Type: message/rfc822\n\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.com>\nTo: news@example.net\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"I\"\n\n--I\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n" +
		"Final-Recipient: rfc822; eli@example.com\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--I--\n\n--W--\n",
		[]got{{"eli@example.com", Hard, "userunknown"}}},
	{"a relay's report pasted into an ISP's notice", plain("MAILER-DAEMON@isp.example.net", "Undelivered Mail Returned to Sender",
		"The message returned below could not be delivered. For help, contact <support@isp.example.net>.\n\n-----------------\nFrom MAILER-DAEMON  Thu Apr 29 23:34:45 2015\n"+
			"Return-Path: <>\nFrom: MAILER-DAEMON@relay.isp.example.net (Mail Delivery System)\nSubject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"+
			"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"R\"\n\n--R\nContent-Type: text/plain\n\n<fio@example.com>: connect to mx.example.com[192.0.2.5]: server refused to talk to me: 421 Service not available\n\n"+
			"--R\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; fio@example.com\nAction: failed\nStatus: 4.0.0\nDiagnostic-Code: X-Postfix; server refused to talk to me: 421 Service not available\n\n--R--\n"),
		[]got{{"fio@example.com", Soft, "blocked"}}},
	{"a forwarded personal message is no report", "From: Ada <ada@example.net>\nTo: news@example.net\nSubject: Fwd: Act now\n\nBegin forwarded message:\n\n> From: Gil <gil@example.com>\n> Subject: Act now\n>\n> I could not be delivered to the meeting, user unknown to me.\n", nil},
	{"a list manager refuses a non-member's post", "From: act-admin@lists.example.org\nTo: news@example.net\nSubject: You news@example.net are not member (act ML)\n\n" +
		"You are not a member of this mailing list <act@lists.example.org>.\n\nIf you know the general guide of this list, please send mail with\nthe mail body\n\n\tguide\n\nto the address\n\n\tact-ctl@lists.example.org\n",
		[]got{{"act@lists.example.org", Soft, "rejected"}}},
	{"a list owner's letter is no report", "From: act-owner@lists.example.org\nTo: news@example.net\nSubject: Welcome\n\nWelcome to act@lists.example.org, glad to have you.\n", nil},
	{"InterScan's verdict on the address", "From: postmaster@mx.example.jp (\"InterScan Notification\")\nTo: news@example.net\nSubject: Mail could not be delivered\n\n" +
		"Message from InterScan Messaging Security Suite\n\nUnable to deliver message to <gil@example.jp> (and other recipients in the same domain). Please check if address is correct.\n",
		[]got{{"gil@example.jp", Hard, "userunknown"}}},
	{"InterScan without its verdict stays soft", "From: postmaster@mx.example.jp (\"InterScan Notification\")\nTo: news@example.net\nSubject: Mail could not be delivered\n\n" +
		"The following mail could not be delivered.\nReason:  Unable to deliver message to <gil@example.jp> (and other recipients in the same domain).\n",
		[]got{{"gil@example.jp", Soft, "filtered"}}},
	{"Exim's X-Failed-Recipients when the prose names a delivery, not the address", "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: news@example.net\nX-Failed-Recipients: ada@example.org\nReply-To: ada@example.org\n" +
		"Subject: Mail delivery failed: returning message to sender\n\nA message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  save to inbox\n    generated by ada\n    mailbox is full: retry timeout exceeded\n",
		[]got{{"ada@example.org", Soft, "mailboxfull"}}},
	{"a personal message is no report", "From: vic@example.com\nTo: news@example.net\nSubject: Re: Act now\n\nThanks, I signed. Tell wes@example.com too.\n", nil},
}

func TestRead(t *testing.T) {
	for _, tc := range readCases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Read(strings.NewReader(tc.msg))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, summary(rep.Failures)); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadCharset reads Lotus Notes' report as a Japanese server writes it:
// ISO-2022-JP, which says nothing until it is decoded.
func TestReadCharset(t *testing.T) {
	reason, err := japanese.ISO2022JP.NewEncoder().String("ディレクトリのリストにありません")
	if err != nil {
		t.Fatal(err)
	}
	for name, words := range map[string]string{"japanese": reason, "english": "User not listed in public Name & Address Book"} {
		t.Run(name, func(t *testing.T) {
			msg := "From: postmaster@notes.example.co.jp\nTo: news@example.net\nSubject: Undeliverable message\nMIME-Version: 1.0\n" +
				"Content-Type: text/plain; charset=ISO-2022-JP\n\n------- Failure Reasons  --------\n\n" + words + "\nkai@notes.example.co.jp\n\n" +
				"------- Returned Message --------\nMessage-ID: <m6@example.net>\nTo: kai@notes.example.co.jp\nFrom: news@example.net\n\nHi\n"
			rep, err := Read(strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			want := []got{{"kai@notes.example.co.jp", Hard, "userunknown"}}
			if diff := cmp.Diff(want, summary(rep.Failures)); diff != "" {
				t.Errorf("failures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadOriginal(t *testing.T) {
	rep, err := Read(strings.NewReader(readCases[0].msg))
	if err != nil {
		t.Fatal(err)
	}
	if rep.MessageID != "m1@example.net" || rep.Envelope != "bounces+s1@lists.example.net" {
		t.Errorf("MessageID %q, Envelope %q; want m1@example.net, bounces+s1@lists.example.net", rep.MessageID, rep.Envelope)
	}
	if rep, _ := Read(strings.NewReader(readCase(t, "exim refused at RCPT"))); rep.MessageID != "m2@example.net" {
		t.Errorf("inline original: MessageID %q, want m2@example.net", rep.MessageID)
	}
}

func readCase(t *testing.T, name string) string {
	t.Helper()
	for _, tc := range readCases {
		if tc.name == name {
			return tc.msg
		}
	}
	t.Fatalf("no read case %q", name)
	return ""
}

func TestReadTooLarge(t *testing.T) {
	big := dsn(strings.Repeat("x", MaxSize), "Final-Recipient: rfc822; ada@example.com\r\nAction: failed\r\nStatus: 5.1.1")
	_, err := Read(strings.NewReader(big))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "MaxSize") {
		t.Fatalf("err = %v, want ErrTooLarge naming MaxSize", err)
	}
}

func TestCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Command([]string{"classify"}, strings.NewReader(readCases[0].msg), &out, &errOut)
	want := `{"recipient":"ada@example.com","kind":"hard","status":"5.1.1","reason":"userunknown"}` + "\n"
	if code != 0 || out.String() != want {
		t.Errorf("exit %d, output %q (stderr %q); want 0, %q", code, out.String(), errOut.String(), want)
	}
	out.Reset()
	if code := Command(nil, strings.NewReader(""), &out, &errOut); code != 2 {
		t.Errorf("no subcommand: exit %d, want 2", code)
	}
}

func FuzzRead(f *testing.F) {
	for _, tc := range readCases {
		f.Add([]byte(tc.msg))
	}
	f.Add([]byte("Content-Type: multipart/report; boundary=\"\r\n\r\n--"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		rep, err := Read(bytes.NewReader(msg))
		if err != nil {
			return
		}
		for _, fl := range rep.Failures {
			switch fl.Kind {
			case Hard, Soft, Complaint, AutoReply:
			default:
				t.Fatalf("failure %+v has no kind", fl)
			}
			if fl.Kind == Hard && !hardReasons[fl.Reason] && fl.Reason != "notaccept" {
				t.Fatalf("hard failure with reason %q", fl.Reason)
			}
		}
	})
}

func BenchmarkRead(b *testing.B) {
	var total int64
	for _, tc := range readCases {
		total += int64(len(tc.msg))
	}
	b.SetBytes(total / int64(len(readCases)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		tc := readCases[n%len(readCases)]
		if _, err := Read(strings.NewReader(tc.msg)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "reports/s")
}
