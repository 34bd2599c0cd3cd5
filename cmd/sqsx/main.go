// Command sqsx sends and receives Amazon SQS messages of any size. A body
// larger than the threshold (256 KiB by default) is stored in Amazon S3 and a
// pointer is sent in its place, in the wire format of the AWS extended client
// libraries for Java and Python, so sqsx interoperates with them.
//
// Usage:
//
//	sqsx send    --queue-url URL | --queue NAME  --bucket BUCKET [--file FILE] [flags]
//	sqsx receive --queue-url URL | --queue NAME [--bucket BUCKET] [--out FILE] [--delete] [flags]
//	sqsx help [command]
//
// send reads the body from --file or standard input, sends it, prints the
// message id on standard output and a summary on standard error.
//
// receive waits up to --wait seconds (default 20) for one message, writes its
// body, byte for byte, to --out or standard output, optionally deletes the
// message and its S3 payload (--delete), and prints a summary on standard
// error. Only payloads in --bucket and the --allowed-bucket buckets are read.
//
// Configuration comes from the standard AWS sources: environment variables,
// the shared config and credentials files, --region and --profile.
// AWS_ENDPOINT_URL_SQS and AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL) select
// other endpoints, such as local servers; S3 then uses path-style addressing
// (or pass --path-style).
//
// Exit status: 0 on success, 1 on errors, 2 on invalid usage, and 3 when
// receive got no message within the wait time.
package main

