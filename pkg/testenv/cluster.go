package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster starts a Redis Cluster of three masters on loopback, each a
// redis-server of its own, slots spread by redis-cli, and returns its
// DEARFRIEND_REDIS_URL and the nodes' addresses; it skips the test when
// redis-server or redis-cli is not installed.
func Cluster(tb testing.TB) (url string, nodes []string) {
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
	return "redis-cluster://" + strings.Join(addrs, ","), addrs
}

// MoveSlot moves the slot of key, and the keys in it, to another master of
// the cluster of nodes, the way redis-cli --cluster reshard moves each
// slot: IMPORTING, MIGRATING, MIGRATE, then the new owner told to all.
func MoveSlot(ctx context.Context, nodes []string, key string) error {
	first := redis.NewClient(&redis.Options{Addr: nodes[0]})
	defer first.Close()
	slot, err := first.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return err
	}
	ids := map[string]string{} // address -> node id
	text, err := first.ClusterNodes(ctx).Result()
	if err != nil {
		return err
	}
	var src string // the master whose slot ranges (fields 9 on: 0-5460, 5461) hold slot
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || !strings.Contains(f[2], "master") {
			continue
		}
		addr, _, _ := strings.Cut(f[1], "@")
		ids[addr] = f[0]
		for _, r := range f[min(8, len(f)):] {
			lo, hi, ok := strings.Cut(r, "-")
			if !ok {
				hi = lo
			}
			a, errA := strconv.ParseInt(lo, 10, 64)
			b, errB := strconv.ParseInt(hi, 10, 64)
			if errA == nil && errB == nil && a <= slot && slot <= b {
				src = addr
			}
		}
	}
	var dst string
	for addr := range ids {
		if addr != src {
			dst = addr
			break
		}
	}
	if src == "" || dst == "" {
		return fmt.Errorf("slot %d of %q: owner %q, no other master among %v", slot, key, src, ids)
	}
	from, to := redis.NewClient(&redis.Options{Addr: src}), redis.NewClient(&redis.Options{Addr: dst})
	defer from.Close()
	defer to.Close()
	host, port, _ := strings.Cut(dst, ":")
	steps := []*redis.Cmd{
		to.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids[src]),
		from.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids[dst]),
	}
	for _, c := range steps {
		if c.Err() != nil {
			return fmt.Errorf("move slot %d: %w", slot, c.Err())
		}
	}
	for {
		keys, err := from.ClusterGetKeysInSlot(ctx, int(slot), 100).Result()
		if err != nil {
			return err
		}
		if len(keys) == 0 {
			break
		}
		args := []any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}
		for _, k := range keys {
			args = append(args, k)
		}
		if err := from.Do(ctx, args...).Err(); err != nil {
			return fmt.Errorf("migrate slot %d: %w", slot, err)
		}
	}
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n})
		err := c.Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", ids[dst]).Err()
		c.Close()
		if err != nil {
			return fmt.Errorf("give slot %d to %s: %w", slot, dst, err)
		}
	}
	if n, err := from.ClusterCountKeysInSlot(ctx, int(slot)).Result(); err != nil || n != 0 {
		return fmt.Errorf("slot %d still has %d keys on %s after the move (%v)", slot, n, src, err)
	}
	return nil
}
