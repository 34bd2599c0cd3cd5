package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const receiveUsage = `Usage: sqsx receive --queue-url URL | --queue NAME [--bucket BUCKET] [--out FILE] [--delete] [flags]

Receives one message, waiting up to --wait seconds for it, and writes its body
byte for byte, with nothing added, to --out or standard output. A body stored
in S3 is read from there; only --bucket and the --allowed-bucket buckets are
read, since whoever can send to the queue chooses the bucket.

With --delete the message is deleted after its body is written, and so is its
S3 object. If the message is deleted but the object is not, a warning is
printed and the exit status is still 0. Without --delete the message becomes
visible again after its visibility timeout.

A summary (message id, size, attributes) goes to standard error.
Exit status: 0 received, 1 error, 2 invalid usage, 3 no message within --wait.

Flags:
`

// maxVisibilityTimeout is SQS's limit, in seconds (12 hours).
const maxVisibilityTimeout = 43200

// receiveFlags are the parsed flags of sqsx receive.
type receiveFlags struct {
	queue      queueFlags
	aws        awsFlags
	bucket     string
	allowed    stringsFlag
	out        string
	delete     bool
	wait       int
	visibility int
}

// parseReceive parses and checks the flags of sqsx receive. It returns a
// usage problem as an error, or flag.ErrHelp.
func parseReceive(args []string) (*receiveFlags, *flag.FlagSet, error) {
	f := &receiveFlags{}
	fs := flag.NewFlagSet("sqsx receive", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.queue.register(fs)
	fs.StringVar(&f.bucket, "bucket", "", "S3 `BUCKET` of the payloads; bodies stored there are read")
	fs.Var(&f.allowed, "allowed-bucket", "also read bodies stored in `BUCKET` (repeatable); only for trusted senders")
	fs.StringVar(&f.out, "out", "", "write the body to `FILE` (replaced atomically) instead of standard output")
	fs.BoolVar(&f.delete, "delete", false, "delete the message, and its S3 object, once the body is written")
	fs.IntVar(&f.wait, "wait", 20, "wait up to `SECONDS` (0 to 20) for a message; 0 uses the queue's ReceiveMessageWaitTimeSeconds")
	fs.IntVar(&f.visibility, "visibility-timeout", 0, fmt.Sprintf("hide the message from other receivers for `SECONDS` (1 to %d; default: the queue's)", maxVisibilityTimeout))
	f.aws.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	visibilitySet := false
	fs.Visit(func(fl *flag.Flag) { visibilitySet = visibilitySet || fl.Name == "visibility-timeout" })
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected argument %q: flags must come before it; to write the body to a file, pass --out %s", fs.Arg(0), fs.Arg(0))
	case f.queue.check() != "":
		return nil, fs, errors.New(f.queue.check())
	case f.wait < 0 || f.wait > 20:
		return nil, fs, fmt.Errorf("--wait %d is outside 0..20 (SQS waits at most 20 seconds per request)", f.wait)
	case visibilitySet && (f.visibility < 1 || f.visibility > maxVisibilityTimeout):
		return nil, fs, fmt.Errorf("--visibility-timeout %d is outside 1..%d seconds", f.visibility, maxVisibilityTimeout)
	}
	if f.bucket != "" {
		if err := payload.ValidateBucketName(f.bucket); err != nil {
			return nil, fs, fmt.Errorf("--bucket: %v", err)
		}
	}
	for _, b := range f.allowed {
		if err := payload.ValidateBucketName(b); err != nil {
			return nil, fs, fmt.Errorf("--allowed-bucket: %v", err)
		}
	}
	return f, fs, nil
}

