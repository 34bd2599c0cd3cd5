package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const deleteLong = `Deletes messages by receipt handle: the one given with --receipt-handle, or
one per line read from standard input. A handle printed by 'sqsx receive'
(or by another extended client) for a message stored in S3 also names its S3
object: the message is deleted first, then the object, which must be in
--bucket or an --allowed-bucket bucket (or pass --keep-payload to leave it).

Prints what was deleted on standard output, one line (with --output json,
one object: ReceiptHandle, MessageDeleted, Payload, PayloadDeleted) per
handle. If a message is deleted but its object is not, the exit status is 1
and the message says which object is left.`

// deleteFlags are the flags of sqsx delete.
type deleteFlags struct {
	queue       queueFlags
	buckets     bucketFlags
	handle      string
	keepPayload bool
}

func newDeleteCommand() (*cobra.Command, subcommand) {
	f := &deleteFlags{}
	c := &cobra.Command{
		Use:   "delete --queue-url URL | --queue NAME [--bucket BUCKET] [--receipt-handle HANDLE] [flags]",
		Short: "Delete messages by receipt handle, and their S3 payloads",
		Long:  deleteLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	fs.StringVar(&f.handle, "receipt-handle", "", "receipt `HANDLE` of the message (default: one per line from standard input)")
	f.buckets.register(fs, "S3 `BUCKET` of the payloads, which may be deleted", "also delete payloads in `BUCKET` (repeatable)")
	fs.BoolVar(&f.keepPayload, "keep-payload", false, "delete only the messages, and leave their S3 objects")
	return c, f
}

func (f *deleteFlags) check(_ *pflag.FlagSet, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q: pass a receipt handle with --receipt-handle, or on standard input", args[0])
	}
	return errors.Join(f.queue.check(), f.buckets.check())
}

// deleteResult is what sqsx delete --output json prints for each handle.
type deleteResult struct {
	ReceiptHandle  string
	MessageDeleted bool
	Payload        string `json:",omitempty"`
	PayloadDeleted bool
	Error          string `json:",omitempty"`
	Hint           string `json:",omitempty"`
}

func (f *deleteFlags) run(ctx context.Context, u *ui) int {
	var err error
	handles := []string{f.handle}
	if f.handle == "" {
		readStdinNote(u, "receipt handles, one per line,")
		if handles, err = readHandles(ctx, u.stdin); err != nil {
			return u.fail(err)
		}
		if len(handles) == 0 {
			return u.usageError(errors.New("no receipt handle: pass --receipt-handle HANDLE, or handles on standard input, one per line"))
		}
	}
	// Check every handle before deleting anything.
	allowed := f.buckets.all()
	for _, h := range handles {
		rh, err := payload.ParseReceiptHandle(h)
		if err != nil {
			return u.fail(withHint(fmt.Errorf("receipt handle %s: %w", shorten(h), err),
				"Nothing was deleted."))
		}
		if rh.HasPointer() && !f.keepPayload && !slices.Contains(allowed, rh.Pointer.Bucket) {
			return u.fail(withHint(fmt.Errorf("receipt handle %s names payload %s, in bucket %s, which was not given", shorten(h), rh.Pointer, rh.Pointer.Bucket),
				fmt.Sprintf("Pass --bucket %s to delete the message and its payload, or --keep-payload to delete only the message. Nothing was deleted.", rh.Pointer.Bucket)))
		}
	}

	sqsClient, s3Client, err := u.aws.clients(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.buckets.bucket
		o.Logger = u.aws.log
		o.AllowedBuckets = allowed
		o.KeepPayloadsOnDelete = f.keepPayload
	})
	if err != nil {
		return u.fail(err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return u.fail(err)
	}

	code := exitOK
	for _, h := range handles {
		rh, _ := payload.ParseReceiptHandle(h)
		res := deleteResult{ReceiptHandle: h}
		if rh.HasPointer() {
			res.Payload = rh.Pointer.String()
		}
		out, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(h)})
		res.MessageDeleted = out != nil
		res.PayloadDeleted = out != nil && err == nil && rh.HasPointer() && !f.keepPayload
		if err != nil {
			if out != nil {
				err = withHint(fmt.Errorf("the message was deleted, but its payload %s was not: %w", rh.Pointer, err),
					"Delete the object yourself (e.g. aws s3 rm "+rh.Pointer.String()+"), or let an S3 lifecycle rule expire it ('sqsx lifecycle').")
			} else {
				err = fmt.Errorf("deleting the message with receipt handle %s: %w", shorten(h), err)
			}
			res.Error, res.Hint = describe(err)
			code = exitError
		}
		if u.json {
			u.emit(res)
			continue
		}
		if err != nil {
			u.fail(err)
			continue
		}
		switch {
		case res.PayloadDeleted:
			fmt.Fprintf(u.stdout, "deleted message %s and its payload %s\n", shorten(h), res.Payload)
		case rh.HasPointer():
			fmt.Fprintf(u.stdout, "deleted message %s; its payload %s was kept (--keep-payload)\n", shorten(h), res.Payload)
		default:
			fmt.Fprintf(u.stdout, "deleted message %s (the receipt handle names no payload)\n", shorten(h))
		}
	}
	return code
}

// readHandles reads receipt handles, one per non-empty line, from r.
func readHandles(ctx context.Context, r io.Reader) ([]string, error) {
	b, err := readAll(ctx, r, -1, "standard input")
	if err != nil {
		return nil, err
	}
	var handles []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	sc.Buffer(nil, len(b)+1)
	for sc.Scan() {
		if h := strings.TrimSpace(sc.Text()); h != "" {
			handles = append(handles, h)
		}
	}
	return handles, nil
}

// shorten returns a receipt handle shortened for display.
func shorten(h string) string {
	if h2, err := payload.ParseReceiptHandle(h); err == nil && h2.HasPointer() {
		h = h2.Original
	}
	if len(h) <= 24 {
		return h
	}
	return h[:20] + "..."
}
