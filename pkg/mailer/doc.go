// Package mailer puts one recipient's message on the wire: it writes the
// MIME message (Build, AppendMessage: quoted-printable parts, folded and
// encoded headers), signs it (DKIMSigner, behind the Signer seam), keeps a
// bounded pool of open SMTP connections to a relay (Pool), and says what the
// relay's answer means for the message (Classify: sent, deferred, bounced,
// failed).
//
// It owns MIME assembly, DKIM signing and the SMTP conversation; go-mail
// dials, negotiates TLS and authenticates. It must not touch the database,
// the queue, templates or tracking: rendering, retries, suppression and rate
// limits belong to its callers, which get a Result and decide.
package mailer
