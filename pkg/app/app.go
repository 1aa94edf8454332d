// Package app is the one wiring point of dearfriend: New builds every part from
// a config (database, queue, SMTP, HTTP), Run runs the parts the mode asks for,
// Close releases them. Tests boot the whole App on port 0 and talk HTTP to it.
// Nothing else constructs dependencies; this package holds no logic of its own
// beyond wiring and demo seeding.
package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/dearfriend/dearfriend/pkg/action"
	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/api"
	"github.com/dearfriend/dearfriend/pkg/audience"
	"github.com/dearfriend/dearfriend/pkg/bounce"
	"github.com/dearfriend/dearfriend/pkg/brand"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/delivery"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/esp"
	"github.com/dearfriend/dearfriend/pkg/feedback"
	"github.com/dearfriend/dearfriend/pkg/inbound"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/metrics"
	"github.com/dearfriend/dearfriend/pkg/ratelimit"
	"github.com/dearfriend/dearfriend/pkg/redisconn"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/pkg/web"
	"github.com/dearfriend/dearfriend/pkg/webhook"
	"github.com/dearfriend/dearfriend/templates"
)

// App is a running dearfriend process.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	redis    *devsvc.Redis   // embedded mode only
	capture  *devsvc.Capture // embedded mode only
	client   *asynq.Client
	rdb      redis.UniversalClient // rate limits, webhook tokens, readiness checks
	server   *asynq.Server
	queueOpt asynq.RedisConnOpt // the queue's Redis, which the admin queue monitor reads
	worker   *delivery.Worker
	dispatch *delivery.Dispatcher
	recorder *track.Recorder   // tracking events buffered for the database; HTTP modes only
	webhooks *webhook.Notifier // queues outgoing webhooks
	// bounces takes what the mail system reports back (inbound SMTP,
	// sending-service webhooks, the API): one matcher and policy behind all.
	bounces bounce.Sink
	// confirm queues petition signature confirmations (HTTP) and sends them (workers).
	confirm  *delivery.Confirmations
	listener net.Listener
	http     *http.Server
	apiToken string
	closers  []func()

	relays  *mailer.Relays     // worker and dev modes
	limiter *ratelimit.Limiter // relay and campaign rates, shared by all workers through Redis
	metrics *metrics.Metrics
	// metricsListener serves /metrics (DEARFRIEND_METRICS_ADDR), and
	// /debug/pprof/ with DEARFRIEND_PPROF.
	metricsListener net.Listener
	metricsHTTP     *http.Server
	// inbound is the SMTP server of the bounce domain (dev and inbound modes).
	inbound         *inbound.Server
	inboundListener net.Listener
	// devPassword is the password of the admin dev mode created in this
	// run; "" when the database had users already.
	devPassword string
}

// Option adjusts New.
type Option func(*options)

