package main

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dearfriend/dearfriend/pkg/store"
)

// clockTick is the unit of the CPU times in /proc/<pid>/stat: USER_HZ,
// 100 on every Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// usage is what the processes of a run have consumed so far: CPU time as
// /proc counts it, and SQL statements and transactions as the store in this
// process counts them.
type usage struct {
	self, worker, pg, redis time.Duration
	stmts, txs              int64
}

// readUsage reads the CPU time of this process, of the worker process
// (workerPID, 0 for none), of every PostgreSQL process together and of
// redis-server. PostgreSQL's includes its exited backends, which the
// postmaster has reaped (cutime and cstime).
func readUsage(st *store.Store, workerPID int) usage {
	u := usage{stmts: st.Statements(), txs: st.Transactions()}
	u.self, _ = cpuTime(os.Getpid(), false)
	if workerPID != 0 {
		u.worker, _ = cpuTime(workerPID, false)
	}
	for _, pid := range pidsOf("postgres") {
		t, _ := cpuTime(pid, true)
		u.pg += t
	}
	for _, pid := range pidsOf("redis-server") {
		t, _ := cpuTime(pid, false)
		u.redis += t
	}
	return u
}

// cpuTime is utime+stime of pid, plus cutime+cstime (its waited-for
// children) when children is set.
func cpuTime(pid int, children bool) (time.Duration, error) {
	f, err := statFields(pid)
	if err != nil {
		return 0, err
	}
	// Fields after the command, counted from 0 at the state (field 3 of
	// proc(5)): utime is 11, stime 12, cutime 13, cstime 14.
	idx := []int{11, 12}
	if children {
		idx = append(idx, 13, 14)
	}
	var ticks int64
	for _, i := range idx {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += v
	}
	return time.Duration(ticks) * clockTick, nil
}

// statFields is /proc/<pid>/stat after the command name, which may hold
// spaces and parentheses.
func statFields(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 > len(b) {
		return nil, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 15 {
		return nil, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	return f, nil
}

// pidsOf lists the processes whose command name is comm.
func pidsOf(comm string) []int {
	paths, _ := filepath.Glob("/proc/[0-9]*/comm")
	var pids []int
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(b)) != comm {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// peakRSS is the largest resident set pid has had (VmHWM), in MiB.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// maxPeakRSS is the largest peakRSS among the processes named comm.
func maxPeakRSS(comm string) float64 {
	var m float64
	for _, pid := range pidsOf(comm) {
		m = max(m, peakRSS(pid))
	}
	return m
}

// runReport prints what a run cost, per message, from the usage before
// and after it. pg and redis say whether those servers took part.
func runReport(mode string, n int, before, after usage, workerPID int, pg, redis bool) {
	per := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000/float64(n)) }
	var cpu, rss []string
	self := "app (serve+worker"
	if sinkAddr == "" {
		self += "+capture server"
	}
	self += ")"
	if workerPID != 0 {
		self = "serve"
		cpu = append(cpu, "worker "+per(after.worker-before.worker))
		rss = append(rss, fmt.Sprintf("worker %.0f", peakRSS(workerPID)))
	}
	cpu = append([]string{self + " " + per(after.self-before.self)}, cpu...)
	rss = append([]string{fmt.Sprintf("%s %.0f", self, peakRSS(os.Getpid()))}, rss...)
	if pg {
		cpu = append(cpu, "postgres (all processes) "+per(after.pg-before.pg))
		rss = append(rss, fmt.Sprintf("postgres (largest process) %.0f", maxPeakRSS("postgres")))
	}
	if redis {
		cpu = append(cpu, "redis-server "+per(after.redis-before.redis))
		rss = append(rss, fmt.Sprintf("redis-server %.0f", maxPeakRSS("redis-server")))
	}
	fmt.Printf("%s:   CPU ms/message: %s\n", mode, strings.Join(cpu, ", "))
	sql := fmt.Sprintf("%.2f statements, %.2f transactions per message (store counter in this process",
		float64(after.stmts-before.stmts)/float64(n), float64(after.txs-before.txs)/float64(n))
	if workerPID != 0 {
		sql += "; the worker's own are not counted"
	}
	fmt.Printf("%s:   SQL: %s)\n", mode, sql)
	fmt.Printf("%s:   peak RSS MiB: %s\n", mode, strings.Join(rss, ", "))
}

// kindReport prints the statements run between two counts by kind, most
// first, at most twelve kinds.
func kindReport(mode string, before, after map[string]int64) {
	type kind struct {
		name string
		n    int64
	}
	var kinds []kind
	for k, n := range after {
		if d := n - before[k]; d > 0 {
			kinds = append(kinds, kind{k, d})
		}
	}
	slices.SortFunc(kinds, func(a, b kind) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.name, b.name)) })
	for _, k := range kinds[:min(len(kinds), 12)] {
		fmt.Printf("%s:   %7d  %s\n", mode, k.n, k.name)
	}
}
