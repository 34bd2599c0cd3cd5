// Command sqsx sends and receives Amazon SQS messages of any size, and
// publishes them to Amazon SNS. A body larger than the threshold (256 KiB by
// default) is stored in Amazon S3 and a pointer is sent in its place, in the
// wire format of the AWS extended client libraries for Java and Python, so
// sqsx interoperates with them.
//
// Usage:
//
//	sqsx send      --queue-url URL | --queue NAME  --bucket BUCKET [--file FILE] [flags]
//	sqsx receive   --queue-url URL | --queue NAME [--bucket BUCKET] [--out FILE | --out-dir DIR] [--delete] [flags]
//	sqsx delete    --queue-url URL | --queue NAME [--bucket BUCKET] [--receipt-handle HANDLE] [flags]
//	sqsx peek      --queue-url URL | --queue NAME [--max N] [--body --bucket BUCKET] [flags]
//	sqsx consume   --queue-url URL | --queue NAME [--bucket BUCKET] [--concurrency N] [--max-messages N] [flags] -- COMMAND [ARG...]
//	sqsx publish   --topic-arn ARN --bucket BUCKET [--file FILE] [flags]
//	sqsx lifecycle --bucket BUCKET [--prefix PREFIX] [--days N | --show] [flags]
//	sqsx doctor    --bucket BUCKET [--queue-url URL | --queue NAME] [--prefix PREFIX] [--topic-arn ARN] [flags]
//	sqsx help [command]
//
// send reads the body from --file or standard input, sends it, prints the
// message id on standard output and a summary on standard error.
//
// receive waits up to --wait seconds (default 20) for up to --max messages,
// writes each body, byte for byte, to --out, a file in --out-dir or standard
// output, optionally deletes the messages and their S3 payloads (--delete),
// and prints a summary on standard error. Only payloads in --bucket and the
// --allowed-bucket buckets are read. Each message is decided on its own: one
// whose body cannot be read or written is reported, with the command that
// deletes it when it can never be read, and is left in the queue, while the
// others are written (and deleted); the exit status is then 1.
//
// consume runs COMMAND once per message, with the body streamed to its
// standard input and the message id, receive count and attributes in
// SQSX_* environment variables; it deletes the message when the command
// exits 0 and otherwise makes it visible again after a backoff. Ctrl-C
// stops receiving and lets the running commands finish within
// --shutdown-timeout; a second Ctrl-C kills them.
//
// delete deletes messages by receipt handle, and then their payloads. peek
// shows the messages of a queue without consuming them. publish publishes to
// an SNS topic. lifecycle installs, or shows, the S3 lifecycle rule that
// expires payloads. doctor checks the credentials, the bucket, the queue, the
// lifecycle rule and the bucket's encryption, and says what to fix.
//
// Every command takes --json (results as one JSON object per line on
// standard output, errors as a JSON object with "error" and "hint" on
// standard error), --quiet (no summaries or progress bars), --region and
// --profile. A progress bar is drawn on standard error for transfers above
// the threshold when standard error is a terminal.
//
// Configuration comes from the standard AWS sources: environment variables,
// the shared config and credentials files, --region and --profile.
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_S3 (or
// AWS_ENDPOINT_URL) select other endpoints, such as local servers; S3 then
// uses path-style addressing (or pass --path-style).
//
// Exit status: 0 on success, 1 on errors, 2 on invalid usage or input (an
// empty body, or one sent in SQS or SNS that is not text), 3 when there
// was nothing: receive or peek got no message within the wait time, or
// lifecycle --show found no rule; 4 when doctor found a failure.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
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

const usage = `sqsx sends and receives Amazon SQS messages of any size. Bodies over the
threshold (256 KiB by default) are stored in Amazon S3 and a pointer is sent
in their place, in the format of the AWS extended client libraries.

Usage:
  sqsx <command> [flags]

Commands:
  send      send one message, read from a file or standard input
  receive   receive messages and write their bodies to files or standard output
  delete    delete messages by receipt handle, and their S3 payloads
  peek      show the messages in a queue without consuming them
  consume   run a command for each message, with its body on standard input
  publish   publish one message to an SNS topic, read from a file or standard input
  lifecycle install (or --show) the S3 lifecycle rule that expires payloads
  doctor    check credentials, bucket, queue, lifecycle rule and encryption
  help      show this help, or a command's help: sqsx help <command>

Flags of every command:
  --json     print results as JSON, one object per line on standard output,
             and errors as a JSON object with "error" and "hint" on standard error
  --quiet    print no summaries and no progress bars
  --region, --profile, --path-style   AWS configuration

AWS configuration comes from the environment, ~/.aws/config and
~/.aws/credentials, --region and --profile. AWS_ENDPOINT_URL_SQS,
AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_S3 select other endpoints (for
example local servers); S3 then uses path-style addressing.

Exit status:
  0  success
  1  error (the message says what to do next); for receive and peek,
     also when any one message could not be read, written or deleted
  2  invalid usage or input: an empty body, or a body sent in SQS or
     SNS itself that is not text (pass --always-s3 for other bytes)
  3  nothing there: receive or peek got no message within --wait,
     lifecycle --show found no rule
  4  doctor found at least one FAIL

Run 'sqsx <command> -h' for a command's flags.
`

// command is a subcommand: its name and how to run it.
type command struct {
	name string
	run  func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands lists the subcommands in the order the help shows them.
var commands = []command{
	{"send", runSend},
	{"receive", runReceive},
	{"delete", runDelete},
	{"peek", runPeek},
	{"consume", runConsume},
	{"publish", runPublish},
	{"lifecycle", runLifecycle},
	{"doctor", runDoctor},
}

// commandNames returns "send, receive, ... and doctor".
func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// run runs the command line args (without the program name) and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	if c := lookup(cmd); c != nil {
		return c.run(ctx, rest, stdin, stdout, stderr)
	}
	switch cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		if c := lookup(rest[0]); c != nil {
			return c.run(ctx, []string{"-h"}, stdin, stdout, stderr)
		}
		fmt.Fprintf(stderr, "sqsx help: unknown command %q; the commands are %s.\n", rest[0], commandNames())
		return exitUsage
	default:
		if strings.HasPrefix(cmd, "-") {
			fmt.Fprintf(stderr, "sqsx: flag %s given before a command; flags go after it, e.g. 'sqsx send %s ...'.\nRun 'sqsx help' for usage.\n", cmd, cmd)
		} else {
			fmt.Fprintf(stderr, "sqsx: unknown command %q; the commands are %s.\nRun 'sqsx help' for usage.\n", cmd, commandNames())
		}
		return exitUsage
	}
}

