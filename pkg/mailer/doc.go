// Package mailer puts one recipient's message on the wire: it writes the
// MIME message (Build, AppendMessage: quoted-printable parts, folded and
// encoded headers), signs it (DKIMSigner, behind the Signer seam), keeps a
// bounded pool of open SMTP connections to a relay (Pool), pipelines one
// sender's messages on a connection, a round trip each (Lane), spreads messages
// over several weighted relays, each paced by its rate limits and slowed down
// when it throttles (Relays), and says what the relay's answer means for the
// message (Classify: sent, deferred, bounced, failed).
//
// It owns MIME assembly, DKIM signing and the SMTP conversation; go-mail
// dials, negotiates TLS and authenticates. It must not touch the database,
// the queue, templates or tracking: rendering, retries and suppression
// belong to its callers, which get a Result and decide. Relay rate limits are
// waited for through the RateWaiter seam (pkg/ratelimit), never in Redis
// directly.
package mailer
