package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

const peekLong = `Shows up to --max-number-of-messages messages of a queue without consuming
them: each is received with a short visibility timeout and made visible
again at once. For each message it prints the id, size, attributes and, for
a body stored in S3, the s3:// pointer. With --body it also prints the
bodies, read from S3 where they are stored (only from --bucket and the
--allowed-bucket buckets). A body is held in memory to be shown: a payload
over --max-payload-size (default 64MiB) is not read, and its message is
shown with the error (with --output json, in Error, Hint and ErrorCode); so
is one whose payload is missing or in a bucket that is not allowed. The
other messages are shown all the same, and the exit status is 1.

A peek is a receive for SQS: it raises the messages' receive count, so on a
queue with a redrive policy it brings them closer to the dead-letter queue,
and it may briefly hide them from consumers. SQS may return fewer messages
than there are.

Prints on standard output, or one JSON object per message with --output
json, with the fields of receive. Exit status: 0 shown, 1 error, 2 invalid
usage, 3 no message within --wait-time-seconds.`

// peekVisibility is how long, in seconds, peek hides the messages it
// receives. They are made visible again at once; this bounds how long they
// stay hidden if that fails, and is long enough that the reset does not race
// with another consumer's receive of the same message.
const peekVisibility = 5

// peekFlags are the flags of sqsx peek.
type peekFlags struct {
	queue   queueFlags
	buckets bucketFlags
	max     int
	wait    int
	body    bool
	maxSize sizeFlag
}

func newPeekCommand() (*cobra.Command, subcommand) {
	f := &peekFlags{}
	c := &cobra.Command{
		Use:   "peek --queue-url URL | --queue NAME [--max-number-of-messages N] [--body --bucket BUCKET] [flags]",
		Short: "Show the messages in a queue without consuming them",
		Long:  peekLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	fs.IntVar(&f.max, "max-number-of-messages", maxReceive, fmt.Sprintf("show up to `N` messages (1 to %d)", maxReceive))
	fs.IntVar(&f.wait, "wait-time-seconds", 1, "wait up to `SECONDS` (0 to 20) for messages")
	fs.BoolVar(&f.body, "body", false, "also print the bodies, read from S3 where stored")
	f.buckets.register(fs, "S3 `BUCKET` of the payloads, read with --body", "also read bodies stored in `BUCKET` with --body (repeatable)")
	fs.Var(&f.maxSize, "max-payload-size", "with --body, do not read payloads larger than `SIZE` (bytes, or with KiB, MiB, GiB; none for no limit) (default 64MiB)")
	return c, f
}

func (f *peekFlags) check(_ *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case f.queue.check() != nil:
		return f.queue.check()
	case f.max < 1 || f.max > maxReceive:
		return fmt.Errorf("--max-number-of-messages %d is outside 1..%d (SQS returns at most %d messages per request)", f.max, maxReceive, maxReceive)
	case f.wait < 0 || f.wait > 20:
		return fmt.Errorf("--wait-time-seconds %d is outside 0..20 (SQS waits at most 20 seconds per request)", f.wait)
	}
	return f.buckets.check()
}

func (f *peekFlags) run(ctx context.Context, u *ui) int {
	cfg, sqsClient, queueURL, err := u.aws.openQueue(ctx, &f.queue)
	if err != nil {
		return u.fail(err)
	}
	// The plain SQS client: the messages as they are on the wire, pointers
	// and all.
	out, err := sqsClient.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(queueURL),
		MaxNumberOfMessages:         int32(f.max),
		WaitTimeSeconds:             int32(f.wait),
		VisibilityTimeout:           peekVisibility,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		return u.fail(err)
	}
	if len(out.Messages) == 0 {
		err := withHint(fmt.Errorf("no message arrived within %s; the queue is empty, or its messages are in flight", plural(f.wait, "second")),
			"Retry, or raise --wait-time-seconds.")
		if u.json {
			return u.failCode(exitNoMessage, err)
		}
		u.notef("sqsx peek: %s\n", explain(err))
		return exitNoMessage
	}
	resetErr := makeVisible(ctx, sqsClient, queueURL, out.Messages)

	var store *payload.Store
	if f.body {
		store, err = payload.NewStore(u.aws.s3(cfg), payload.StoreOptions{
			Bucket: f.buckets.bucket, AllowedBuckets: f.buckets.all(),
			MaxPayloadSize: f.maxSize.limit(0), // noLimit is negative: none
		})
		if err != nil {
			return u.fail(err)
		}
	}
	code := exitOK
	for _, m := range out.Messages {
		res := describeWire(m)
		if f.body {
			// Each body is read on its own: one that cannot be read is
			// reported with its message, and the others are shown.
			if err := peekBody(ctx, store, m, res); err != nil {
				res.Error, res.Hint = describe(err)
				res.ErrorCode = sqsx.UnresolvedCode(err)
				code = exitError
			}
		}
		if u.json {
			u.emit(res)
			continue
		}
		res.printHeader(u.stdout)
		switch {
		case res.Error != "":
			fmt.Fprintf(u.stdout, "  body not shown: %s\n", strings.ReplaceAll(joinLines(res.Error, res.Hint), "\n", "\n  "))
		case res.Body != nil:
			fmt.Fprintf(u.stdout, "  body:\n%s", *res.Body)
			if !strings.HasSuffix(*res.Body, "\n") {
				fmt.Fprintln(u.stdout)
			}
		}
	}
	if resetErr != nil {
		u.warnf("%v: they stay hidden for up to %s", resetErr, plural(peekVisibility, "second"))
	}
	return code
}