// ui is how a subcommand reports: results on standard output, notes and
// errors on standard error, as text or, with --json, as JSON objects.
type ui struct {
	cmd            string
	json           bool
	quiet          bool
	stdout, stderr io.Writer
}

// newUI returns the ui of subcommand cmd. It looks for --json in args itself,
// so that even a usage error found while parsing them is reported as JSON.
func newUI(cmd string, args []string, stdout, stderr io.Writer) *ui {
	u := &ui{cmd: cmd, stdout: stdout, stderr: stderr}
	for _, a := range args {
		if a == "--" {
			break
		}
		switch a {
		case "-json", "--json", "-json=true", "--json=true":
			u.json = true
		}
	}
	return u
}

// set applies the parsed common flags.
func (u *ui) set(c *commonFlags) {
	u.json, u.quiet = c.json, c.quiet
}

// errorJSON is what an error looks like with --json, on standard error.
type errorJSON struct {
	Command  string `json:"command"`
	Error    string `json:"error"`
	Hint     string `json:"hint"`
	ExitCode int    `json:"exit_code"`
}

// usageError reports a usage problem and returns exitUsage.
func (u *ui) usageError(err error) int {
	hint := fmt.Sprintf("Run 'sqsx %s -h' for usage.", u.cmd)
	if u.json {
		writeJSON(u.stderr, errorJSON{Command: u.cmd, Error: err.Error(), Hint: hint, ExitCode: exitUsage})
		return exitUsage
	}
	fmt.Fprintf(u.stderr, "sqsx %s: %v\n%s\n", u.cmd, err, hint)
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
	fmt.Fprintf(u.stderr, "sqsx %s: %s\n", u.cmd, joinLines(msg, hint))
	return code
}

// emit writes v as one line of JSON on standard output.
func (u *ui) emit(v any) error { return writeJSON(u.stdout, v) }

// notef prints a note on standard error, unless --quiet or --json.
func (u *ui) notef(format string, args ...any) {
	if u.quiet || u.json {
		return
	}
	fmt.Fprintf(u.stderr, format, args...)
}

// warnf prints a warning on standard error, unless --json (where warnings
// are part of the result objects).
func (u *ui) warnf(format string, args ...any) {
	if u.json {
		return
	}
	fmt.Fprintf(u.stderr, "sqsx %s: warning: %s\n", u.cmd, fmt.Sprintf(format, args...))
}

// progressOut returns where progress bars are drawn: standard error when it
// is a terminal and neither --json nor --quiet is given, else nil (none).
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

