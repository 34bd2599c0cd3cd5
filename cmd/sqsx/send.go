package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
)

const sendLong = `Sends one message. The body is read from --file, or from standard input when
--file is not given (or is -). A message larger than --threshold (body plus
attributes), or any message with --always-s3, has its body stored in S3 in
--bucket and a pointer sent in its place.

The body is sent byte for byte. A body sent in SQS itself must be text, as
SQS requires: UTF-8, without control characters other than tab, LF and CR.
One that is not is refused before anything is sent or stored, with the
offset of its first bad byte, and the exit status is 2. A body stored in S3
(over --threshold, or with --always-s3) is stored as it is, so binary data
can be sent with --always-s3: sqsx receive and the Go library give back the
same bytes, but the Java and Python extended clients read payloads as UTF-8
text, so for them send text (e.g. base64). Such a body is sent with a
warning.

Prints the message id on standard output (with --output json, an object with
MessageId, MD5OfMessageBody, SequenceNumber, Size, Offloaded and Payload)
and a summary on standard error. On a terminal, a progress bar shows the
reading of a body larger than the threshold.`

// maxDelay is SQS's longest message delay, in seconds (15 minutes).
const maxDelay = 900

// sendFlags are the flags of sqsx send.
type sendFlags struct {
	queue          queueFlags
	buckets        bucketFlags
	sse            sseFlags
	file           string
	attrs          attrsFlag
	groupID        string
	dedupID        string
	delay          int
	alwaysS3       bool
	threshold      int64
	thresholdQueue bool
	legacyAttr     bool
	keyPrefix      string
}

func newSendCommand() (*cobra.Command, subcommand) {
	f := &sendFlags{}
	c := &cobra.Command{
		Use:   "send --queue-url URL | --queue NAME  --bucket BUCKET [--file FILE] [flags]",
		Short: "Send one message, read from a file or standard input",
		Long:  sendLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` that receives bodies stored in S3 (required)", "")
	fs.StringVar(&f.file, "file", "", "read the body from `FILE` (default: standard input)")
	fs.Var(&f.attrs, "attr", "message attribute `NAME=Type:value`, Type String, Number or Binary (base64 value), optionally with a .label; repeatable")
	fs.StringVar(&f.groupID, "message-group-id", "", "message group `ID` (required for FIFO queues)")
	fs.StringVar(&f.dedupID, "message-deduplication-id", "", "message deduplication `ID` (FIFO queues)")
	fs.IntVar(&f.delay, "delay-seconds", 0, fmt.Sprintf("deliver the message after `SECONDS` (0 to %d; not for FIFO queues)", maxDelay))
	fs.BoolVar(&f.alwaysS3, "always-s3", false, "store the body in S3 whatever its size")
	fs.Int64Var(&f.threshold, "threshold", sqsx.DefaultThreshold, fmt.Sprintf("store bodies of messages larger than `N` bytes in S3 (1 to %d)", sqsx.MaxMessageSize))
	fs.BoolVar(&f.thresholdQueue, "threshold-from-queue", false, "use the queue's MaximumMessageSize as the threshold instead of --threshold")
	fs.BoolVar(&f.legacyAttr, "legacy-attribute", false, "mark offloaded messages with "+sqsx.LegacyAttributeName+" (for old Java consumers) instead of "+sqsx.AttributeName)
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "`PREFIX` of the S3 keys of stored bodies")
	f.sse.register(fs)
	return c, f
}

func (f *sendFlags) check(fs *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q; to send a file, pass --file %s", args[0], args[0])
	case f.queue.check() != nil:
		return f.queue.check()
	case f.buckets.bucket == "":
		return errors.New("--bucket is required: the S3 bucket that receives bodies too large for SQS")
	case f.threshold < 1 || f.threshold > sqsx.MaxMessageSize:
		return fmt.Errorf("--threshold %d is outside 1..%d (to store every body in S3, use --always-s3)", f.threshold, sqsx.MaxMessageSize)
	case fs.Changed("threshold") && f.thresholdQueue:
		return errors.New("pass either --threshold or --threshold-from-queue, not both")
	case f.queue.fifo() && f.groupID == "":
		return errors.New("the queue is a FIFO queue (its name ends in .fifo): pass --message-group-id")
	case f.delay < 0 || f.delay > maxDelay:
		return fmt.Errorf("--delay-seconds %d is outside 0..%d seconds", f.delay, maxDelay)
	case f.delay > 0 && f.queue.fifo():
		return errors.New("--delay-seconds is not supported by FIFO queues (set the queue's DelaySeconds instead)")
	}
	return errors.Join(f.buckets.check(), checkKeyPrefix(f.keyPrefix), f.sse.check())
}

// sendResult is what sqsx send --output json prints: the fields of
// aws-cli's send-message output, then what sqsx adds.
type sendResult struct {
	MessageID              string `json:"MessageId"`
	MD5OfMessageBody       string `json:",omitempty"`
	MD5OfMessageAttributes string `json:",omitempty"`
	SequenceNumber         string `json:",omitempty"`
	offloadResult
}

func (f *sendFlags) run(ctx context.Context, u *ui) int {
	b, err := openOutgoing(u, f.file, "sending", f.threshold)
	if err != nil {
		return u.fail(err)
	}
	defer b.close()

	sqsClient, s3Client, err := u.aws.clients(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.buckets.bucket
		o.Logger = u.aws.log
		o.KeyPrefix = f.keyPrefix
		o.Threshold = f.threshold
		o.ThresholdFromQueue = f.thresholdQueue
		o.AlwaysThroughS3 = f.alwaysS3
		if f.legacyAttr {
			o.AttributeName = sqsx.LegacyAttributeName
		}
		f.sse.apply(&o.StoreOptions)
	})
	if err != nil {
		return u.fail(err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return u.fail(err)
	}
	threshold, err := client.Threshold(ctx, queueURL)
	if err != nil {
		return u.fail(err)
	}
	// What the Client could still send in SQS itself, as
	// SendMessageStream counts it.
	body, code, err := b.start(threshold-f.attrs.size(), !f.alwaysS3, true)
	if err != nil {
		return u.failCode(code, err)
	}

	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(queueURL),
		MessageAttributes: f.attrs.values,
		DelaySeconds:      int32(f.delay),
	}
	if f.groupID != "" {
		in.MessageGroupId = aws.String(f.groupID)
	}
	if f.dedupID != "" {
		in.MessageDeduplicationId = aws.String(f.dedupID)
	}
	out, err := client.SendMessageStream(ctx, in, body)
	if err != nil {
		return u.fail(err)
	}
	b.p.finish()

	md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata)
	res := sendResult{
		MessageID:              aws.ToString(out.MessageId),
		MD5OfMessageBody:       aws.ToString(out.MD5OfMessageBody),
		MD5OfMessageAttributes: aws.ToString(out.MD5OfMessageAttributes),
		SequenceNumber:         aws.ToString(out.SequenceNumber),
		offloadResult:          b.result(md),
	}
	summary := fmt.Sprintf("sent message %s: %d bytes", res.MessageID, md.Size)
	if md.AttributesSize > 0 {
		summary += fmt.Sprintf(" + %d bytes of attributes", md.AttributesSize)
	}
	summary += ", " + offloadSummary(md, "SQS")
	if out.SequenceNumber != nil {
		summary += ", sequence number " + aws.ToString(out.SequenceNumber)
	}
	return printSent(u, res, res.MessageID, res.Warning, summary)
}