type options struct {
	log      *slog.Logger
	lease    time.Duration
	storeOps []store.OpenOption
	scanner  time.Duration
	ses      esp.SESOptions
	hookTap  func([]bounce.Event)
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithLease sets how long a worker's claim on ledger rows lasts
// (delivery.DefaultLease without it): fault tests shorten it, and the
// relay's delays with it, to run in seconds.
func WithLease(d time.Duration) Option { return func(o *options) { o.lease = d } }

// WithScannerWindow sets how soon after delivery a click counts as a link
// scanner's (track.RecorderOptions.ScannerWindow, 10 s without it): tests
// that click as a person shorten it rather than wait it out.
func WithScannerWindow(d time.Duration) Option { return func(o *options) { o.scanner = d } }

// WithSNS fetches SNS signing certificates with fetch and visits
// SubscribeURLs with confirm: tests, since AWS cannot be reached from them.
func WithSNS(fetch esp.CertFetcher, confirm func(ctx context.Context, subscribeURL string) error) Option {
	return func(o *options) { o.ses.Fetch, o.ses.Confirm = fetch, confirm }
}

// WithHookTap shows tap what each sending-service webhook hands the sink,
// before the sink takes it (tests).
func WithHookTap(tap func([]bounce.Event)) Option { return func(o *options) { o.hookTap = tap } }

// WithStoreOptions opens the database with opts (fault injection in tests).
func WithStoreOptions(opts ...store.OpenOption) Option {
	return func(o *options) { o.storeOps = append(o.storeOps, opts...) }
}

// New builds the App of cfg. On error, whatever was started is closed again.
func New(ctx context.Context, cfg config.Config, opts ...Option) (_ *App, err error) {
	o := options{log: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &App{cfg: cfg, log: o.log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	if a.store, err = store.Open(ctx, cfg.DatabaseURL, append([]store.OpenOption{store.WithPool(cfg.DB)}, o.storeOps...)...); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { a.store.Close() })
	a.store.UseSegmentCompiler(audience.Compile) // campaigns to segments compile their rules at send time
	merges, err := a.store.MigrateWithMerges(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range merges { // what `dearfriend migrate` prints, addresses left out of the log
		a.log.Warn("migration merged case twins", "table", m.Table, "survivor", m.Survivor, "merged", m.Merged)
	}
	// An import left running by a process that is gone is marked failed.
	if n, ferr := a.store.FailStaleImports(ctx, time.Now()); ferr != nil {
		return nil, ferr
	} else if n > 0 {
		a.log.Warn("imports interrupted by a stopped process marked failed", "imports", n)
	}
	secret := cfg.Secret
	if secret == "" {
		if secret, err = a.store.Setting(ctx, "tracking_secret", randomToken); err != nil {
			return nil, err
		}
	}
	// Every Message-ID carries the deployment's id: database ids alone
	// repeat from one deployment to the next.
	deployment, err := a.store.Setting(ctx, delivery.SettingDeploymentID, delivery.NewDeploymentID)
	if err != nil {
		return nil, err
	}
	if a.apiToken = cfg.APIToken; a.apiToken == "" {
		if a.apiToken, err = a.store.Setting(ctx, store.SettingAPIToken, randomToken); err != nil {
			return nil, err
		}
	}

	if cfg.Mode.ServesHTTP() {
		if a.listener, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return nil, fmt.Errorf("listen on DEARFRIEND_HTTP_ADDR %s: %w", cfg.HTTPAddr, err)
		}
		a.closers = append(a.closers, func() { a.listener.Close() })
	}
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + cfg.HTTPAddr
		if a.listener != nil {
			publicURL = "http://" + a.listener.Addr().String()
		}
	}

	a.metrics = metrics.New()
	if err = a.openQueue(cfg); err != nil {
		return nil, err
	}
	a.limiter = ratelimit.NewLimiter(ratelimit.NewRedis(a.rdb, cfg.Queue+":"), a.metrics.RateWait)
	if cfg.MetricsAddr != "" {
		if a.metricsListener, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return nil, fmt.Errorf("listen on DEARFRIEND_METRICS_ADDR %s: %w", cfg.MetricsAddr, err)
		}
		a.closers = append(a.closers, func() { a.metricsListener.Close() })
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metricsHandler(cfg))
		// A worker's only HTTP: its probes too.
		mux.HandleFunc("GET /healthz", healthy)
		mux.HandleFunc("GET /readyz", a.ready)
		if cfg.Pprof {
			metrics.HandlePprof(mux)
		}
		a.metricsHTTP = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	}
	org := render.Org{Name: cfg.OrgName, PostalAddress: cfg.PostalAddress}
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		return nil, err
	}
	// With DKIM on, a message from a domain the signature does not align
	// with is refused when saved and when its campaign starts.
	var compilerOpts []render.CompilerOption
	if cfg.DKIMDomain != "" {
		compilerOpts = append(compilerOpts, render.WithSigningDomain(cfg.DKIMDomain))
	}
	// The branding an admin saves stands in for the environment's, read at
	// each compile and page (kept a few seconds per process).
	brandSrc := brand.NewSource(a.store, brand.Brand{OrgName: cfg.OrgName, PostalAddress: cfg.PostalAddress,
		FromName: cfg.FromName, FromEmail: cfg.FromEmail}, brand.DefaultTTL)
	compilerOpts = append(compilerOpts, render.WithOrgSource(func() (render.Org, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := brandSrc.Current(ctx)
		return b.EmailOrg(publicURL), err
	}))
	compiler := render.NewCompiler(layouts, org, compilerOpts...)
	signer := track.NewSigner(secret, cfg.PreviousSecret)
	links := track.NewLinks(publicURL, signer)
	messages := delivery.NewMessages(a.store, compiler, links)
	a.dispatch = delivery.NewDispatcher(a.store, a.client, cfg.Queue, cfg.BatchSize, a.log, delivery.WithDepth(2*cfg.Concurrency),
		delivery.WithStartCheck(messages.Check))
	a.webhooks = webhook.NewNotifier(a.store, a.client, cfg.Queue)
	guard := feedback.NewGuard(a.store, cfg.Feedback, a.webhooks, a.metrics, a.log)
	sink := feedback.New(feedback.Deps{Store: a.store, Tokens: signer, Deployment: deployment, Policy: cfg.Feedback,
		Notifier: a.webhooks, Counter: a.metrics, Guard: guard, Log: a.log})
	a.bounces = sink
	if cfg.Mode.Receives() {
		if err = a.openInbound(cfg, signer); err != nil {
			return nil, err
		}
	}

	if cfg.Mode == config.ModeDev {
		// A fresh checkout can sign in to /admin at once; production uses
		// "dearfriend user create".
		if password, err := admin.EnsureFirstAdmin(ctx, a.store, devAdminEmail); err != nil {
			return nil, fmt.Errorf("create the first admin user: %w", err)
		} else if password != "" {
			a.log.Info("admin user created: sign in at /admin", "email", devAdminEmail, "password", password)
			a.devPassword = password
		}
	}
	if cfg.Seed {
		if err = seed(ctx, a.store, cfg); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}
	// Campaign messages, previews and test sends carry the same headers.
	headerOpts := []delivery.WorkerOption{delivery.WithBounceDomain(cfg.BounceDomain), delivery.WithOrgShortName(cfg.OrgShortName),
		delivery.WithDeploymentID(deployment)}
	if cfg.Mode.Sends() {
		if err = a.openSMTP(cfg); err != nil {
			return nil, err
		}
		a.worker = delivery.NewWorker(a.store, messages, a.relays, links, cfg.UnsubscribeMailto, cfg.MaxAttempts, a.log,
			append(headerOpts, delivery.WithBounceNotifier(a.webhooks), delivery.WithChain(a.dispatch),
				delivery.WithRateLimiter(a.limiter), delivery.WithMaxRetryAge(cfg.MaxRetryAge), delivery.WithLease(o.lease),
				delivery.WithCommitLinger(cfg.CommitLinger), delivery.WithOutcomeCheck(guard, 0))...)
		// Closed before the store: an outcome write still being retried gives up.
		a.closers = append(a.closers, a.worker.Close)
	}
	a.confirm = delivery.NewConfirmations(a.client, cfg.Queue, a.worker, cfg.FromName, cfg.FromEmail, a.log)
	a.confirm.SenderFrom(func(ctx context.Context) (string, string, error) {
		b, err := brandSrc.Current(ctx)
		return b.FromName, b.FromEmail, err
	})
	if a.listener != nil {
		mux := http.NewServeMux()
		previews := delivery.NewPreviews(a.store, compiler, links, cfg.UnsubscribeMailto, a.client, cfg.Queue, a.log, headerOpts...)
		apiHandlers := api.New(a.store, compiler, a.dispatch, a.apiToken, a.log).WithPreviews(previews).WithReports(sink)
		if cfg.APIToken == "" {
			// The generated token is read at each request: an admin may rotate it.
			apiHandlers.WithTokenSource(func(ctx context.Context) (string, error) { return a.store.SettingValue(ctx, store.SettingAPIToken) })
		}
		apiHandlers.Routes(mux)
		// Imports still running are stopped, marked failed, before the store closes.
		a.closers = append(a.closers, apiHandlers.Close)
		pages, err := fs.Sub(templates.FS, "pages")
		if err != nil {
			return nil, err
		}
		a.recorder = track.NewRecorder(a.store, track.RecorderOptions{ScannerWindow: o.scanner}, a.log)
		a.closers = append(a.closers, func() { a.closeRecorder() })
		th, err := track.New(track.Deps{Store: a.store, Recorder: a.recorder, Signer: signer, Links: links, Viewer: messages,
			Notifier: a.webhooks, Org: track.Org{Name: cfg.OrgName, PostalAddress: cfg.PostalAddress}, Pages: pages, Log: a.log,
			Brand: brandSrc})
		if err != nil {
			return nil, err
		}
		th.Routes(mux)
		ah, err := action.New(action.Deps{Store: a.store, Signer: signer, PublicURL: publicURL,
			Org: action.Org{Name: cfg.OrgName, PostalAddress: cfg.PostalAddress}, Pages: pages, Log: a.log,
			Confirm: a.confirm, Notifier: a.webhooks, SignRate: cfg.SignRate, TrustProxy: cfg.TrustProxy,
			Brand: brandSrc, Clicks: a.recorder, Limits: ratelimit.NewRedis(a.rdb, cfg.Queue+":")})
		if err != nil {
			return nil, err
		}
		ah.Routes(mux)
		library := brand.NewLibrary(a.store, brandSrc, publicURL, a.log)
		library.Routes(mux)
		adminPages, err := fs.Sub(templates.FS, "admin")
		if err != nil {
			return nil, err
		}
		outboxURL := ""
		if a.capture != nil {
			outboxURL = "/outbox/"
		}
		adminUI, err := admin.New(admin.Deps{Store: a.store, Templates: adminPages, PublicURL: publicURL, OutboxURL: outboxURL, TrustProxy: cfg.TrustProxy, Log: a.log,
			Imports: apiHandlers, Compiler: compiler, Previews: previews, Dispatcher: a.dispatch, ConfirmAbove: int64(cfg.ConfirmAbove),
			TimeZone: cfg.TimeZone,
			Settings: adminSettings(cfg), QueueRedis: a.queueOpt,
			Brand: brandSrc, Library: library})
		if err != nil {
			return nil, err
		}
		adminUI.Routes(mux)
		a.closers = append(a.closers, func() { adminUI.Close() })
		if err := a.routeHooks(mux, cfg, o.ses, o.hookTap); err != nil {
			return nil, err
		}
		mux.HandleFunc("GET /healthz", healthy)
		mux.HandleFunc("GET /readyz", a.ready)
		if cfg.MetricsAddr == "" { // with it, /metrics is served there alone
			mux.Handle("GET /metrics", a.metricsHandler(cfg))
			if cfg.MetricsToken == "" && cfg.Mode == config.ModeServe {
				a.log.Warn("/metrics is open to whoever reaches DEARFRIEND_HTTP_ADDR: set DEARFRIEND_METRICS_TOKEN or DEARFRIEND_METRICS_ADDR")
			}
		}
		if a.capture != nil {
			mux.Handle("/outbox/", web.NewOutbox(a.store, "/outbox", web.OutboxOptions{Suggest: a.suggestDemo, AdminURL: "/admin/", Log: a.log}))
			mux.Handle("GET /{$}", http.RedirectHandler("/admin/", http.StatusFound))
		}
		a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	}
	return a, nil
}

