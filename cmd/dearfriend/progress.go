package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// bar draws the progress of a long command: on a terminal, one line redrawn
// in place with a bar, at most every 100 ms; otherwise a plain line each time
// another tenth of the way is done, for logs and pipes.
type bar struct {
	w         io.Writer
	tty       bool
	last      time.Time
	lastTenth int64
}

func newBar(w io.Writer) *bar {
	return &bar{w: w, tty: isTerminal(w), lastTenth: -1}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// update shows text for done of total.
func (b *bar) update(done, total int64, text string) {
	total = max(total, 1)
	done = min(max(done, 0), total)
	if b.tty {
		if time.Since(b.last) < 100*time.Millisecond {
			return
		}
		b.last = time.Now()
		const width = 30
		filled := int(width * done / total)
		fmt.Fprintf(b.w, "\r[%s%s] %s\033[K", strings.Repeat("#", filled), strings.Repeat(".", width-filled), text)
		return
	}
	if tenth := 10 * done / total; tenth > b.lastTenth {
		b.lastTenth = tenth
		fmt.Fprintln(b.w, text)
	}
}

// finish clears the bar and prints the last line.
func (b *bar) finish(text string) {
	if b.tty {
		fmt.Fprint(b.w, "\r\033[K")
	}
	fmt.Fprintln(b.w, text)
}
