// Command bounce-loop checks the whole way back with a real mail server:
// Debian's Postfix is the relay dearfriend sends a campaign through. Postfix
// delivers to the known users of its test domain, defers some (its retry
// transport: they stay in its queue) and bounces the unknown ones with
// 5.1.1, writing its own DSNs to the VERP envelope sender, which its
// transport map routes to dearfriend's inbound SMTP server.
//
// The check passes when the unknown addresses end up bounced and suppressed,
// the deferred and delivered ones do not, and a second campaign to the same
// list is sent to everyone but the bounced ones.
//
//	go run ./scripts/bounce-loop
//
// It needs Postfix (`apt-get install postfix`; .ci/run installs it) and root
// (a Postfix instance starts as root and drops to the postfix user). It runs
// `dearfriend dev` against a SQLite file, or against a PostgreSQL database of
// its own and Redis when DEARFRIEND_TEST_DATABASE_URL and
// DEARFRIEND_TEST_REDIS_URL are set. Everything lives in a temporary
// directory, removed at the end (-keep keeps it, with both logs).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dearfriend/dearfriend/scripts/internal/dfapi"
)

const (
	token        = "bounce-loop-token-0123456789"
	domain       = "people.test"
	bounceDomain = "bounces.test"
)

func main() {
	keep := flag.Bool("keep", false, "keep the temporary directory (Postfix's and dearfriend's logs)")
	timeout := flag.Duration("timeout", 3*time.Minute, "give up after this long")
	flag.Parse()
	if err := run(*keep, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "bounce-loop: FAIL:", err)
		os.Exit(1)
	}
}

// The audience: known users get the mail, deferred ones stay in Postfix's
// queue, unknown ones bounce.
var (
	known    = []string{"alice@" + domain, "bob@" + domain, "carol@" + domain, "dave@" + domain}
	deferred = []string{"slow1@" + domain, "slow2@" + domain}
	unknown  = []string{"nobody1@" + domain, "nobody2@" + domain, "nobody3@" + domain}
)

func run(keep bool, timeout time.Duration) error {
	for _, cmd := range []string{"postfix", "postqueue"} {
		if _, err := exec.LookPath(cmd); err != nil {
			return fmt.Errorf("%s not found: install Postfix (apt-get install postfix)", cmd)
		}
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("a private Postfix instance needs root")
	}
	dir, err := os.MkdirTemp("", "bounce-loop-")
	if err != nil {
		return err
	}
	os.Chmod(dir, 0o755) // Postfix's daemons, as the postfix user, walk into it
	if keep {
		fmt.Println("bounce-loop: keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	bin := filepath.Join(dir, "dearfriend")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/dearfriend").CombinedOutput(); err != nil {
		return fmt.Errorf("build dearfriend: %v: %s", err, out)
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	relayPort, inboundPort, httpPort := ports[0], ports[1], ports[2]
	pf, err := startPostfix(filepath.Join(dir, "postfix"), relayPort, domain, known, deferred, bounceDomain, inboundPort)
	if err != nil {
		return err
	}
	defer pf.stop()

	env, db, cleanup, err := database(dir)
	if err != nil {
		return err
	}
	defer cleanup()
	env = append(env,
		fmt.Sprintf("DEARFRIEND_HTTP_ADDR=127.0.0.1:%d", httpPort),
		fmt.Sprintf("DEARFRIEND_INBOUND_ADDR=127.0.0.1:%d", inboundPort),
		fmt.Sprintf("DEARFRIEND_SMTP_URL=smtp://127.0.0.1:%d?tls=none", relayPort),
		"DEARFRIEND_BOUNCE_DOMAIN="+bounceDomain,
		"DEARFRIEND_API_TOKEN="+token,
		"DEARFRIEND_SECRET="+strings.Repeat("b", 40),
		"DEARFRIEND_SEED=false",
		"DEARFRIEND_SWEEP_INTERVAL=1s",
	)
	logPath := filepath.Join(dir, "dearfriend.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	df := exec.Command(bin, "dev")
	df.Env = append(os.Environ(), env...)
	df.Stdout, df.Stderr = logFile, logFile
	if err := df.Start(); err != nil {
		return fmt.Errorf("start dearfriend dev: %w", err)
	}
	defer func() {
		df.Process.Signal(syscall.SIGTERM)
		df.Wait()
	}()
	api := &dfapi.Client{Base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), Token: token}
	if err := api.WaitUp(ctx); err != nil {
		return err
	}
	fail := func(err error) error {
		return fmt.Errorf("%w\n--- dearfriend's log (tail):\n%s\n--- Postfix's log (tail):\n%s", err, tail(logPath, 30), tailString(pf.log(), 30))
	}

	all := append(append(append([]string(nil), known...), deferred...), unknown...)
	list, err := api.ImportList(ctx, all)
	if err != nil {
		return fail(err)
	}
	start := time.Now()
	first, err := api.SendCampaign(ctx, list, "first")
	if err != nil {
		return fail(err)
	}
	fmt.Printf("bounce-loop: campaign %d sent through Postfix to %d recipients (%d known, %d deferred, %d unknown)\n",
		first, len(all), len(known), len(deferred), len(unknown))

	// Postfix bounces the unknown ones; its DSNs reach the inbound server.
	st, err := openStore(ctx, db)
	if err != nil {
		return fail(err)
	}
	defer st.close()
	for i := 0; ; i++ {
		if i%5 == 0 {
			pf.flush()
		}
		n, err := st.countStatus(context.WithoutCancel(ctx), unknown, "bounced")
		if err != nil {
			return fail(err)
		}
		if n == len(unknown) {
			break
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("%d of %d unknown addresses bounced in %v", n, len(unknown), time.Since(start).Round(time.Millisecond)))
		}
		time.Sleep(200 * time.Millisecond)
	}
	bounced := time.Since(start)
	var problems []string
	for _, group := range []struct {
		emails []string
		want   string
	}{{unknown, "bounced"}, {deferred, "subscribed"}, {known, "subscribed"}} {
		for _, e := range group.emails {
			status, suppressed, err := st.contact(ctx, e)
			if err != nil {
				return fail(err)
			}
			if status != group.want || suppressed != (group.want == "bounced") {
				problems = append(problems, fmt.Sprintf("%s is %s (suppressed %v), want %s", e, status, suppressed, group.want))
			}
		}
	}
	q, _ := pf.queued()
	for _, e := range deferred {
		if !strings.Contains(q, e) {
			problems = append(problems, e+" left Postfix's queue, want it deferred there")
		}
	}
	second, err := api.SendCampaign(ctx, list, "second")
	if err != nil {
		return fail(err)
	}
	stats, err := st.sends(ctx, second)
	if err != nil {
		return fail(err)
	}
	var total int64
	for _, n := range stats {
		total += n
	}
	if want := int64(len(all) - len(unknown)); stats["sent"] != want || total != want {
		problems = append(problems, fmt.Sprintf("second campaign's ledger %v, want %d sent and nothing else", stats, want))
	}
	if len(problems) > 0 {
		return fail(fmt.Errorf("%s", strings.Join(problems, "\n")))
	}
	fmt.Printf("bounce-loop: PASS: %d unknown addresses bounced and suppressed %v after the send; %d deferred ones still in Postfix's queue and subscribed; campaign %d sent to %d, skipping exactly the bounced\n",
		len(unknown), bounced.Round(time.Millisecond), len(deferred), second, stats["sent"])
	return nil
}

// freePorts returns n free loopback ports.
func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tailString(string(b), n)
}

func tailString(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
