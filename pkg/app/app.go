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
	"time"

	"github.com/hibiken/asynq"

	"github.com/dearfriend/dearfriend/pkg/api"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/delivery"
	"github.com/dearfriend/dearfriend/pkg/devsvc"
	"github.com/dearfriend/dearfriend/pkg/mailer"
	"github.com/dearfriend/dearfriend/pkg/render"
	"github.com/dearfriend/dearfriend/pkg/store"
	"github.com/dearfriend/dearfriend/pkg/track"
	"github.com/dearfriend/dearfriend/pkg/web"
	"github.com/dearfriend/dearfriend/templates"
)

// App is a running dearfriend process.
type App struct {
	cfg      config.Config
	log      *slog.Logger
	store    *store.Store
	redis    *devsvc.Redis   // embedded mode only
	capture  *devsvc.Capture // embedded mode only
	pool     *mailer.Pool
	client   *asynq.Client
	server   *asynq.Server
	worker   *delivery.Worker
	dispatch *delivery.Dispatcher
	listener net.Listener
	http     *http.Server
	apiToken string
	closers  []func()
}

// Option adjusts New.
type Option func(*options)

type options struct {
	log *slog.Logger
}

// WithLogger sets the logger (default: slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

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

	if a.store, err = store.Open(ctx, cfg.DatabaseURL); err != nil {
		return nil, err
	}
	a.closers = append(a.closers, func() { a.store.Close() })
	if err = a.store.Migrate(ctx); err != nil {
		return nil, err
	}
	secret := cfg.Secret
	if secret == "" {
		if secret, err = a.store.Setting(ctx, "tracking_secret", randomToken); err != nil {
			return nil, err
		}
	}
	if a.apiToken = cfg.APIToken; a.apiToken == "" {
		if a.apiToken, err = a.store.Setting(ctx, "api_token", randomToken); err != nil {
			return nil, err
		}
	}

	if cfg.Mode != config.ModeWorker {
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

	if err = a.openQueue(cfg); err != nil {
		return nil, err
	}
	org := render.Org{Name: cfg.OrgName, PostalAddress: cfg.PostalAddress}
	layouts, err := fs.Sub(templates.FS, "email")
	if err != nil {
		return nil, err
	}
	compiler := render.NewCompiler(layouts, org)
	signer := track.NewSigner(secret, cfg.PreviousSecret)
	links := track.NewLinks(publicURL, signer)
	messages := delivery.NewMessages(a.store, compiler, links)
	a.dispatch = delivery.NewDispatcher(a.store, a.client, cfg.Queue, cfg.BatchSize, a.log)

	if cfg.Seed {
		if err = seed(ctx, a.store, cfg); err != nil {
			return nil, fmt.Errorf("seed demo data: %w", err)
		}
	}
	if cfg.Mode != config.ModeServe {
		if err = a.openSMTP(cfg); err != nil {
			return nil, err
		}
		a.worker = delivery.NewWorker(a.store, messages, a.pool, links, cfg.UnsubscribeMailto, cfg.MaxAttempts, a.log)
	}
	if a.listener != nil {
		mux := http.NewServeMux()
		api.New(a.store, compiler, a.dispatch, a.apiToken, a.log).Routes(mux)
		pages, err := fs.Sub(templates.FS, "pages")
		if err != nil {
			return nil, err
		}
		th, err := track.New(a.store, signer, links, messages, track.Org{Name: cfg.OrgName, PostalAddress: cfg.PostalAddress}, pages, a.log)
		if err != nil {
			return nil, err
		}
		th.Routes(mux)
		mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
		if a.capture != nil {
			mux.Handle("/outbox/", web.NewOutbox(a.capture, "/outbox"))
			mux.Handle("GET /{$}", http.RedirectHandler("/outbox/", http.StatusFound))
		}
		a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)}
	}
	return a, nil
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
	opt, err := asynq.ParseRedisURI(redisURL)
	if err != nil {
		return fmt.Errorf("DEARFRIEND_REDIS_URL: %w", err)
	}
	a.client = asynq.NewClient(opt)
	a.closers = append(a.closers, func() { a.client.Close() })
	if cfg.Mode != config.ModeServe {
		a.server = asynq.NewServer(opt, asynq.Config{
			Concurrency:     cfg.Concurrency,
			Queues:          map[string]int{cfg.Queue: 1},
			RetryDelayFunc:  delivery.RetryDelay,
			ShutdownTimeout: cfg.ShutdownTimeout,
			LogLevel:        asynq.WarnLevel,
			Logger:          asynqLogger{a.log},
		})
	}
	return nil
}

// openSMTP opens the relay pool: DEARFRIEND_SMTP_URL, or the built-in capture server in dev mode.
func (a *App) openSMTP(cfg config.Config) error {
	smtpURL := cfg.SMTPURL
	if smtpURL == "" {
		c, err := devsvc.StartCapture(cfg.DevSMTPAddr, devsvc.CaptureOptions{})
		if err != nil {
			return fmt.Errorf("start SMTP capture on DEARFRIEND_DEV_SMTP_ADDR %s: %w", cfg.DevSMTPAddr, err)
		}
		a.capture = c
		a.closers = append(a.closers, func() { c.Close() })
		smtpURL = "smtp://" + c.Addr() + "?tls=none"
	}
	mc, err := mailer.ParseURL(smtpURL)
	if err != nil {
		return fmt.Errorf("DEARFRIEND_SMTP_URL: %w", err)
	}
	mc.MaxConns = cfg.SMTPConns
	if a.pool, err = mailer.NewPool(mc, a.log); err != nil {
		return err
	}
	a.closers = append(a.closers, func() { a.pool.Close() })
	return nil
}

// Run runs the parts of the mode until ctx is done, then shuts them down in order.
func (a *App) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	if a.server != nil {
		mux := asynq.NewServeMux()
		mux.Handle(delivery.TypeSendBatch, a.worker)
		if err := a.server.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		// Campaigns left sending continue from the ledger.
		if err := a.dispatch.Resume(ctx); err != nil {
			a.log.Error("resume campaigns", "err", err)
		}
	}
	if a.http != nil {
		go func() {
			if err := a.http.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if a.http != nil {
		a.http.Shutdown(shutdownCtx)
	}
	if a.server != nil {
		a.server.Shutdown()
	}
	return err
}

// Close releases everything New opened, in reverse order.
func (a *App) Close() error {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
	return nil
}

// URL is the base URL of the HTTP server ("" in worker mode).
func (a *App) URL() string {
	if a.listener == nil {
		return ""
	}
	return "http://" + a.listener.Addr().String()
}

// APIToken is the bearer token of the API.
func (a *App) APIToken() string { return a.apiToken }

// Capture is the built-in SMTP capture server, or nil when a relay is configured.
func (a *App) Capture() *devsvc.Capture { return a.capture }

// Store is the database, for tests and commands that inspect it.
func (a *App) Store() *store.Store { return a.store }

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
