package inline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Command implements `dearfriend inline [--css FILE]... < in.html > out.html`; returns an exit code.
//
// args are the arguments after "inline". Exit codes: 0 done (warnings may
// have been printed), 1 the input or a stylesheet could not be read, 2 bad
// usage.
func Command(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dearfriend inline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: dearfriend inline [--css FILE]... < in.html > out.html")
		fmt.Fprintln(stderr, "Moves the CSS of an HTML email into style attributes.")
		fs.PrintDefaults()
	}
	var files []string
	fs.Func("css", "extra stylesheet `FILE`, applied after the document's own <style> (repeatable)", func(f string) error {
		files = append(files, f)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "dearfriend inline: unexpected argument %q (the document is read from standard input)\n", fs.Arg(0))
		fs.Usage()
		return 2
	}

	var opts Options
	for _, f := range files {
		css, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "dearfriend inline: reading stylesheet: %v\n", err)
			return 1
		}
		opts.ExtraCSS = append(opts.ExtraCSS, string(css))
	}
	doc, err := io.ReadAll(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "dearfriend inline: reading standard input: %v\n", err)
		return 1
	}

	out, warnings, err := Inline(string(doc), opts)
	if err != nil {
		var ce *cssError
		if errors.As(err, &ce) && ce.extra >= 0 {
			ce.source = files[ce.extra]
		}
		fmt.Fprintf(stderr, "dearfriend inline: %v\n", err)
		return 1
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "dearfriend inline: warning: %s\n", w)
	}
	if _, err := io.WriteString(stdout, out); err != nil {
		fmt.Fprintf(stderr, "dearfriend inline: writing output: %v\n", err)
		return 1
	}
	return 0
}