// peekBody sets the body of res, the description of m: m's body, or its
// payload read from store.
func peekBody(ctx context.Context, store *payload.Store, m types.Message, res *messageJSON) error {
	body := aws.ToString(m.Body)
	if res.Offloaded {
		ptr, err := wirePointer(m)
		if err == nil {
			body, err = store.Get(ctx, ptr)
		}
		switch {
		case errors.Is(err, payload.ErrTooLarge):
			return replaceHint(fmt.Errorf("reading the body of message %s: %w", res.MessageID, err),
				fmt.Sprintf("Pass --max-payload-size %s (or none) to show it, or stream it to a file with 'sqsx receive --out FILE'.", formatSize(roundUpMiB(res.Size))))
		case err != nil:
			return fmt.Errorf("reading the body of message %s: %w", res.MessageID, err)
		}
	}
	res.Body = &body
	return nil
}

// makeVisible makes the received messages visible again at once.
func makeVisible(ctx context.Context, c *sqs.Client, queueURL string, msgs []types.Message) error {
	entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, len(msgs))
	for i, m := range msgs {
		entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 0,
		}
	}
	out, err := c.ChangeMessageVisibilityBatch(ctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
	if err != nil {
		return fmt.Errorf("could not make the peeked messages visible again: %w", err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("could not make %d of the peeked messages visible again: %s", len(out.Failed), aws.ToString(out.Failed[0].Message))
	}
	return nil
}

// snsEnvelope is the part of an SNS notification that peek reads.
type snsEnvelope struct {
	Type              string
	Message           string
	MessageAttributes map[string]struct{ Type, Value string }
}

// wirePointer returns the pointer of a message as it is on the wire: its
// body, or the Message of its SNS envelope, if it carries a size attribute.
func wirePointer(m types.Message) (payload.Pointer, error) {
	if _, ok := m.MessageAttributes[payload.AttributeName]; ok {
		return payload.DecodePointer(aws.ToString(m.Body))
	}
	if _, ok := m.MessageAttributes[payload.LegacyAttributeName]; ok {
		return payload.DecodePointer(aws.ToString(m.Body))
	}
	if env, ok := parseSNSEnvelope(aws.ToString(m.Body)); ok {
		return payload.DecodePointer(env.Message)
	}
	return payload.Pointer{}, errors.New("not offloaded")
}

// parseSNSEnvelope returns the SNS envelope of an offloaded message
// delivered without raw delivery.
func parseSNSEnvelope(body string) (snsEnvelope, bool) {
	var env snsEnvelope
	if !strings.HasPrefix(strings.TrimSpace(body), "{") || json.Unmarshal([]byte(body), &env) != nil || env.Type != "Notification" {
		return env, false
	}
	_, a := env.MessageAttributes[payload.AttributeName]
	_, b := env.MessageAttributes[payload.LegacyAttributeName]
	return env, a || b
}

// describeWire describes a message as received by the plain SQS client.
func describeWire(m types.Message) *messageJSON {
	body := aws.ToString(m.Body)
	res := newMessageJSON(m, int64(len(body)))
	sizeAttr := ""
	for _, name := range []string{payload.AttributeName, payload.LegacyAttributeName} {
		if v, ok := m.MessageAttributes[name]; ok {
			sizeAttr = aws.ToString(v.StringValue)
		}
	}
	if sizeAttr == "" {
		if env, ok := parseSNSEnvelope(body); ok {
			res.SNSEnvelope = true
			for _, name := range []string{payload.AttributeName, payload.LegacyAttributeName} {
				if v, ok := env.MessageAttributes[name]; ok {
					sizeAttr = v.Value
				}
			}
		}
	}
	if ptr, err := wirePointer(m); err == nil {
		res.Offloaded, res.Payload = true, ptr.String()
		if n, err := strconv.ParseInt(sizeAttr, 10, 64); err == nil {
			res.Size = n
		}
	}
	return res
}