// metricsHandler serves /metrics, behind DEARFRIEND_METRICS_TOKEN when it is set.
func (a *App) metricsHandler(cfg config.Config) http.Handler {
	if cfg.MetricsToken == "" {
		return a.metrics.Handler()
	}
	return metrics.RequireToken(cfg.MetricsToken, a.metrics.Handler())
}

// openInbound listens on DEARFRIEND_INBOUND_ADDR for the mail system's
// reports, which go to the bounces sink, and for mail to the List-Unsubscribe
// mailto, which unsubscribes as the one-click POST does.
func (a *App) openInbound(cfg config.Config, signer *track.Signer) error {
	srv, err := inbound.New(inbound.Config{Domain: cfg.BounceDomain, FeedbackAddress: cfg.FBLAddress,
		UnsubscribeAddress: cfg.UnsubscribeMailto, MaxConns: cfg.InboundConns},
		inbound.Deps{Sink: a.bounces, Unsubscriber: track.NewUnsubscriber(a.store, signer, a.webhooks, a.log), Signer: signer, Log: a.log})
	if err != nil {
		return err
	}
	if a.inboundListener, err = net.Listen("tcp", cfg.InboundAddr); err != nil {
		return fmt.Errorf("listen on DEARFRIEND_INBOUND_ADDR %s: %w", cfg.InboundAddr, err)
	}
	a.inbound = srv
	a.closers = append(a.closers, func() { srv.Close(); a.inboundListener.Close() })
	return nil
}

