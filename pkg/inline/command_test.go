package inline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommand(t *testing.T) {
	dir := t.TempDir()
	css := filepath.Join(dir, "brand.css")
	bad := filepath.Join(dir, "bad.css")
	mustWrite(t, css, "p { color: red; } a:hover { color: blue; }")
	mustWrite(t, bad, "p {\n  color red;\n}")
	later := filepath.Join(dir, "later.css")
	mustWrite(t, later, "p { color: green; }")

	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantCode   int
		wantStdout string
		wantStderr string // a line expected in stderr
	}{
		{
			name:       "document styles only",
			stdin:      `<style>p { margin: 0; }</style><p>x</p>`,
			wantStdout: `<p style="margin: 0;">x</p>`,
		},
		{
			name:       "with --css FILE",
			args:       []string{"--css", css},
			stdin:      `<p>Hi {{ .FirstName | default "Friend" }}</p>`,
			wantStdout: "<style>\na:hover { color: blue; }\n</style><p style=\"color: red;\">Hi {{ .FirstName | default \"Friend\" }}</p>",
		},
		{
			name:       "--css repeated, the later file wins",
			args:       []string{"--css=" + css, "-css", later},
			stdin:      `<p>x</p>`,
			wantStdout: "<style>\na:hover { color: blue; }\n</style><p style=\"color: green;\">x</p>",
		},
		{
			name:       "missing file",
			args:       []string{"--css", filepath.Join(dir, "nope.css")},
			stdin:      `<p>x</p>`,
			wantCode:   1,
			wantStderr: "dearfriend inline: reading stylesheet: open " + filepath.Join(dir, "nope.css") + ": no such file or directory",
		},
		{
			name:       "unreadable CSS names the file and the rule",
			args:       []string{"--css", bad},
			stdin:      `<p>x</p>`,
			wantCode:   1,
			wantStderr: "dearfriend inline: " + bad + `, line 1: rule "p": declaration "color red" has no ':'`,
		},
		{
			name:       "warnings go to stderr",
			stdin:      `<style>p:is(.a) { color: red; }</style><p>x</p>`,
			wantStdout: "<style>\np:is(.a) { color: red; }\n</style><p>x</p>",
			wantStderr: `dearfriend inline: warning: selector "p:is(.a)" is not supported; its rule stays in <style>`,
		},
		{
			name:       "positional argument",
			args:       []string{"in.html"},
			wantCode:   2,
			wantStderr: `dearfriend inline: unexpected argument "in.html" (the document is read from standard input)`,
		},
		{
			name:       "unknown flag",
			args:       []string{"--inline-all"},
			wantCode:   2,
			wantStderr: "flag provided but not defined: -inline-all",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Command(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d (stderr: %s)", code, tt.wantCode, stderr.String())
			}
			if diff := cmp.Diff(tt.wantStdout, stdout.String()); diff != "" {
				t.Errorf("stdout mismatch (-want +got):\n%s", diff)
			}
			if tt.wantStderr != "" && !strings.Contains(stderr.String(), tt.wantStderr+"\n") {
				t.Errorf("stderr = %q, want a line %q", stderr.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && stderr.Len() > 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
		})
	}
}

func mustWrite(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}
