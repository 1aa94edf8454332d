package metrics

import (
	"net/http"
	"net/http/pprof"
)

// HandlePprof adds Go's profiler, net/http/pprof, to mux under
// /debug/pprof/: CPU and heap profiles, goroutine dumps, execution traces.
// It goes on the metrics listener only, and only when asked
// (DEARFRIEND_PPROF): a profile shows what the process is doing to whoever
// can reach the port, and a CPU profile or trace costs while it runs.
// Registered by hand, not by importing the package for its side effect on
// http.DefaultServeMux.
func HandlePprof(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // named profiles too: heap, goroutine, allocs...
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("POST /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}
