package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// startWorker runs `dearfriend worker` from workerBin with env added to this
// process's environment. stop ends it (SIGTERM, then waits) and prints its
// peak resident memory, as the kernel counted it.
func startWorker(env map[string]string) (pid int, stop func(), err error) {
	cmd := exec.Command(workerBin, "worker")
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return 0, nil, fmt.Errorf("start worker %s: %w", workerBin, err)
	}
	return cmd.Process.Pid, func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			fmt.Printf("worker process: peak resident memory %.1f MiB\n", float64(ru.Maxrss)/1024)
		}
	}, nil
}
