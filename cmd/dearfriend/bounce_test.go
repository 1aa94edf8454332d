package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestBounceCommand(t *testing.T) {
	msg := "From: MAILER-DAEMON@mx.example.org\nTo: news@example.net\nSubject: failure notice\n\n" +
		"Hi. This is the qmail-send program at mx.example.org.\n\n<jo@example.com>:\nSorry, no mailbox here by that name. (#5.1.1)\n"
	var out, errOut bytes.Buffer
	code := run([]string{"bounce", "classify"}, strings.NewReader(msg), &out, &errOut)
	want := `{"recipient":"jo@example.com","kind":"hard","status":"5.1.1","reason":"userunknown"}` + "\n"
	if code != 0 || out.String() != want {
		t.Errorf("exit %d, output %q (stderr %q); want 0, %q", code, out.String(), errOut.String(), want)
	}
}
