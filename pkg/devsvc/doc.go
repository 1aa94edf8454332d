// Package devsvc runs, inside the process, the services that embedded mode
// needs: an in-memory Redis server and an SMTP server that captures every
// message it receives. `dearfriend dev` and the tests use them; production
// never does. For the benchmarks it also puts a server at a distance
// (LatencyProxy).
//
// It owns these servers and nothing else. It must not import other
// dearfriend packages or know about campaigns, contacts, the database or the
// queue's task types: it speaks Redis and SMTP on a local port, and the code
// that talks to it cannot tell it from the real thing.
package devsvc
