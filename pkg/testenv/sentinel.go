package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// SentinelMaster is the name the sentinels of a SentinelSet monitor.
const SentinelMaster = "dfmaster"

// SentinelSet is Redis with Sentinel on loopback, as Debian installs it: a
// master, one replica and three sentinels (quorum two), each a process of
// its own on a free port, nothing persisted to disk.
type SentinelSet struct {
	Sentinels []string // host:port of each sentinel
	dir       string
	servers   map[string]*exec.Cmd // redis-server processes by address
	sentinels []*exec.Cmd
}

// SentinelBinary is the path of redis-sentinel, or "" when it is not installed.
func SentinelBinary() string {
	p, err := exec.LookPath("redis-sentinel")
	if err != nil {
		return ""
	}
	return p
}

// Sentinel starts a SentinelSet for a test, or skips the test when Debian's
// redis-server and redis-sentinel are not installed.
func Sentinel(tb testing.TB) *SentinelSet {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil || SentinelBinary() == "" {
		tb.Skip("redis-server and redis-sentinel are not installed (apt-get install redis-server redis-sentinel): no Sentinel set-up to fail over")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := StartSentinelSet(ctx, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// StartSentinelSet starts the processes, their files under dir, and waits
// until the replica is in sync and every sentinel knows the replica and the
// other two sentinels: from then on, a master killed is replaced.
func StartSentinelSet(ctx context.Context, dir string) (_ *SentinelSet, err error) {
	s := &SentinelSet{dir: dir, servers: map[string]*exec.Cmd{}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	master, replica := freePort(), freePort()
	for i, addr := range []string{master, replica} {
		args := []string{"--bind", "127.0.0.1", "--port", portOf(addr), "--save", "", "--appendonly", "no",
			"--dir", dir, "--dbfilename", fmt.Sprintf("dump-%d.rdb", i)}
		if addr == replica {
			args = append(args, "--replicaof", "127.0.0.1", portOf(master))
		}
		cmd, err := s.run(fmt.Sprintf("redis-%s", portOf(addr)), "redis-server", args...)
		if err != nil {
			return nil, err
		}
		s.servers[addr] = cmd
	}
	for range 3 {
		addr := freePort()
		conf := filepath.Join(dir, "sentinel-"+portOf(addr)+".conf")
		// Quick to act: down after a second, a failover retried after five.
		text := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %[3]s 1000\nsentinel failover-timeout %[3]s 5000\nsentinel parallel-syncs %[3]s 1\n",
			portOf(addr), dir, SentinelMaster, portOf(master))
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return nil, err
		}
		cmd, err := s.run("sentinel-"+portOf(addr), SentinelBinary(), conf)
		if err != nil {
			return nil, err
		}
		s.sentinels = append(s.sentinels, cmd)
		s.Sentinels = append(s.Sentinels, addr)
	}
	err = poll(ctx, func() error {
		for _, addr := range s.Sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
			m, err := sc.Master(ctx, SentinelMaster).Result()
			sc.Close()
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", addr, err)
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" {
				return fmt.Errorf("sentinel %s knows %s replicas and %s other sentinels, not yet 1 and 2", addr, m["num-slaves"], m["num-other-sentinels"])
			}
		}
		rc := redis.NewClient(&redis.Options{Addr: replica})
		defer rc.Close()
		info, err := rc.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return fmt.Errorf("replica %s not in sync yet (%v)", replica, err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sentinel set-up in %s did not come up: %w", dir, err)
	}
	return s, nil
}

// URL is DEARFRIEND_REDIS_URL for the set, database db.
func (s *SentinelSet) URL(db int) string {
	return fmt.Sprintf("redis-sentinel://%s/%s/%d", strings.Join(s.Sentinels, ","), SentinelMaster, db)
}

// Master asks a sentinel which server is the master now.
func (s *SentinelSet) Master(ctx context.Context) (string, error) {
	var last error
	for _, addr := range s.Sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		hp, err := sc.GetMasterAddrByName(ctx, SentinelMaster).Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1]), nil
		}
		last = err
	}
	return "", fmt.Errorf("no sentinel names the master: %v", last)
}

// Replicated waits until every write the master took has reached the
// replica (WAIT), so that a failover then loses none of them.
func (s *SentinelSet) Replicated(ctx context.Context) error {
	master, err := s.Master(ctx)
	if err != nil {
		return err
	}
	c := redis.NewClient(&redis.Options{Addr: master})
	defer c.Close()
	n, err := c.Wait(ctx, 1, 5*time.Second).Result()
	if err == nil && n < 1 {
		err = errors.New("the replica did not acknowledge the writes within 5 s")
	}
	return err
}

// KillMaster kills the master with SIGKILL and returns its address.
func (s *SentinelSet) KillMaster(ctx context.Context) (string, error) {
	master, err := s.Master(ctx)
	if err != nil {
		return "", err
	}
	cmd := s.servers[master]
	if cmd == nil {
		return "", fmt.Errorf("the master %s is none of the set's servers", master)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return "", err
	}
	cmd.Wait()
	delete(s.servers, master)
	return master, nil
}

// WaitPromoted waits until the sentinels name a master other than old and
// it answers as a master.
func (s *SentinelSet) WaitPromoted(ctx context.Context, old string) (string, error) {
	var now string
	err := poll(ctx, func() error {
		m, err := s.Master(ctx)
		if err != nil {
			return err
		}
		if m == old {
			return fmt.Errorf("the sentinels still name %s", old)
		}
		c := redis.NewClient(&redis.Options{Addr: m})
		defer c.Close()
		info, err := c.Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "role:master") {
			return fmt.Errorf("%s is not a master yet (%v)", m, err)
		}
		now = m
		return nil
	})
	return now, err
}

// Close stops every process of the set.
func (s *SentinelSet) Close() {
	for _, cmd := range s.sentinels {
		stopProcess(cmd)
	}
	for _, cmd := range s.servers {
		stopProcess(cmd)
	}
	s.sentinels, s.servers = nil, map[string]*exec.Cmd{}
}

func (s *SentinelSet) run(name, bin string, args ...string) (*exec.Cmd, error) {
	log, err := os.Create(filepath.Join(s.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	return cmd, nil
}

func stopProcess(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

// poll calls try every 100 ms until it returns nil or ctx ends, and then
// returns try's last error.
func poll(ctx context.Context, try func() error) error {
	for {
		err := try()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func freePort() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func portOf(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return port
}