import (
	"context"
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
	exitNoMessage = 3
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
  receive   receive one message and write its body to a file or standard output
  help      show this help, or a command's help: sqsx help <command>

AWS configuration comes from the environment, ~/.aws/config and
~/.aws/credentials, --region and --profile. AWS_ENDPOINT_URL_SQS and
AWS_ENDPOINT_URL_S3 select other endpoints (for example local servers).

Exit status: 0 success, 1 error, 2 invalid usage, 3 no message received.
Run 'sqsx <command> -h' for a command's flags.
`

// run runs the command line args (without the program name) and returns the
// exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "send":
		return runSend(ctx, rest, stdin, stdout, stderr)
	case "receive":
		return runReceive(ctx, rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(stdout, usage)
			return exitOK
		}
		switch rest[0] {
		case "send":
			return runSend(ctx, []string{"-h"}, stdin, stdout, stderr)
		case "receive":
			return runReceive(ctx, []string{"-h"}, stdout, stderr)
		}
		fmt.Fprintf(stderr, "sqsx help: unknown command %q; the commands are send and receive.\n", rest[0])
		return exitUsage
	default:
		if strings.HasPrefix(cmd, "-") {
			fmt.Fprintf(stderr, "sqsx: flag %s given before a command; flags go after it, e.g. 'sqsx send %s ...'.\nRun 'sqsx help' for usage.\n", cmd, cmd)
		} else {
			fmt.Fprintf(stderr, "sqsx: unknown command %q; the commands are send and receive.\nRun 'sqsx help' for usage.\n", cmd)
		}
		return exitUsage
	}
}

// usageError prints a usage problem of subcommand cmd and returns exitUsage.
func usageError(stderr io.Writer, cmd, format string, args ...any) int {
	fmt.Fprintf(stderr, "sqsx %s: %s\nRun 'sqsx %s -h' for usage.\n", cmd, fmt.Sprintf(format, args...), cmd)
	return exitUsage
}

// fail prints err, explained, for subcommand cmd and returns exitError.
func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "sqsx %s: %s\n", cmd, explain(err))
	return exitError
}

// hintedError is an error with advice on what to do next, which explain
// adds to the message.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint returns err with advice on what to do next.
func withHint(err error, hint string) error { return &hintedError{err: err, hint: hint} }

// explain returns err as a message that says what went wrong and, where it
// can tell, what to do about it.
func explain(err error) string {
	if he, ok := err.(*hintedError); ok {
		return explain(he.err) + "\n" + he.hint
	}
	var (
		perr   *payload.Error
		ierr   *sqsx.InputError
		noQ    *types.QueueDoesNotExist
		sendE  *smithyhttp.RequestSendError
		opErr  *smithy.OperationError
		apiErr smithy.APIError
	)
	code := ""
	if errors.As(err, &apiErr) {
		// SQS's JSON protocol may report the query protocol's codes.
		code = strings.TrimPrefix(apiErr.ErrorCode(), "AWS.SimpleQueueService.")
	}
	service := "the service"
	if errors.As(err, &opErr) {
		service = opErr.ServiceID
	}
	const redelivered = "The message stays in the queue and is delivered again after its visibility timeout."
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted"

	case errors.Is(err, sqsx.ErrBucketNotAllowed) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload is in s3://%s/%s, and bucket %s is not allowed: pass --allowed-bucket %s if you trust the sender.\n%s",
			perr.Bucket, perr.Key, perr.Bucket, perr.Bucket, redelivered)

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr) && perr.Op == "PutObject":
		return fmt.Sprintf("bucket %s does not exist (%v).\nCreate it, or pass an existing bucket with --bucket.", perr.Bucket, err)

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload s3://%s/%s does not exist (%s).\n"+
			"It was deleted (perhaps by a consumer that received this message before) or expired, or its bucket is gone. "+
			"%s Remove it with another tool (e.g. aws sqs delete-message), or let a redrive policy move it to a dead-letter queue.",
			perr.Bucket, perr.Key, orDefault(code, "not found"), redelivered)

	case errors.Is(err, sqsx.ErrInvalidPointer):
		return fmt.Sprintf("the message is marked as stored in S3 (it has an %s or %s attribute) but its body is not a valid S3 pointer: %v\n"+
			"It was not sent by an extended client, or was altered. %s",
			sqsx.AttributeName, sqsx.LegacyAttributeName, err, redelivered)

	case errors.As(err, &ierr):
		switch {
		case errors.Is(err, sqsx.ErrTooManyAttributes):
			return fmt.Sprintf("%v\nA message stored in S3 may have at most %d attributes: pass fewer --attr flags.", err, sqsx.MaxAttributes-1)
		case errors.Is(err, sqsx.ErrAttributesTooLarge):
			return fmt.Sprintf("%v\nMove data from the --attr values into the body, or raise --threshold.", err)
		case errors.Is(err, sqsx.ErrEmptyBody):
			return fmt.Sprintf("%v\nSQS does not accept empty messages: send a non-empty body.", err)
		}
		return err.Error()

	case errors.As(err, &noQ) || code == "NonExistentQueue" || code == "QueueDoesNotExist":
		return fmt.Sprintf("the queue does not exist: %v\nCheck --queue-url or --queue, and the region (--region, AWS_REGION); or create the queue.", err)

	case errors.As(err, &sendE):
		env := "AWS_ENDPOINT_URL"
		switch service {
		case "SQS":
			env = "AWS_ENDPOINT_URL_SQS"
		case "S3":
			env = "AWS_ENDPOINT_URL_S3"
		}
		return fmt.Sprintf("could not reach %s: %v\nCheck that the endpoint is up and reachable, and that %s (or AWS_ENDPOINT_URL) and the region are right.",
			service, err, env)

	case strings.Contains(err.Error(), "get credentials") || strings.Contains(err.Error(), "failed to retrieve credentials"):
		return fmt.Sprintf("no usable AWS credentials: %v\nSet AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile with a profile that has credentials.", err)

	case code == "AccessDenied" || code == "AccessDeniedException" || code == "InvalidAccessKeyId" ||
		code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" || code == "UnrecognizedClientException" ||
		code == "ExpiredToken" || code == "InvalidSecurity":
		return fmt.Sprintf("%s refused the request: %v\nCheck the credentials (AWS_ACCESS_KEY_ID, --profile) and that they allow this operation on this queue and bucket.", service, err)

	case code == "InvalidMessageContents":
		return fmt.Sprintf("SQS refused the message body: %v\nSQS accepts only XML characters in a body sent in SQS: use --always-s3, or encode the body (e.g. base64).", err)

	case code == "InvalidParameterValue" || code == "MissingParameter" || code == "InvalidParameterCombination":
		return fmt.Sprintf("SQS refused the request: %v\nCheck the flags against the queue: a FIFO queue needs --group-id, and --dedup-id unless content-based deduplication is on; a standard queue takes no --dedup-id.", err)
	}
	return err.Error()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
