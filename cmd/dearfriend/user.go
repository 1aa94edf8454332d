package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/dearfriend/dearfriend/pkg/admin"
	"github.com/dearfriend/dearfriend/pkg/config"
	"github.com/dearfriend/dearfriend/pkg/errs"
	"github.com/dearfriend/dearfriend/pkg/store"
)

const userUsage = `usage: dearfriend user create --email EMAIL --role admin|organizer|viewer [--password-stdin]
       dearfriend user password --email EMAIL [--password-stdin]

create adds a user of the admin UI (/admin); password gives a user a new
password and signs them out everywhere. Both work on the database of
DEARFRIEND_DATABASE_URL (default: the dev database ./data/dearfriend.db).
With --password-stdin the password is the first line of standard input;
without it a strong password is generated and printed once.
Roles: viewers read; organizers also edit and send; admins also manage
users, settings and the queue.
`

// userCommand is the user command; it returns the exit code.
func userCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "create" && args[0] != "password") {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage) }
	email := fs.String("email", "", "the user's email address")
	role := fs.String("role", "", "admin, organizer or viewer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *email == "" || (sub == "create") != (*role != "") || fs.NArg() > 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "dearfriend user %s: %v\n", sub, err)
		return code
	}
	password, generated := admin.GeneratePassword(), true
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return fail(1, fmt.Errorf("read the password: %w", err))
		}
		password, generated = strings.TrimRight(line, "\r\n"), false
	}
	cfg, err := config.FromEnv(config.ModeDev, os.Getenv)
	if cfg.DatabaseURL == "" {
		return fail(2, err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithPool(cfg.DB))
	if err != nil {
		return fail(1, err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return fail(1, err)
	}
	if sub == "create" {
		u, err := admin.CreateUser(ctx, st, *email, *role, password)
		if err != nil {
			return fail(exitCode(err), err)
		}
		fmt.Fprintf(stdout, "user %s created with role %s\n", u.Email, u.Role)
	} else {
		if err := admin.SetPassword(ctx, st, *email, password); err != nil {
			return fail(exitCode(err), err)
		}
		fmt.Fprintf(stdout, "password of %s changed; their sessions are ended\n", strings.ToLower(*email))
	}
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: keep it somewhere safe)\n", password)
	}
	return 0
}

// exitCode is 2 for an error of the input (a domain error), 1 for any other.
func exitCode(err error) int {
	if _, ok := errs.As(err); ok {
		return 2
	}
	return 1
}
