package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const receiveLong = `Receives up to --max-number-of-messages messages (default 1), waiting up to
--wait-time-seconds for them, and writes each body byte for byte, with
nothing added, to --out, to a file named after the message id in --out-dir,
or to standard output. A body stored in S3 is read from there; only --bucket
and the --allowed-bucket buckets are read, since whoever can send to the
queue chooses the bucket.

Bodies written to --out, --out-dir or standard output stream from S3 in
bounded memory, whatever their size, unless --max-payload-size caps them.
With --output json and neither --out nor --out-dir, the body goes into the
JSON object and so is held in memory: a payload over --max-payload-size
(default there 64MiB) is refused for its message; pass --out-dir to stream
it instead, or raise the cap.

Each message is decided on its own. One that cannot be written (its payload
is missing, in a bucket that is not allowed, not a valid pointer, too large,
or unreadable) is reported, with the command that deletes it where it can
never be read, and is not deleted, even with --delete; with --output json it
is its object with Error, Hint and ErrorCode instead of Body. The other
messages are still written (and, with --delete, deleted), and the exit
status is 1.

With --delete each message is deleted after its body is written, and so is
its S3 object. If the message is deleted but the object is not, a warning is
printed and the exit status is still 0. Without --delete the message becomes
visible again after its visibility timeout; 'sqsx delete' deletes it with
the receipt handle printed in the summary.

A summary (message id, size, attributes, receipt handle) goes to standard
error. With --output json each message is one JSON object on standard
output, with the fields aws-cli prints (MessageId, ReceiptHandle, Body,
Attributes, MessageAttributes) and Size, Offloaded, Payload and Deleted; the
body is in Body unless --out or --out-dir is given. On a terminal, a
progress bar shows the writing of a body larger than 256 KiB. Exit status: 0
received, 1 error (or any message not written, or not deleted with
--delete), 2 invalid usage, 3 no message within --wait-time-seconds.`

// maxVisibilityTimeout is SQS's limit, in seconds (12 hours).
const maxVisibilityTimeout = 43200

// maxReceive is the most messages one ReceiveMessage call returns.
const maxReceive = 10

// receiveFlags are the flags of sqsx receive.
type receiveFlags struct {
	queue      queueFlags
	buckets    bucketFlags
	out        string
	outDir     string
	max        int
	delete     bool
	wait       int
	visibility int
	maxSize    sizeFlag
	json       bool // --output json, set by run
}

// jsonBodyLimit is the default --max-payload-size of a body that receive
// embeds in its JSON output, and so holds in memory: the library's default
// for its in-memory API.
const jsonBodyLimit = payload.DefaultMaxPayloadSize

// bodyLimit returns the largest payload receive reads, or noLimit.
func (f *receiveFlags) bodyLimit() int64 {
	if f.json && f.out == "" && f.outDir == "" {
		return f.maxSize.limit(jsonBodyLimit)
	}
	return f.maxSize.limit(noLimit)
}

