// Command dearfriend is the one binary of dearfriend: dev (everything embedded
// in one process), serve (API, tracking, pages), worker (sending), inbound
// (the SMTP server of bounces and mailto unsubscribes), migrate,
// import, campaign (controls through the API), inline (the CSS inliner on
// stdin), bounce (the delivery-report reader on stdin) and version.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/dearfriend/dearfriend/pkg/app"
	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/inline"
	"github.com/dearfriend/dearfriend/pkg/store"
)

const usage = `usage: dearfriend <command>

commands:
  dev       everything in one process: SQLite, in-process Redis, SMTP capture, demo data
  serve     the HTTP server: API, tracking, public pages
  worker    the sending worker (asynq server)
  inbound   the SMTP server of the bounce domain: bounces, feedback loops, mailto unsubscribes
  migrate   apply database migrations and exit
  import    import a CSV file of contacts: dearfriend import FILE --list NAME
  campaign  send, pause, resume, cancel a campaign or show its progress, through the API:
            dearfriend campaign send ID [--wait]
  user      add a user of the admin UI: dearfriend user create --email E --role admin
            or give one a new password: dearfriend user password --email E
  inline    inline CSS: dearfriend inline [--css FILE] < in.html > out.html
  bounce    read a delivery report: dearfriend bounce classify < message.eml
  version   print the version

Configuration comes from DEARFRIEND_* environment variables; see README.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "inline":
		return inline.Command(rest, stdin, stdout, stderr)
	case "bounce":
		return bounce.Command(rest, stdin, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "dearfriend", version())
		return 0
	case "migrate":
		return migrate(stdout, stderr)
	case "import":
		return importFile(rest, stderr)
	case "campaign":
		return campaignCommand(rest, os.Getenv, stdout, stderr)
	case "user":
		return userCommand(rest, stdin, stdout, stderr)
	case "dev", "serve", "worker", "inbound":
		return serve(config.Mode(cmd), rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "dearfriend: unknown command %q\n\n%s", cmd, usage)
	return 2
}

func serve(mode config.Mode, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(string(mode), flag.ContinueOnError)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	cfg, err := config.FromEnv(mode, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend %s: configuration:\n%v\n", mode, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := app.New(ctx, cfg, app.WithLogger(log))
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend %s: %v\n", mode, err)
		return 1
	}
	defer a.Close()
	if mode == config.ModeDev {
		if err := printDev(ctx, stdout, a); err != nil {
			fmt.Fprintf(stderr, "dearfriend %s: %v\n", mode, err)
			return 1
		}
	}
	log.Info("dearfriend started", "config", cfg.String())
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "dearfriend %s: %v\n", mode, err)
		return 1
	}
	return 0
}

// printDev prints where everything is and what to do next. It says only
// what is true of this run: the admin password when it was made now (else
// how to set a new one), and the demo campaign's send while it is a draft.
func printDev(ctx context.Context, w io.Writer, a *app.App) error {
	u := a.URL()
	email, password, exists, err := a.DevAdmin(ctx)
	if err != nil {
		return err
	}
	demo, err := a.DemoCampaign(ctx)
	if err != nil {
		return err
	}
	signin := "sign in as " + email + ", password " + password + " (shown this once)"
	switch {
	case password == "" && exists:
		signin = "sign in as " + email + "; forgot the password? dearfriend user password --email " + email
	case password == "":
		signin = "sign in as a user of yours; add one: dearfriend user create --email E --role admin"
	}
	fmt.Fprintf(w, `
dearfriend is running (embedded mode)

  admin       %[1]s/admin/   %[5]s
  outbox      %[1]s/outbox/
  API         %[1]s/api/v1   (token: %[2]s)
  SMTP        %[3]s (captured, nothing leaves this machine)
  inbound     %[4]s (SMTP: bounces, feedback loops, mailto unsubscribes)

`, u, a.APIToken(), captureAddr(a), a.InboundAddr(), signin)
	switch {
	case demo == nil:
	case demo.Status == store.CampaignDraft:
		fmt.Fprintf(w, `Send the demo action alert to the %[4]d demo supporters (or from Campaigns in the admin):

  curl -X POST -H 'Authorization: Bearer %[2]s' %[1]s/api/v1/campaigns/%[3]d/send
  curl -H 'Authorization: Bearer %[2]s' %[1]s/api/v1/campaigns/%[3]d

`, u, a.APIToken(), demo.ID, app.DemoSize)
	default:
		fmt.Fprintf(w, "The demo action alert is %[2]s: follow it at %[1]s/admin/campaigns/%[3]d, its mail in the outbox.\n\n",
			u, demo.Status, demo.ID)
	}
	return nil
}

func captureAddr(a *app.App) string {
	if c := a.Capture(); c != nil {
		return c.Addr()
	}
	return "relay from DEARFRIEND_SMTP_URL"
}

// migrate applies the migrations and prints, one a line on stdout, the case
// twins they merged; once done, a second run prints no merge.
func migrate(stdout, stderr io.Writer) int {
	cfg, err := config.FromEnv(config.ModeServe, os.Getenv)
	if cfg.DatabaseURL == "" {
		fmt.Fprintf(stderr, "dearfriend migrate: %v\n", err)
		return 2
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithPool(cfg.DB))
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend migrate: %v\n", err)
		return 1
	}
	defer st.Close()
	merges, err := st.MigrateWithMerges(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend migrate: %v\n", err)
		return 1
	}
	for _, m := range merges {
		fmt.Fprintln(stdout, m)
	}
	fmt.Fprintln(stderr, "dearfriend migrate: schema up to date")
	return 0
}

func version() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
		if info.Main.Version != "" && info.Main.Version != "(devel)" {
			return info.Main.Version
		}
	}
	return "dev"
}