// routeHooks adds the webhooks of the sending services configured; each
// hands its events to a.bounces, read at each request.
func (a *App) routeHooks(mux *http.ServeMux, cfg config.Config, ses esp.SESOptions, tap func([]bounce.Event)) error {
	hc := esp.Config{SESTopicARNs: cfg.SESTopicARNs, PostmarkUser: cfg.PostmarkUser, PostmarkPassword: cfg.PostmarkPassword,
		MailgunKey: cfg.MailgunKey, MaxAge: cfg.HookMaxAge, Log: a.log, SES: ses,
		Seen: esp.NewRedisSeen(a.rdb, cfg.Queue+":hooks:mailgun:")}
	if cfg.SendGridKey != "" {
		key, err := esp.ParseSendGridKey(cfg.SendGridKey)
		if err != nil {
			return fmt.Errorf("DEARFRIEND_SENDGRID_WEBHOOK_KEY: %w", err)
		}
		hc.SendGridKey = key
	}
	sink := esp.SinkFunc(func(ctx context.Context, evs []bounce.Event) error {
		if tap != nil {
			tap(evs)
		}
		return a.bounces.Take(ctx, evs)
	})
	if on := esp.Routes(mux, sink, hc); len(on) > 0 {
		a.log.Info("sending-service webhooks on", "hooks", on)
	}
	return nil
}

