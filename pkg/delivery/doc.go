// Package delivery sends campaigns: it snapshots the audience into the ledger
// (via pkg/store), enqueues batch tasks on asynq, and in the worker compiles a
// campaign's message once, merges it per recipient and hands it to a Sender,
// handing each outcome to the process's committer (commit.go), which writes
// the outcomes of all its senders together. The audience is copied into the
// ledger in pages while the first batches go out (copy.go). Rows are claimed
// under a lease (lease.go), and a periodic sweep (sweep.go) starts scheduled
// campaigns and enqueues again what the ledger says is left. It owns the task
// types and the retry policy; it must not speak SMTP itself (pkg/mailer does)
// nor build SQL (pkg/store does).
package delivery