func newReceiveCommand() (*cobra.Command, subcommand) {
	f := &receiveFlags{}
	c := &cobra.Command{
		Use:   "receive --queue-url URL | --queue NAME [--bucket BUCKET] [--out FILE | --out-dir DIR] [--delete] [flags]",
		Short: "Receive messages and write their bodies to files or standard output",
		Long:  receiveLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` of the payloads; bodies stored there are read",
		"also read bodies stored in `BUCKET` (repeatable); only for trusted senders")
	fs.StringVar(&f.out, "out", "", "write the body to `FILE` (replaced atomically) instead of standard output")
	fs.StringVar(&f.outDir, "out-dir", "", "write each body to a file named after its message id in `DIR`")
	fs.IntVar(&f.max, "max-number-of-messages", 1, fmt.Sprintf("receive up to `N` messages (1 to %d); more than 1 needs --out-dir or --output json", maxReceive))
	fs.BoolVar(&f.delete, "delete", false, "delete the message, and its S3 object, once the body is written")
	fs.IntVar(&f.wait, "wait-time-seconds", 20, "wait up to `SECONDS` (0 to 20) for a message; 0 uses the queue's ReceiveMessageWaitTimeSeconds")
	fs.IntVar(&f.visibility, "visibility-timeout", 0, fmt.Sprintf("hide the message from other receivers for `SECONDS` (1 to %d; default: the queue's)", maxVisibilityTimeout))
	fs.Var(&f.maxSize, "max-payload-size", "refuse payloads larger than `SIZE` (bytes, or with KiB, MiB, GiB; none for no limit); default: 64MiB for a body in JSON output, else none")
	return c, f
}

// check checks the flags; json: --output json.
func (f *receiveFlags) check(fs *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q; to write the body to a file, pass --out %s", args[0], args[0])
	case f.queue.check() != nil:
		return f.queue.check()
	case f.wait < 0 || f.wait > 20:
		return fmt.Errorf("--wait-time-seconds %d is outside 0..20 (SQS waits at most 20 seconds per request)", f.wait)
	case fs.Changed("visibility-timeout") && (f.visibility < 1 || f.visibility > maxVisibilityTimeout):
		return fmt.Errorf("--visibility-timeout %d is outside 1..%d seconds", f.visibility, maxVisibilityTimeout)
	case f.max < 1 || f.max > maxReceive:
		return fmt.Errorf("--max-number-of-messages %d is outside 1..%d (SQS returns at most %d messages per request)", f.max, maxReceive, maxReceive)
	case f.out != "" && f.outDir != "":
		return errors.New("pass either --out or --out-dir, not both")
	case f.max > 1 && f.out != "":
		return fmt.Errorf("--out names one file, and --max-number-of-messages %d may receive more messages: pass --out-dir instead", f.max)
	}
	return f.buckets.check()
}

func (f *receiveFlags) run(ctx context.Context, u *ui) int {
	f.json = u.json
	if f.max > 1 && f.outDir == "" && !u.json {
		return u.usageError(fmt.Errorf("--max-number-of-messages %d would write several bodies to standard output, where they cannot be told apart: pass --out-dir DIR or --output json", f.max))
	}
	toFile := f.out != "" && f.out != "-"
	// Fail before a message is received, not after.
	if toFile {
		if err := checkOutPath(f.out); err != nil {
			return u.fail(withHint(err, "Pass --out a file in an existing directory; nothing was received."))
		}
	}
	if f.outDir != "" {
		if fi, err := os.Stat(f.outDir); err != nil || !fi.IsDir() {
			return u.fail(withHint(fmt.Errorf("--out-dir %s is not a directory (%v)", f.outDir, err), "Create it first, or pass an existing directory; nothing was received."))
		}
	}

	sqsClient, s3Client, err := u.aws.clients(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := newReceiveClient(sqsClient, s3Client, f, u.aws.log)
	if err != nil {
		return u.fail(err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return u.fail(err)
	}
	return receiveMessages(ctx, u, client, queueURL, f)
}

// newReceiveClient returns the Client with which sqsx receive reads the
// payloads of the queue's messages.
func newReceiveClient(sqsAPI sqsx.SQSAPI, s3API sqsx.S3API, f *receiveFlags, log *slog.Logger) (*sqsx.Client, error) {
	return sqsx.New(sqsAPI, s3API, func(o *sqsx.Options) {
		// The CLI decides per message: one whose payload cannot be
		// resolved comes back as received, to be reported with what to do
		// about it, while the others are written.
		o.Unresolved = sqsx.UnresolvedReturn
		o.Bucket = f.buckets.bucket
		o.AllowedBuckets = f.buckets.all()
		o.Logger = log
	})
}

// receiveMessages receives up to --max-number-of-messages messages from the
// queue at queueURL, writes each one that resolves, and reports each one
// that does not, with the command that deletes it. It returns exitError if any message was not
// written (or, with --delete, not deleted).
func receiveMessages(ctx context.Context, u *ui, client *sqsx.Client, queueURL string, f *receiveFlags) int {
	// Payloads stay in S3 until they are streamed to their destination.
	out, err := client.ReceiveMessageUnresolved(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         int32(f.max),
		WaitTimeSeconds:             int32(f.wait),
		VisibilityTimeout:           int32(f.visibility),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	var ue *sqsx.UnresolvedError
	if err != nil && !errors.As(err, &ue) {
		return u.fail(err)
	}
	if len(out.Messages) == 0 {
		within := "within " + plural(f.wait, "second")
		if f.wait == 0 {
			within = "within the queue's ReceiveMessageWaitTimeSeconds"
		}
		err := withHint(fmt.Errorf("no message arrived %s; the queue is empty, or its messages are in flight (received and not yet visible again)", within),
			"Retry, or raise --wait-time-seconds.")
		if u.json {
			return u.failCode(exitNoMessage, err)
		}
		u.notef("sqsx receive: %s\n", explain(err))
		return exitNoMessage
	}
	// The messages whose payloads could not be resolved are in out as
	// received: pointer body, original receipt handle.
	unresolved := map[string]sqsx.UnresolvedMessage{}
	for _, um := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
		unresolved[um.MessageID] = um
	}
	// A message that cannot be written does not keep the others from being
	// written.
	failed := 0
	for _, m := range out.Messages {
		var code int
		if um, ok := unresolved[aws.ToString(m.MessageId)]; ok {
			res := describeReceived(m)
			res.ErrorCode = um.Code
			code = u.messageFailed(res, unresolvedError(um, deleteCommand(queueURL, aws.ToString(m.ReceiptHandle), u.aws)))
		} else {
			code = receiveOne(ctx, u, client, queueURL, f, m)
		}
		if code != exitOK {
			failed++
		}
	}
	if failed == 0 {
		return exitOK
	}
	if n := len(out.Messages); n > 1 {
		u.notef("sqsx receive: %d of %s written; %d not, as reported above\n", n-failed, plural(n, "message"), failed)
	}
	return exitError
}

// receiveOne writes the body of m where f says, deletes m if asked to, and
// reports it.
func receiveOne(ctx context.Context, u *ui, client *sqsx.Client, queueURL string, f *receiveFlags, m types.Message) int {
	id := aws.ToString(m.MessageId)
	res := describeReceived(m)
	notDeleted := "The message was not deleted; it is delivered again after its visibility timeout."

	limit := f.bodyLimit()
	if res.Offloaded && limit != noLimit && res.Size > limit {
		// Refused before a byte is read.
		res.ErrorCode = sqsx.CodePayloadTooLarge
		return u.messageFailed(res, tooLarge(id, res.Size, limit, f))
	}
	rc, size, err := client.OpenPayload(ctx, m)
	if err != nil {
		// The payload was checked when the message was received, and has
		// changed since: it is explained as if it had failed then, with
		// the handle SQS issued, which deletes only the message.
		um := sqsx.UnresolvedMessage{MessageID: id, Message: m, Code: sqsx.UnresolvedCode(err), Err: err}
		handle := aws.ToString(m.ReceiptHandle)
		if h, perr := payload.ParseReceiptHandle(handle); perr == nil {
			handle = h.Original
		}
		res.ErrorCode = um.Code
		return u.messageFailed(res, unresolvedError(um, deleteCommand(queueURL, handle, u.aws)))
	}
	defer rc.Close()
	if size >= 0 {
		res.Size = size
	}
	var body io.Reader = rc
	if res.Offloaded && limit != noLimit {
		if size > limit {
			res.ErrorCode = sqsx.CodePayloadTooLarge
			return u.messageFailed(res, tooLarge(id, size, limit, f))
		}
		body = &limitedReader{r: rc, left: limit, tooLarge: func(n int64) error { return tooLarge(id, n, limit, f) }}
	}

	path := ""
	switch {
	case f.outDir != "":
		path = filepath.Join(f.outDir, fileName(id))
	case f.out != "" && f.out != "-":
		path = f.out
	}
	res.Out = path
	// The payload streams from S3 to its destination, in bounded memory;
	// into the JSON output it is held whole, within the limit.
	p := newProgress(u.progressOut(), "writing", size, sqsx.DefaultThreshold)
	switch {
	case path != "":
		err = writeFileAtomic(path, func(w io.Writer) error { return copyChunked(p.writer(w), body) })
	case u.json:
		var b strings.Builder
		if size > 0 {
			b.Grow(int(size))
		}
		if err = copyChunked(p.writer(&b), body); err == nil {
			s := b.String()
			res.Body = &s
		}
	default:
		err = copyChunked(p.writer(u.stdout), body)
	}
	p.finish()
	if err != nil {
		var hinted *hintedError
		if !errors.As(err, &hinted) {
			err = withHint(fmt.Errorf("writing the body of message %s: %w", id, err), notDeleted)
		}
		return u.messageFailed(res, err)
	}

	if f.delete {
		deleted := true
		dout, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
		switch {
		case err != nil && dout == nil:
			where := "to standard output"
			if path != "" {
				where = "to " + path
			}
			res.Body = nil
			return u.messageFailed(res, withHint(fmt.Errorf("the body was written %s, but deleting message %s failed: %w", where, id, err),
				"The message is delivered again after its visibility timeout."))
		case err != nil:
			res.Warning = fmt.Sprintf("the message was deleted, but its S3 object was not: %v", err)
		}
		res.Deleted = &deleted
		res.ReceiptHandle = ""
	} else {
		deleted := false
		res.Deleted = &deleted
	}

	if u.json {
		u.emit(res)
		return exitOK
	}
	if res.Warning != "" {
		u.warnf("%s\nDelete it yourself (aws s3 rm %s), or let an S3 lifecycle rule expire it ('sqsx lifecycle').", res.Warning, shellQuote(res.Payload))
	}
	if u.quiet {
		return exitOK
	}
	var b strings.Builder
	b.WriteString("sqsx receive: ")
	res.printHeader(&b)
	if path != "" {
		fmt.Fprintf(&b, "  written to %s\n", path)
	}
	switch {
	case res.Warning != "":
	case f.delete:
		b.WriteString("  deleted\n")
	default:
		fmt.Fprintf(&b, "  not deleted: it is delivered again after its visibility timeout (pass --delete to delete it)\n  receipt handle %s\n", res.ReceiptHandle)
	}
	io.WriteString(u.stderr, b.String())
	return exitOK
}

// describeReceived returns the description of m, a message from
// ReceiveMessageUnresolved, as ReceiveMessage would show it: without the size
// attribute, and with the size of its payload.
func describeReceived(m types.Message) *messageJSON {
	shown := m
	shown.MessageAttributes = maps.Clone(m.MessageAttributes)
	delete(shown.MessageAttributes, sqsx.AttributeName)
	delete(shown.MessageAttributes, sqsx.LegacyAttributeName)
	res := newMessageJSON(shown, sizeAttribute(m))
	res.ReceiptHandle = aws.ToString(m.ReceiptHandle)
	if ptr, ok, err := sqsx.PayloadPointer(m); err == nil && ok {
		res.Offloaded, res.Payload = true, ptr.String()
	}
	return res
}

// messageFailed reports that message res could not be received, and
// returns exitError. With --output json the message's object carries the error and
// the hint, on standard output with the other messages.
func (u *ui) messageFailed(res *messageJSON, err error) int {
	msg, hint := describe(err)
	if !strings.Contains(msg, res.MessageID) {
		msg = fmt.Sprintf("message %s: %s", res.MessageID, msg)
	}
	if !u.json {
		fmt.Fprintf(u.stderr, "sqsx %s: %s\n", u.cmd, joinLines(msg, hint))
		return exitError
	}
	res.Body, res.Deleted = nil, nil
	res.Error, res.Hint = msg, hint
	u.emit(res)
	return exitError
}

// tooLarge is the error for a payload of size bytes (at least size, if
// not known) over limit.
func tooLarge(id string, size, limit int64, f *receiveFlags) error {
	hint := fmt.Sprintf("Pass --max-payload-size %s (or none) to read it.", formatSize(roundUpMiB(size)))
	if f.out == "" && f.outDir == "" && f.json {
		hint = fmt.Sprintf("With --output json the body is held in memory: pass --out-dir DIR to stream it to a file instead, or --max-payload-size %s (or none) if you have the memory.",
			formatSize(roundUpMiB(size)))
	}
	return replaceHint(fmt.Errorf("message %s: %w: its payload is %d bytes, over the %s of --max-payload-size", id, sqsx.ErrPayloadTooLarge, size, formatSize(limit)),
		hint+" The message was not deleted; it is delivered again after its visibility timeout.")
}

// roundUpMiB rounds n bytes up to a whole MiB.
func roundUpMiB(n int64) int64 { return (n + 1<<20 - 1) &^ (1<<20 - 1) }

// limitedReader fails, with tooLarge, once more than left bytes are read.
type limitedReader struct {
	r        io.Reader
	left     int64
	n        int64
	tooLarge func(n int64) error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if int64(n) > l.left {
		return 0, l.tooLarge(l.n)
	}
	l.left -= int64(n)
	return n, err
}

// sizeAttribute returns the payload size an offloaded message announces in
// its size attribute, or the length of its body.
func sizeAttribute(m types.Message) int64 {
	for _, name := range []string{sqsx.AttributeName, sqsx.LegacyAttributeName} {
		if v, ok := m.MessageAttributes[name]; ok {
			if n, err := strconv.ParseInt(aws.ToString(v.StringValue), 10, 64); err == nil {
				return n
			}
		}
	}
	return int64(len(aws.ToString(m.Body)))
}

// unresolvedError explains why the payload of um could not be resolved
// and, chosen by its code, what to do about it: deleteCmd is the command
// that deletes the message, and only the message, for when it can never be
// read.
func unresolvedError(um sqsx.UnresolvedMessage, deleteCmd string) error {
	const stays = "The message was not deleted: it is delivered again after its visibility timeout"
	err := um.Err // messageFailed names the message.
	switch um.Code {
	case sqsx.CodePayloadNotFound:
		return replaceHint(err, "It was deleted (perhaps by a consumer that received this message before) or expired, or its bucket is gone, so the message can never be read. "+
			stays+", each time to fail again: delete it with\n  "+deleteCmd+"\nor let a redrive policy move it to a dead-letter queue.")
	case sqsx.CodeBucketNotAllowed:
		return replaceHint(err, stays+", and fails until its bucket is allowed; to delete the message without reading the object, run\n  "+deleteCmd)
	case sqsx.CodeKeyNotAllowed:
		return replaceHint(err, "Only keys under the allowed prefixes are read, since whoever can send to the queue chooses the key. "+
			stays+"; to delete the message without reading the object, run\n  "+deleteCmd)
	case sqsx.CodeInvalidPointer:
		return replaceHint(err, "It was not sent by an extended client, or was altered, so it can never be read. "+stays+": delete it with\n  "+deleteCmd)
	case sqsx.CodePayloadRejected:
		return replaceHint(err, "S3 refuses it the same way each time, so it can never be read. "+stays+": delete it with\n  "+deleteCmd)
	case sqsx.CodePayloadAccessDenied:
		return replaceHint(err, "S3 answered 403: the credentials lack s3:GetObject on the object, or it does not exist and they lack s3:ListBucket on the bucket. "+
			stays+"; grant the permissions and receive it again, or delete it with\n  "+deleteCmd)
	case sqsx.CodePayloadChecksumMismatch, sqsx.CodePayloadTooLarge:
		return err // describe says what to do.
	}
	// PayloadUnavailable: S3 failed, or the receive was interrupted.
	return withHint(err, stays+"; receive it again then.")
}

// deleteCommand returns the sqsx delete command line that deletes the
// message with receipt handle handle, and only the message, quoted for the
// shell.
func deleteCommand(queueURL, handle string, a *awsFlags) string {
	cmd := "sqsx delete --queue-url " + shellQuote(queueURL) + " --receipt-handle " + shellQuote(handle)
	if a.region != "" {
		cmd += " --region " + shellQuote(a.region)
	}
	if a.profile != "" {
		cmd += " --profile " + shellQuote(a.profile)
	}
	if a.endpointURL != "" {
		cmd += " --endpoint-url " + shellQuote(a.endpointURL)
	}
	return cmd
}

// fileName returns a message id as a safe file name.
func fileName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] == '.' {
		b = append([]byte("msg-"), b...)
	}
	return string(b)
}

// copyChunked copies src to dst in pieces of at most 1 MiB, so that a
// progress bar on dst moves.
func copyChunked(dst io.Writer, src io.Reader) error {
	buf := make([]byte, 1<<20)
	// Hide any WriterTo of src, which would write everything at once.
	_, err := io.CopyBuffer(dst, struct{ io.Reader }{src}, buf)
	return err
}

// checkOutPath reports whether a file can be written at path: its directory
// exists and path is not a directory.
func checkOutPath(path string) error {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("--out %s is a directory: pass a file name", path)
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("--out %s: cannot use directory %s: %w", path, dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("--out %s: %s is not a directory", path, dir)
	}
	return nil
}

// writeFileAtomic writes a file at path with write, through a temporary
// file in the same directory, so that path never holds a partial body. A
// path that exists and is not a regular file (such as /dev/null or a named
// pipe) is written in place.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		err = write(f)
		return errors.Join(err, f.Close())
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".sqsx-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