// openQueue connects asynq to DEARFRIEND_REDIS_URL, or to an in-process Redis in dev mode.
func (a *App) openQueue(cfg config.Config) error {
	redisURL := cfg.RedisURL
	if redisURL == "" {
		r, err := devsvc.StartRedis("")
		if err != nil {
			return fmt.Errorf("start in-process Redis: %w", err)
		}
		a.redis = r
		a.closers = append(a.closers, r.Close)
		redisURL = "redis://" + r.Addr()
	}
	// One server, a Sentinel set-up or a Cluster: asynq and go-redis each
	// follow a failover or a moved slot with their own options of the kind.
	opt, rdb, err := redisconn.Open(redisURL)
	if err != nil {
		return fmt.Errorf("DEARFRIEND_REDIS_URL %w", err)
	}
	a.queueOpt = opt
	a.client = asynq.NewClient(opt)
	a.closers = append(a.closers, func() { a.client.Close() })
	a.rdb = rdb
	a.closers = append(a.closers, func() { a.rdb.Close() })
	inspector := asynq.NewInspector(opt)
	a.closers = append(a.closers, func() { inspector.Close() })
	a.metrics.WatchQueue(inspector, cfg.Queue)
	if cfg.Mode.Sends() {
		a.server = asynq.NewServer(opt, asynq.Config{
			Concurrency:    cfg.Concurrency,
			Queues:         map[string]int{cfg.Queue: 1},
			RetryDelayFunc: delivery.RetryDelay,
			// A resumed or new campaign is picked up within 50 ms, not a second.
			TaskCheckInterval: 50 * time.Millisecond,
			// A scheduled task (an A/B winner) or a retried batch is taken
			// within a second of its time, not five.
			DelayedTaskCheckInterval: time.Second,
			ShutdownTimeout:          asynqShutdown(cfg.ShutdownTimeout),
			LogLevel:                 asynq.WarnLevel,
			Logger:                   asynqLogger{a.log},
		})
	}
	return nil
}

