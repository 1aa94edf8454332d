// Package mailer puts one recipient's message on the wire: it assembles the
// MIME message (Build), keeps a bounded pool of open SMTP connections to a
// relay (Pool), and says what the relay's answer means for the message
// (Classify: sent, deferred, bounced, failed).
//
// It owns MIME assembly and the SMTP conversation, through go-mail. It must
// not touch the database, the queue, templates or tracking: rendering,
// retries, suppression and rate limits belong to its callers, which get a
// Result and decide.
package mailer