func runReceive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	const cmd = "receive"
	f, fs, err := parseReceive(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, receiveUsage, fs)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, cmd, "%v", err)
	}
	toFile := f.out != "" && f.out != "-"
	if toFile {
		// Fail before a message is received, not after.
		if err := checkOutPath(f.out); err != nil {
			return fail(stderr, cmd, err)
		}
	}

	sqsClient, s3Client, err := f.aws.clients(ctx)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	allowed := slices.Clone([]string(f.allowed))
	if f.bucket != "" && !slices.Contains(allowed, f.bucket) {
		allowed = append(allowed, f.bucket)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.bucket
		o.AllowedBuckets = allowed
	})
	if err != nil {
		return fail(stderr, cmd, err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return fail(stderr, cmd, err)
	}

	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         1,
		WaitTimeSeconds:             int32(f.wait),
		VisibilityTimeout:           int32(f.visibility),
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return fail(stderr, cmd, err)
	}
	if len(out.Messages) == 0 {
		within := "within " + plural(f.wait, "second")
		if f.wait == 0 {
			within = "within the queue's ReceiveMessageWaitTimeSeconds"
		}
		fmt.Fprintf(stderr, "sqsx receive: no message arrived %s; the queue is empty, or its messages are in flight (received and not yet visible again). Retry, or raise --wait.\n", within)
		return exitNoMessage
	}
	m := out.Messages[0]
	body := aws.ToString(m.Body)

	if toFile {
		err = writeFileAtomic(f.out, body)
	} else {
		_, err = io.WriteString(stdout, body)
	}
	if err != nil {
		return fail(stderr, cmd, withHint(fmt.Errorf("writing the body of message %s: %w", aws.ToString(m.MessageId), err),
			"The message was not deleted; it is delivered again after its visibility timeout."))
	}

	var deleteWarning error
	if f.delete {
		dout, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: m.ReceiptHandle})
		switch {
		case err != nil && dout == nil:
			where := "to standard output"
			if toFile {
				where = "to " + f.out
			}
			return fail(stderr, cmd, withHint(fmt.Errorf("the body was written %s, but deleting message %s failed: %w", where, aws.ToString(m.MessageId), err),
				"The message is delivered again after its visibility timeout."))
		case err != nil:
			deleteWarning = err
		}
	}

	printSummary(stderr, m, len(body), f, toFile, deleteWarning)
	return exitOK
}

// printSummary prints what was received and done to w.
func printSummary(w io.Writer, m types.Message, size int, f *receiveFlags, toFile bool, deleteWarning error) {
	fmt.Fprintf(w, "sqsx receive: message %s: %d bytes", aws.ToString(m.MessageId), size)
	if h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle)); err == nil && h.HasPointer() {
		fmt.Fprintf(w, ", body stored in S3 at %s", h.Pointer)
	} else {
		fmt.Fprint(w, ", body sent in SQS")
	}
	if n, ok := m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; ok {
		fmt.Fprintf(w, ", receive count %s", n)
	}
	if g, ok := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; ok {
		fmt.Fprintf(w, ", group %s", g)
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(m.MessageAttributes))
	for name := range m.MessageAttributes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  attribute %s\n", formatAttribute(name, m.MessageAttributes[name]))
	}
	if toFile {
		fmt.Fprintf(w, "  written to %s\n", f.out)
	}
	switch {
	case deleteWarning != nil:
		fmt.Fprintf(w, "sqsx receive: warning: the message was deleted, but its S3 object was not: %v\n"+
			"Delete the object yourself, or let an S3 lifecycle rule expire it.\n", deleteWarning)
	case f.delete:
		fmt.Fprintln(w, "  deleted")
	default:
		fmt.Fprintln(w, "  not deleted: it is delivered again after its visibility timeout (pass --delete to delete it)")
	}
}

// formatAttribute returns an attribute in the name=Type:value form of
// sqsx send --attr, Binary values in base64, long values shortened.
func formatAttribute(name string, v types.MessageAttributeValue) string {
	value := aws.ToString(v.StringValue)
	if v.BinaryValue != nil {
		value = base64.StdEncoding.EncodeToString(v.BinaryValue)
	}
	const maxShown = 80
	if len(value) > maxShown {
		cut := maxShown
		for cut > 0 && !isRuneStart(value[cut]) {
			cut--
		}
		value = fmt.Sprintf("%s... (%d bytes)", value[:cut], len(value))
	}
	return fmt.Sprintf("%s=%s:%s", name, aws.ToString(v.DataType), value)
}

// plural returns "1 second", "2 seconds" and so on.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

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

// writeFileAtomic writes body to path through a temporary file in the same
// directory, so that path never holds a partial body. A path that exists and
// is not a regular file (such as /dev/null or a named pipe) is written in
// place.
func writeFileAtomic(path, body string) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, body)
		return errors.Join(err, f.Close())
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".sqsx-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	_, err = io.WriteString(f, body)
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
