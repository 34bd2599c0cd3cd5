package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// ui is how a command reports: results on standard output, notes and
// errors on standard error, as text or, with --output json, as JSON
// objects. It also holds what every command reads: standard input and the
// AWS flags.
type ui struct {
	cmd            string
	json           bool
	quiet          bool
	aws            *awsFlags
	stdin          io.Reader
	stdout, stderr io.Writer
}

// newUI returns the ui of command cmd, with the common flags c.
func newUI(cmd string, c *commonFlags, stdout, stderr io.Writer) *ui {
	return &ui{cmd: cmd, json: c.json, quiet: c.quiet, aws: &c.aws, stdout: stdout, stderr: stderr}
}

// errorJSON is what an error looks like with --output json, on standard error.
type errorJSON struct {
	Command  string
	Error    string
	Hint     string
	ExitCode int
}

// usageError reports a usage problem and returns exitUsage.
func (u *ui) usageError(err error) int {
	hint := fmt.Sprintf("Run 'sqsx %s -h' for usage.", u.cmd)
	if u.cmd == "sqsx" || u.cmd == "help" {
		hint = "Run 'sqsx help' for usage."
	}
	if u.json {
		writeJSON(u.stderr, errorJSON{Command: u.cmd, Error: err.Error(), Hint: hint, ExitCode: exitUsage})
		return exitUsage
	}
	fmt.Fprintf(u.stderr, "%s: %v\n%s\n", u.name(), err, hint)
	return exitUsage
}

// fail reports err, explained, and returns exitError.
func (u *ui) fail(err error) int { return u.failCode(exitError, err) }

// failCode reports err, explained, and returns code.
func (u *ui) failCode(code int, err error) int {
	msg, hint := describe(err)
	if u.json {
		writeJSON(u.stderr, errorJSON{Command: u.cmd, Error: msg, Hint: hint, ExitCode: code})
		return code
	}
	fmt.Fprintf(u.stderr, "%s: %s\n", u.name(), joinLines(msg, hint))
	return code
}

// name returns "sqsx CMD", or "sqsx" for the root command.
func (u *ui) name() string {
	if u.cmd == "sqsx" {
		return u.cmd
	}
	return "sqsx " + u.cmd
}

// emit writes v as one line of JSON on standard output.
func (u *ui) emit(v any) error { return writeJSON(u.stdout, v) }

// notef prints a note on standard error, unless --quiet or --output json.
func (u *ui) notef(format string, args ...any) {
	if u.quiet || u.json {
		return
	}
	fmt.Fprintf(u.stderr, format, args...)
}

// warnf prints a warning on standard error, unless --output json (where warnings
// are part of the result objects).
func (u *ui) warnf(format string, args ...any) {
	if u.json {
		return
	}
	fmt.Fprintf(u.stderr, "sqsx %s: warning: %s\n", u.cmd, fmt.Sprintf(format, args...))
}

// progressOut returns where progress bars are drawn: standard error when it
// is a terminal and neither --output json nor --quiet is given, else nil (none).
func (u *ui) progressOut() io.Writer {
	if u.json || u.quiet || !isTerminal(u.stderr) {
		return nil
	}
	return u.stderr
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// writeJSON writes v as one line of JSON, with <, > and & unescaped.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// joinLines joins a and b with a newline, leaving out an empty one.
func joinLines(a, b string) string {
	if a == "" {
		return b
	}
	if b == "" {
		return a
	}
	return a + "\n" + b
}
