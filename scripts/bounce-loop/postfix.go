package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// postfix is a private Postfix instance: its own config directory, queue
// and log, listening on a loopback port, no DNS.
type postfix struct {
	dir string // config directory; the queue and data directories are under it
}

// startPostfix writes the instance's main.cf, master.cf and transport map
// and starts it. Mail to known is discarded (delivered), to deferred is
// deferred by the retry transport (stays in the queue), to any other address
// of domain bounced by the error transport with 5.1.1 (a DSN to the envelope
// sender); mail to bounceDomain goes to the inbound server at inbound.
func startPostfix(dir string, port int, domain string, known, deferred []string, bounceDomain string, inboundPort int) (*postfix, error) {
	p := &postfix{dir: dir}
	for _, d := range []string{"queue", "data"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return nil, err
		}
	}
	if err := exec.Command("chown", "postfix", filepath.Join(dir, "data")).Run(); err != nil {
		return nil, fmt.Errorf("chown the data directory to postfix: %w", err)
	}
	var transport strings.Builder
	for _, a := range known {
		fmt.Fprintf(&transport, "%s discard:\n", a)
	}
	for _, a := range deferred {
		fmt.Fprintf(&transport, "%s retry:4.2.2 mailbox full, try again later\n", a)
	}
	fmt.Fprintf(&transport, "%s error:5.1.1 unknown user\n", domain)
	fmt.Fprintf(&transport, "%s smtp:[127.0.0.1]:%d\n", bounceDomain, inboundPort)
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.%[2]s
mydomain = %[2]s
myorigin = $myhostname
mydestination = %[2]s
local_recipient_maps =
# Refusals happen at delivery, not at RCPT: Postfix then writes a DSN.
smtpd_reject_unlisted_recipient = no
mynetworks = 127.0.0.0/8
transport_maps = texthash:%[1]s/transport
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 5s
delay_warning_time = 0h
alias_maps =
alias_database =
smtpd_banner = $myhostname ESMTP
`, dir, domain)
	master, err := os.ReadFile("/etc/postfix/master.cf")
	if err != nil {
		return nil, fmt.Errorf("read the master.cf of the Postfix package: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), []byte(masterCF(string(master), port)), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "transport"), []byte(transport.String()), 0o644); err != nil {
		return nil, err
	}
	if out, err := exec.Command("postfix", "-c", dir, "start").CombinedOutput(); err != nil {
		// Postfix writes its fatal errors to a terminal or its log, not a pipe.
		return nil, fmt.Errorf("postfix -c %s start: %v: %s%s", dir, err, out, p.log())
	}
	return p, nil
}

var (
	smtpListener = regexp.MustCompile(`(?m)^smtp\s+inet\s.*$`)
	chrootColumn = regexp.MustCompile(`(?m)^(\S+\s+(?:unix|inet|fifo|pass|unix-dgram)\s+\S+\s+\S+\s+)y(\s)`)
)

// masterCF is Debian's master.cf listening on 127.0.0.1:port, with no
// service chrooted (the private queue has no chroot files).
func masterCF(master string, port int) string {
	master = smtpListener.ReplaceAllString(master, fmt.Sprintf("127.0.0.1:%d inet n - n - - smtpd", port))
	return chrootColumn.ReplaceAllString(master, "${1}n$2")
}

// flush asks the queue manager to try the deferred mail now.
func (p *postfix) flush() { exec.Command("postqueue", "-c", p.dir, "-f").Run() }

// queued returns the recipients still in the queue.
func (p *postfix) queued() (string, error) {
	out, err := exec.Command("postqueue", "-c", p.dir, "-p").CombinedOutput()
	return string(out), err
}

func (p *postfix) stop() {
	exec.Command("postfix", "-c", p.dir, "stop").Run()
}

// log is the instance's mail log.
func (p *postfix) log() string {
	b, _ := os.ReadFile(filepath.Join(p.dir, "maillog"))
	return string(b)
}