// asynqShutdown is how long asynq waits for the batches of a stopping
// worker: four fifths of DEARFRIEND_SHUTDOWN_TIMEOUT (they stop at once, see
// Worker.Drain; only a slow relay holds them), leaving the rest for one it
// gave up on to commit its outcomes (Run).
func asynqShutdown(total time.Duration) time.Duration { return total * 4 / 5 }

// openSMTP opens the relays of DEARFRIEND_SMTP_URL (one or several, each with
// its pool), or the built-in capture server in dev mode.
func (a *App) openSMTP(cfg config.Config) error {
	smtpURL := cfg.SMTPURL
	if smtpURL == "" {
		// Every message is kept in the database, for the outbox page.
		c, err := devsvc.StartCapture(cfg.DevSMTPAddr, devsvc.CaptureOptions{Keep: web.KeepOutbox(a.store), Logger: a.log})
		if err != nil {
			return fmt.Errorf("start SMTP capture on DEARFRIEND_DEV_SMTP_ADDR %s: %w", cfg.DevSMTPAddr, err)
		}
		a.capture = c
		a.closers = append(a.closers, func() { c.Close() })
		smtpURL = "smtp://" + c.Addr() + "?tls=none"
	}
	relays, err := mailer.ParseRelays(smtpURL, cfg.SMTPConns)
	if err != nil {
		return fmt.Errorf("DEARFRIEND_SMTP_URL: %w", err)
	}
	var poolOpts []mailer.Option
	if cfg.DKIMKeyFile != "" {
		signer, err := dkimSigner(cfg)
		if err != nil {
			return err
		}
		name, record := signer.DNSRecord()
		a.log.Info("signing with DKIM", "domain", cfg.DKIMDomain, "selector", cfg.DKIMSelector, "txt_name", name, "txt_value", record)
		poolOpts = append(poolOpts, mailer.WithSigner(signer))
	}
	ro := mailer.RelaysOptions{Limiter: a.limiter, Observer: a.metrics}
	if a.relays, err = mailer.NewRelays(relays, a.log, ro, poolOpts...); err != nil {
		return fmt.Errorf("DEARFRIEND_SMTP_URL: %w", err)
	}
	a.closers = append(a.closers, func() { a.relays.Close() })
	return nil
}

// dkimSigner reads DEARFRIEND_DKIM_KEY_FILE; an unreadable or unusable key
// stops the worker at start, not at its first message.
func dkimSigner(cfg config.Config) (*mailer.DKIMSigner, error) {
	keyPEM, err := os.ReadFile(cfg.DKIMKeyFile)
	if err != nil {
		return nil, fmt.Errorf("DEARFRIEND_DKIM_KEY_FILE: %w", err)
	}
	signer, err := mailer.NewDKIMSigner(cfg.DKIMDomain, cfg.DKIMSelector, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("DEARFRIEND_DKIM_KEY_FILE %s: %w", cfg.DKIMKeyFile, err)
	}
	return signer, nil
}

