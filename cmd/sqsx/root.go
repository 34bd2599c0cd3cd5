package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes.
const (
	exitOK        = 0
	exitError     = 1
	exitUsage     = 2
	exitNoMessage = 3 // nothing received, nothing found
	exitDoctor    = 4 // doctor found at least one failure
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one kills the process at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const rootLong = `sqsx sends and receives Amazon SQS messages of any size. Bodies over the
threshold (256 KiB by default) are stored in Amazon S3 and a pointer is sent
in their place, in the format of the AWS extended client libraries.

AWS configuration comes from the environment, ~/.aws/config and
~/.aws/credentials, --region and --profile. --endpoint-url, or
AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_S3, select
other endpoints (for example local servers); S3 then uses path-style
addressing. Flags go before or after the command.

Exit status:
  0  success
  1  error (the message says what to do next); for receive and peek,
     also when any one message could not be read, written or deleted
  2  invalid usage or input: an empty body, or a body sent in SQS or
     SNS itself that is not text (pass --always-s3 for other bytes)
  3  nothing there: receive or peek got no message within
     --wait-time-seconds, lifecycle --show found no rule
  4  doctor found at least one FAIL`

// app is one run of sqsx: its streams, the flags every command shares, and
// the exit code the command chose.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	common         commonFlags
	code           int
}

// subcommand is what a command adds to cobra: checking its flags and
// arguments, and running.
type subcommand interface {
	// check returns a usage problem, or nil.
	check(fs *pflag.FlagSet, args []string) error
	// run runs the command and returns its exit code.
	run(ctx context.Context, u *ui) int
}

// run runs the command line args (without the program name) and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		// Cobra's own errors: an unknown command or flag, a bad value.
		u := newUI(cmd.Name(), &commonFlags{json: wantsJSON(args)}, stdout, stderr)
		return u.usageError(err)
	}
	return a.code
}

// rootCommand returns the sqsx command, with its subcommands.
func (a *app) rootCommand() *cobra.Command {
	cobra.EnableCommandSorting = false // in the order of the help
	root := &cobra.Command{
		Use:               "sqsx",
		Short:             "Send and receive Amazon SQS messages of any size",
		Long:              rootLong,
		Version:           version(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
		PersistentPreRunE: func(*cobra.Command, []string) error { return a.common.resolve(a.stderr) },
		// Without a command: an unknown one is a usage error, and none
		// prints the help as one.
		Args: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("unknown command %q; the commands are %s", args[0], commandNames(c))
			}
			return nil
		},
		RunE: func(c *cobra.Command, _ []string) error {
			c.SetOut(a.stderr)
			c.Help()
			a.code = exitUsage
			return nil
		},
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	a.common.register(root.PersistentFlags())
	root.SetGlobalNormalizationFunc(normalizeFlag)
	root.SetHelpCommand(&cobra.Command{
		Use:   "help [command]",
		Short: "Show the help of sqsx or of a command",
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := root.Find(args)
			if err != nil || len(rest) > 0 {
				return fmt.Errorf("unknown command %q; the commands are %s", strings.Join(args, " "), commandNames(root))
			}
			cmd.SetOut(a.stdout)
			return cmd.Help()
		},
	})
	root.AddCommand(
		a.command(newSendCommand()),
		a.command(newReceiveCommand()),
		a.command(newDeleteCommand()),
		a.command(newPeekCommand()),
		a.command(newConsumeCommand()),
		a.command(newPublishCommand()),
		a.command(newLifecycleCommand()),
		a.command(newDoctorCommand()),
		a.command(newStatsCommand()),
		a.command(newGCCommand()),
	)
	return root
}

// command completes c, whose flags s holds: cobra parses the flags, s
// checks and runs them, and the exit code is kept in a.code.
func (a *app) command(c *cobra.Command, s subcommand) *cobra.Command {
	c.RunE = func(c *cobra.Command, args []string) error {
		u := newUI(c.Name(), &a.common, a.stdout, a.stderr)
		u.stdin = a.stdin
		if err := s.check(c.Flags(), args); err != nil {
			a.code = u.usageError(err)
			return nil
		}
		a.code = s.run(c.Context(), u)
		return nil
	}
	return c
}

// commandNames returns "send, receive, ... and doctor".
func commandNames(root *cobra.Command) string {
	var names []string
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "completion" {
			names = append(names, c.Name())
		}
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// flagAliases maps the flag names of earlier versions of sqsx, still
// accepted, to their aws-cli names.
var flagAliases = map[string]string{
	"max":      "max-number-of-messages",
	"wait":     "wait-time-seconds",
	"group-id": "message-group-id",
	"dedup-id": "message-deduplication-id",
	"delay":    "delay-seconds",
	"prefix":   "key-prefix",
}

// normalizeFlag is the flag normalization of every command: an old name
// is read as its new one, so it works without showing in the help.
func normalizeFlag(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if to, ok := flagAliases[name]; ok {
		return pflag.NormalizedName(to)
	}
	return pflag.NormalizedName(name)
}

// wantsJSON reports whether args ask for JSON output, for reporting a
// usage error found before the flags are parsed.
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--json" || a == "--json=true" || a == "--output=json":
			return true
		case a == "--output" && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// version returns the version of sqsx: its module version and, when built
// from a checkout, the commit.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " (" + s.Value[:12] + ")"
		}
	}
	return v
}