// hintedError is an error with advice on what to do next, which explain
// adds to the message.
type hintedError struct {
	err  error
	hint string
	// replace: the hint replaces the one describe gives err, instead of
	// following it.
	replace bool
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint returns err with advice on what to do next.
func withHint(err error, hint string) error { return &hintedError{err: err, hint: hint} }

// replaceHint returns err with advice on what to do next, in place of the
// advice describe would give.
func replaceHint(err error, hint string) error {
	return &hintedError{err: err, hint: hint, replace: true}
}

// explain returns err as a message that says what went wrong and, on the
// following lines, what to do about it.
func explain(err error) string { return joinLines(describe(err)) }

// authCodes are the error codes with which AWS services reject credentials.
var authCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"InvalidSecurity": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
	"AuthFailure": true, "InvalidToken": true, "TokenRefreshRequired": true,
}

// deniedCodes are the error codes with which AWS services refuse an
// operation to valid credentials.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "AuthorizationError": true, "Forbidden": true,
}

// errorCode returns the AWS error code of err, without SQS's query-protocol
// prefix, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return strings.TrimPrefix(apiErr.ErrorCode(), "AWS.SimpleQueueService.")
	}
	return ""
}

// describe returns what went wrong and what to do about it. The hint is
// never empty: every error says what to do next.
func describe(err error) (msg, hint string) {
	if he, ok := err.(*hintedError); ok {
		msg, hint = describe(he.err)
		if he.replace || hint == genericHint {
			hint = ""
		}
		return msg, joinLines(hint, he.hint)
	}
	var (
		perr  *payload.Error
		ierr  *sqsx.InputError
		noQ   *types.QueueDoesNotExist
		sendE *smithyhttp.RequestSendError
		opErr *smithy.OperationError
		kept  *payload.KeptError
	)
	code := errorCode(err)
	service, op := "the service", ""
	if errors.As(err, &opErr) {
		service, op = opErr.ServiceID, opErr.OperationName
	}
	const redelivered = "The message stays in the queue and is delivered again after its visibility timeout."
	if errors.As(err, &kept) {
		return keptHint(kept)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted", "Run the command again to finish what it was doing."

	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out: %v", err), "Check that the endpoints are reachable and retry."

	case errors.Is(err, sqsx.ErrBucketNotAllowed) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload is in s3://%s/%s, and bucket %s is not allowed: pass --allowed-bucket %s if you trust the sender",
				perr.Bucket, perr.Key, perr.Bucket, perr.Bucket),
			redelivered

	case errors.Is(err, sqsx.ErrKeyNotAllowed) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload is in s3://%s/%s, and key %s is outside the key prefixes allowed to be read", perr.Bucket, perr.Key, perr.Key),
			redelivered

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr) && perr.Op == "PutObject":
		return fmt.Sprintf("bucket %s does not exist (%v)", perr.Bucket, err),
			"Create it, or pass an existing bucket with --bucket."

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload s3://%s/%s does not exist (%s)", perr.Bucket, perr.Key, orDefault(code, "not found")),
			"It was deleted (perhaps by a consumer that received this message before) or expired, or its bucket is gone. " +
				redelivered + " 'sqsx receive' on the queue prints the command that deletes it; or let a redrive policy move it to a dead-letter queue."

	case errors.Is(err, payload.ErrChecksumMismatch):
		return fmt.Sprintf("the payload read from S3 does not match its checksum: %v", err),
			"Nothing was written. Retry; if it persists the object is corrupt: " + redelivered

	case errors.Is(err, sqsx.ErrPayloadTooLarge):
		return err.Error(), "Pass --max-payload-size with a larger SIZE (e.g. 1GiB), or none for no limit. " + redelivered

	case errors.Is(err, sqsx.ErrInvalidPointer):
		return fmt.Sprintf("the message is marked as stored in S3 (it has an %s or %s attribute) but its body is not a valid S3 pointer: %v",
				sqsx.AttributeName, sqsx.LegacyAttributeName, err),
			"It was not sent by an extended client, or was altered. " + redelivered

	case errors.Is(err, sqsx.ErrInvalidReceiptHandle) || code == "ReceiptHandleIsInvalid" || code == "InvalidReceiptHandle":
		return fmt.Sprintf("the receipt handle is not valid: %v", err),
			"Pass the handle exactly as 'sqsx receive' printed it (receipt_handle with --json). A handle is good only until the message is received again."

	case errors.As(err, &ierr):
		switch {
		case errors.Is(err, sqsx.ErrTooManyAttributes):
			return err.Error(), fmt.Sprintf("A message stored in S3 may have at most %d attributes: pass fewer --attr flags.", sqsx.MaxAttributes-1)
		case errors.Is(err, sqsx.ErrAttributesTooLarge):
			return err.Error(), "Move data from the --attr values into the body, or raise --threshold."
		case errors.Is(err, sqsx.ErrEmptyBody):
			return err.Error(), "SQS does not accept empty messages: send a non-empty body."
		case errors.Is(err, sqsx.ErrNoBucket):
			return err.Error(), "Pass --bucket: the S3 bucket that receives bodies too large for the service."
		}
		return err.Error(), "Check the flags; run the command with -h for usage."

	case errors.As(err, &noQ) || code == "NonExistentQueue" || code == "QueueDoesNotExist":
		return fmt.Sprintf("the queue does not exist: %v", err),
			"Check --queue-url or --queue, and the region (--region, AWS_REGION); or create the queue."

	case errors.As(err, &sendE):
		env := "AWS_ENDPOINT_URL"
		switch service {
		case "SQS":
			env = "AWS_ENDPOINT_URL_SQS"
		case "S3":
			env = "AWS_ENDPOINT_URL_S3"
		case "SNS":
			env = "AWS_ENDPOINT_URL_SNS"
		}
		return fmt.Sprintf("could not reach %s: %v", service, err),
			fmt.Sprintf("Check that the endpoint is up and reachable, and that %s (or AWS_ENDPOINT_URL) and the region are right.", env)

	case strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "failed to retrieve credentials"):
		return fmt.Sprintf("no usable AWS credentials: %v", err),
			"Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile with a profile that has credentials."

	case authCodes[code]:
		return fmt.Sprintf("%s rejected the credentials: %v", service, err),
			"Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --profile); a session token may have expired."

	case deniedCodes[code]:
		return fmt.Sprintf("%s refused the request: %v", service, err),
			fmt.Sprintf("Check the credentials (AWS_ACCESS_KEY_ID, --profile) and that they allow %s on this resource.", orDefault(op, "this operation"))

	case code == "NoSuchBucket":
		return fmt.Sprintf("the bucket does not exist: %v", err),
			"Create it, or pass an existing bucket with --bucket; check the region."

	case code == "NotImplemented":
		return fmt.Sprintf("the %s server does not implement %s: %v", service, orDefault(op, "this operation"), err),
			"Amazon's service does; this S3-compatible or local server lacks it. Point the AWS_ENDPOINT_URL_* variable at a server that has it."

	case service == "SNS" && code == "NotFound":
		return fmt.Sprintf("the topic does not exist: %v", err),
			"Check --topic-arn and the region (--region, AWS_REGION); or create the topic."

	case service == "SNS" && (code == "InvalidParameter" || code == "InvalidParameterValue"):
		return fmt.Sprintf("SNS refused the request: %v", err),
			"Check the flags against the topic: a FIFO topic needs --group-id, and --dedup-id unless content-based deduplication is on; --subject must be ASCII text."

	case code == "InvalidMessageContents":
		return fmt.Sprintf("SQS refused the message body: %v", err),
			"SQS accepts only XML characters in a body sent in SQS: use --always-s3, or encode the body (e.g. base64)."

	case code == "InvalidParameterValue" || code == "MissingParameter" || code == "InvalidParameterCombination":
		return fmt.Sprintf("SQS refused the request: %v", err),
			"Check the flags against the queue: a FIFO queue needs --group-id, and --dedup-id unless content-based deduplication is on; a standard queue takes no --dedup-id."
	}
	return err.Error(), genericHint
}

