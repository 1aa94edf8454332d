package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster starts a Redis Cluster of three masters on loopback, each a
// redis-server of its own, slots spread by redis-cli, and returns its
// DEARFRIEND_REDIS_URL; it skips the test when redis-server or redis-cli
// is not installed.
func Cluster(tb testing.TB) string {
	tb.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			tb.Skipf("%s is not installed (apt-get install redis-server): no Redis Cluster to test on", bin)
		}
	}
	dir := tb.TempDir()
	// A set without sentinels: it starts, logs and stops the nodes.
	s := &SentinelSet{dir: dir, servers: map[string]*exec.Cmd{}}
	tb.Cleanup(s.Close)
	var addrs []string
	for range 3 {
		addr := freePort()
		cmd, err := s.run("cluster-"+portOf(addr), "redis-server", "--bind", "127.0.0.1", "--port", portOf(addr),
			"--save", "", "--appendonly", "no", "--dir", dir, "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes-"+portOf(addr)+".conf", "--dbfilename", "dump-"+portOf(addr)+".rdb")
		if err != nil {
			tb.Fatal(err)
		}
		s.servers[addr] = cmd
		addrs = append(addrs, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := poll(ctx, func() error {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			err := c.Ping(ctx).Err()
			c.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatalf("cluster nodes did not answer: %v", err)
	}
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"--cluster", "create"}, append(addrs, "--cluster-replicas", "0", "--cluster-yes")...)...).CombinedOutput()
	if err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	err = poll(ctx, func() error {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(ctx).Result()
			c.Close()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return fmt.Errorf("node %s: cluster not ok yet (%v)", a, err)
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return "redis-cluster://" + strings.Join(addrs, ",")
}
