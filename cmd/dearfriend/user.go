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

Adds a user of the admin UI (/admin) to the database of
DEARFRIEND_DATABASE_URL (default: the dev database ./data/dearfriend.db).
With --password-stdin the password is the first line of standard input;
without it a strong password is generated and printed once.
Roles: viewers read; organizers also edit and send; admins also manage
users, settings and the queue.
`

// userCommand is the user command; it returns the exit code.
func userCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, userUsage) }
	email := fs.String("email", "", "the user's email address")
	role := fs.String("role", "", "admin, organizer or viewer")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	if *email == "" || *role == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, userUsage)
		return 2
	}
	password, generated := admin.GeneratePassword(), true
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			fmt.Fprintf(stderr, "dearfriend user create: read the password: %v\n", err)
			return 1
		}
		password, generated = strings.TrimRight(line, "\r\n"), false
	}
	cfg, err := config.FromEnv(config.ModeDev, os.Getenv)
	if cfg.DatabaseURL == "" {
		fmt.Fprintf(stderr, "dearfriend user create: %v\n", err)
		return 2
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.DatabaseURL, store.WithPool(cfg.DB))
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend user create: %v\n", err)
		return 1
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		fmt.Fprintf(stderr, "dearfriend user create: %v\n", err)
		return 1
	}
	u, err := admin.CreateUser(ctx, st, *email, *role, password)
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend user create: %v\n", err)
		if _, ok := errs.As(err); ok {
			return 2
		}
		return 1
	}
	fmt.Fprintf(stdout, "user %s created with role %s\n", u.Email, u.Role)
	if generated {
		fmt.Fprintf(stdout, "password: %s\n(shown once: keep it somewhere safe)\n", password)
	}
	return 0
}