// keptHint describes a send or publish that failed and left payloads in S3.
func keptHint(e *payload.KeptError) (msg, hint string) {
	msg, hint = describe(e.Err)
	if hint == genericHint {
		hint = ""
	}
	objs := make([]string, len(e.Pointers))
	for i, p := range e.Pointers {
		objs[i] = p.String()
	}
	list := strings.Join(objs, " ")
	if e.Ambiguous {
		return fmt.Sprintf("%s; the message may have been sent nonetheless, so its payload %s was kept", msg, list),
			joinLines(hint, "Check whether it arrived (e.g. 'sqsx peek' on the queue) before sending it again, which could deliver it twice. "+
				"If it did not, the payload is only storage: delete it (aws s3 rm "+list+") or let an S3 lifecycle rule expire it ('sqsx lifecycle').")
	}
	left := "may have been left in S3"
	if e.CleanupErr != nil {
		left = fmt.Sprintf("was left in S3 (deleting it failed: %v)", e.CleanupErr)
	}
	return fmt.Sprintf("%s; the message was not sent, and its payload %s %s", msg, list, left),
		joinLines(hint, "Delete it (aws s3 rm "+list+") or let an S3 lifecycle rule expire it ('sqsx lifecycle'), and send the message again.")
}

// genericHint is the advice for errors describe does not recognise.
const genericHint = "Run 'sqsx doctor' with the same --bucket and --queue-url to check the credentials, bucket and queue."

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