// Run runs the parts of the mode until ctx is done, then shuts them down in order.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 4)
	if a.server != nil {
		mux := asynq.NewServeMux()
		mux.Handle(delivery.TypeSendBatch, a.worker)
		mux.HandleFunc(delivery.TypeDecideWinner, a.dispatch.ProcessDecideWinner)
		mux.HandleFunc(delivery.TypeCopyAudience, a.dispatch.ProcessCopyAudience)
		mux.HandleFunc(delivery.TypeTestSend, a.worker.ProcessTestSend)
		mux.Handle(delivery.TypeConfirmSignature, a.confirm)
		mux.Handle(webhook.TypeDeliver, webhook.NewDeliverer(a.store, nil, a.log))
		if err := a.server.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		// Campaigns left sending continue from the ledger (the sweep does
		// it, and more, in the modes that serve HTTP).
		if a.http == nil {
			if err := a.dispatch.Resume(ctx); err != nil {
				a.log.Error("resume campaigns", "err", err)
			}
		}
	}
	sweepCtx, stopSweeps := context.WithCancel(ctx)
	swept := make(chan struct{})
	if a.http != nil {
		go func() {
			if err := a.http.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
		// Due scheduled campaigns start, and what the ledger says is left
		// is enqueued again, even after Redis lost its data.
		go func() { defer close(swept); a.dispatch.RunSweeps(sweepCtx, a.cfg.SweepInterval) }()
	} else {
		close(swept)
	}
	if a.inbound != nil {
		go func() {
			if err := a.inbound.Serve(a.inboundListener); err != nil {
				errc <- err
			}
		}()
	}
	if a.metricsHTTP != nil {
		go func() {
			if err := a.metricsHTTP.Serve(a.metricsListener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	if a.worker != nil {
		// Batches stop taking recipients now, not when the HTTP side is done.
		a.worker.Drain()
	}
	stopSweeps()
	<-swept
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if a.http != nil {
		a.http.Shutdown(shutdownCtx)
	}
	if a.inbound != nil {
		// Messages under way are answered; idle sessions are closed.
		if err := a.inbound.Shutdown(shutdownCtx); err != nil {
			a.log.Warn("inbound SMTP shutdown", "err", err)
		}
	}
	if a.recorder != nil {
		// Every open and click answered is written before the process ends.
		if err := a.recorder.Close(shutdownCtx); err != nil {
			a.log.Error("flush tracking events", "err", err)
		}
	}
	if a.server != nil {
		a.server.Shutdown()
		// A batch asynq stopped waiting for (its ShutdownTimeout) writes
		// its outcomes and gives its rows back before the store closes.
		if err := a.worker.Wait(shutdownCtx); err != nil {
			a.log.Warn("batches still running at DEARFRIEND_SHUTDOWN_TIMEOUT: their rows come back when their leases end", "err", err)
		}
	}
	if a.metricsHTTP != nil {
		a.metricsHTTP.Shutdown(shutdownCtx)
	}
	return err
}

// healthy answers while the process runs (liveness).
func healthy(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok\n")) }

// ready answers 200 when the database and Redis both answer within two
// seconds, for a load balancer or Kubernetes readiness probe; 503 otherwise.
func (a *App) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for name, err := range map[string]error{"database": a.store.Ping(ctx), "redis": a.rdb.Ping(ctx).Err()} {
		if err != nil {
			a.log.Warn("not ready", "dependency", name, "err", err)
			http.Error(w, name+" unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ready\n"))
}

// Close releases everything New opened, in reverse order.
func (a *App) Close() error {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
	return nil
}

// closeRecorder flushes buffered tracking events when Run did not (New failed, or Run never ran).
func (a *App) closeRecorder() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := a.recorder.Close(ctx); err != nil {
		a.log.Error("flush tracking events", "err", err)
	}
}

// TrackingStats counts the tracking events taken, written and dropped so far.
func (a *App) TrackingStats() track.RecorderStats {
	if a.recorder == nil {
		return track.RecorderStats{}
	}
	return a.recorder.Stats()
}

// URL is the base URL of the HTTP server ("" in worker mode).
func (a *App) URL() string {
	if a.listener == nil {
		return ""
	}
	return "http://" + a.listener.Addr().String()
}

// MetricsURL is the base URL of the DEARFRIEND_METRICS_ADDR listener ("" without one).
func (a *App) MetricsURL() string {
	if a.metricsListener == nil {
		return ""
	}
	return "http://" + a.metricsListener.Addr().String()
}

// InboundAddr is the address of the inbound SMTP server ("" when the mode
// runs none).
func (a *App) InboundAddr() string {
	if a.inboundListener == nil {
		return ""
	}
	return a.inboundListener.Addr().String()
}

// Relays is the set of SMTP relays a worker sends through (nil in serve mode).
func (a *App) Relays() *mailer.Relays { return a.relays }

// APIToken is the bearer token of the API.
func (a *App) APIToken() string { return a.apiToken }

// Capture is the built-in SMTP capture server, or nil when a relay is configured.
func (a *App) Capture() *devsvc.Capture { return a.capture }

// Store is the database, for tests and commands that inspect it.
func (a *App) Store() *store.Store { return a.store }

// devAdminEmail is the first admin user dev mode creates on an empty database.
const devAdminEmail = "admin@example.org"

// DevAdmin is the admin user dev mode creates on an empty database, with
// the password made for it in this run: "" on a later run, or when the
// database had users already (exists says whether the user is there).
func (a *App) DevAdmin(ctx context.Context) (email, password string, exists bool, err error) {
	if _, err := a.store.UserByEmail(ctx, devAdminEmail); errors.Is(err, store.ErrNotFound) {
		return devAdminEmail, "", false, nil
	} else if err != nil {
		return "", "", false, err
	}
	return devAdminEmail, a.devPassword, true, nil
}

// DemoCampaign is the campaign seeded with the demo data; nil when the
// database was not seeded by this version or the campaign is gone.
func (a *App) DemoCampaign(ctx context.Context) (*store.Campaign, error) {
	v, err := a.store.SettingValue(ctx, settingDemoCampaign)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("setting %s: %q is not a campaign id", settingDemoCampaign, v)
	}
	c, err := a.store.GetCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return c, err
}

// suggestDemo points the empty outbox to the demo campaign while it is a draft.
func (a *App) suggestDemo(ctx context.Context) (name, url string, ok bool) {
	c, err := a.DemoCampaign(ctx)
	if err != nil {
		a.log.Warn("outbox: read the demo campaign", "err", err)
	}
	if c == nil || c.Status != store.CampaignDraft {
		return "", "", false
	}
	return c.Name, "/admin/campaigns/" + strconv.FormatInt(c.ID, 10), true
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// asynqLogger sends asynq's own logging to slog.
type asynqLogger struct{ l *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Info(args ...any)  { l.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Warn(args ...any)  { l.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Error(args ...any) { l.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (l asynqLogger) Fatal(args ...any) { l.l.Error(fmt.Sprint(args...), "component", "asynq") }

// adminSettings is what the admin settings screen shows of cfg.
func adminSettings(cfg config.Config) admin.Settings {
	s := admin.Settings{OrgName: cfg.OrgName, FromName: cfg.FromName, FromEmail: cfg.FromEmail,
		PostalAddress: cfg.PostalAddress, APITokenFromEnv: cfg.APIToken != ""}
	relays, err := admin.DescribeRelays(cfg.SMTPURL, cfg.SMTPConns)
	if err != nil {
		s.RelaysError = err.Error()
	}
	s.Relays = relays
	return s
}
