package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

const publishUsage = `Usage: sqsx publish --topic-arn ARN --bucket BUCKET [--file FILE] [flags]

Publishes one message to an SNS topic. The body is read from --file, or from
standard input when --file is not given (or is -). A message larger than
--threshold (body plus attributes; at most 256 KiB, SNS's limit), or any
message with --always-s3, has its body stored in S3 in --bucket and a pointer
published in its place. Every queue subscribed to the topic gets the pointer;
sqsx receive resolves it with or without raw message delivery.

A body published in SNS itself must be UTF-8 text: one that is not is
refused before anything is sent or stored, with the offset of its first
invalid byte, and the exit status is 2. A body stored in S3 is stored as it
is, with a warning: the Java and Python extended clients read payloads as
UTF-8 text.

Subscribers share a payload, so none of them deletes it: it is marked as
shared, and an S3 lifecycle rule must expire it (see 'sqsx lifecycle'). For a
topic with a single subscriber, --deletable-by-consumers lets that consumer
delete it with the message.

Prints the message id on standard output (with --json, an object) and a
summary on standard error.

Flags:
`

// publishFlags are the parsed flags of sqsx publish.
type publishFlags struct {
	common     commonFlags
	sse        sseFlags
	topicARN   string
	bucket     string
	file       string
	attrs      attrsFlag
	subject    string
	groupID    string
	dedupID    string
	alwaysS3   bool
	deletable  bool
	threshold  int64
	legacyAttr bool
	keyPrefix  string
}

// parsePublish parses and checks the flags of sqsx publish.
func parsePublish(args []string) (*publishFlags, *flag.FlagSet, error) {
	f := &publishFlags{}
	fs := flag.NewFlagSet("sqsx publish", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.topicARN, "topic-arn", "", "`ARN` of the SNS topic (required)")
	fs.StringVar(&f.bucket, "bucket", "", "S3 `BUCKET` that receives bodies stored in S3 (required)")
	fs.StringVar(&f.file, "file", "", "read the body from `FILE` (default: standard input)")
	fs.Var(&f.attrs, "attr", "message attribute `NAME=Type:value`, Type String, Number or Binary (base64 value), optionally with a .label; repeatable")
	fs.StringVar(&f.subject, "subject", "", "`SUBJECT` of the message (for e-mail subscriptions; ASCII, under 100 characters)")
	fs.StringVar(&f.groupID, "group-id", "", "message group `ID` (required for FIFO topics)")
	fs.StringVar(&f.dedupID, "dedup-id", "", "message deduplication `ID` (FIFO topics)")
	fs.BoolVar(&f.alwaysS3, "always-s3", false, "store the body in S3 whatever its size")
	fs.BoolVar(&f.deletable, "deletable-by-consumers", false, "let consumers delete the payload with their message (only for a topic with one subscriber)")
	fs.Int64Var(&f.threshold, "threshold", snsx.DefaultThreshold, fmt.Sprintf("store bodies of messages larger than `N` bytes in S3 (1 to %d)", snsx.MaxMessageSize))
	fs.BoolVar(&f.legacyAttr, "legacy-attribute", false, "mark offloaded messages with "+sqsx.LegacyAttributeName+" instead of "+sqsx.AttributeName)
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "`PREFIX` of the S3 keys of stored bodies")
	f.sse.register(fs)
	f.common.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected argument %q: flags must come before it; to publish a file, pass --file %s", fs.Arg(0), fs.Arg(0))
	case f.topicARN == "":
		return nil, fs, errors.New("--topic-arn is required")
	case !validTopicARN(f.topicARN):
		return nil, fs, fmt.Errorf("--topic-arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", f.topicARN)
	case f.bucket == "":
		return nil, fs, errors.New("--bucket is required: the S3 bucket that receives bodies too large for SNS")
	case f.threshold < 1 || f.threshold > snsx.MaxMessageSize:
		return nil, fs, fmt.Errorf("--threshold %d is outside 1..%d (to store every body in S3, use --always-s3)", f.threshold, snsx.MaxMessageSize)
	case strings.HasSuffix(f.topicARN, ".fifo") && f.groupID == "":
		return nil, fs, errors.New("the topic is a FIFO topic (its name ends in .fifo): pass --group-id")
	}
	if msg := checkSubject(f.subject); msg != "" {
		return nil, fs, fmt.Errorf("--subject: %s", msg)
	}
	if err := checkBuckets(f.bucket, nil); err != nil {
		return nil, fs, err
	}
	if err := payload.ValidateKeyPrefix(f.keyPrefix); err != nil {
		return nil, fs, fmt.Errorf("--key-prefix: %v", err)
	}
	if err := f.sse.check(); err != nil {
		return nil, fs, err
	}
	return f, fs, nil
}

// validTopicARN reports whether s looks like an SNS topic ARN.
func validTopicARN(s string) bool {
	parts := strings.Split(s, ":")
	return len(parts) == 6 && parts[0] == "arn" && parts[1] != "" && parts[2] == "sns" && parts[5] != ""
}

// checkSubject returns what is wrong with an SNS subject, or "".
func checkSubject(s string) string {
	if len(s) >= 100 {
		return fmt.Sprintf("%d characters; SNS allows at most 99", len(s))
	}
	for _, r := range s {
		if r < ' ' || r > '~' {
			return fmt.Sprintf("character %q: SNS takes printable ASCII, with no line breaks", r)
		}
	}
	return ""
}

// publishResult is what sqsx publish --json prints.
type publishResult struct {
	MessageID      string `json:"message_id"`
	SequenceNumber string `json:"sequence_number,omitempty"`
	Size           int64  `json:"size"`
	AttributesSize int64  `json:"attributes_size"`
	Offloaded      bool   `json:"offloaded"`
	Bucket         string `json:"bucket,omitempty"`
	Shared         bool   `json:"shared,omitempty"`
	Warning        string `json:"warning,omitempty"`
}

func runPublish(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	u := newUI("publish", args, stdout, stderr)
	f, fs, err := parsePublish(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, publishUsage, fs)
		return exitOK
	}
	if err != nil {
		return u.usageError(err)
	}
	u.set(&f.common)

	r, inSize, err := openBody(f.file, stdin)
	if err != nil {
		return u.fail(err)
	}
	defer r.Close()
	if f.file == "" || f.file == "-" {
		readStdinNote(stdin, u, "the message body")
	}
	p := newProgress(u.progressOut(), "publishing", inSize, f.threshold)
	defer p.finish()
	// A body published in SNS itself must be UTF-8 text; a larger one
	// streams to S3 as it is (checked before anything is stored or sent),
	// and is never held whole.
	attrs := snsAttributes(f.attrs.values)
	text := &utf8Check{r: p.reader(r), badAt: -1}
	body, head, err := readHead(text, f.threshold-f.attrs.size())
	if err != nil {
		return u.fail(withHint(fmt.Errorf("reading the message body: %w", err), "Check the input and retry; nothing was sent."))
	}
	if head != nil {
		if err := checkInlineBody(head, !f.alwaysS3, false); err != nil {
			return u.failCode(exitUsage, err)
		}
	}
	cfg, err := f.common.aws.config(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := snsx.New(sns.NewFromConfig(cfg), f.common.aws.s3(cfg), func(o *snsx.Options) {
		o.Bucket = f.bucket
		o.KeyPrefix = f.keyPrefix
		o.Threshold = f.threshold
		o.AlwaysThroughS3 = f.alwaysS3
		o.DeletableByConsumers = f.deletable
		if f.legacyAttr {
			o.AttributeName = sqsx.LegacyAttributeName
		}
		f.sse.apply(&o.StoreOptions)
	})
	if err != nil {
		return u.fail(err)
	}
	in := &sns.PublishInput{
		TopicArn:          aws.String(f.topicARN),
		MessageAttributes: attrs,
	}
	if f.subject != "" {
		in.Subject = aws.String(f.subject)
	}
	if f.groupID != "" {
		in.MessageGroupId = aws.String(f.groupID)
	}
	if f.dedupID != "" {
		in.MessageDeduplicationId = aws.String(f.dedupID)
	}
	out, err := client.PublishStream(ctx, in, body)
	if err != nil {
		return u.fail(err)
	}
	p.finish()

	md, _ := snsx.GetOffloadMetadata(out.ResultMetadata)
	res := publishResult{
		MessageID:      aws.ToString(out.MessageId),
		SequenceNumber: aws.ToString(out.SequenceNumber),
		Size:           md.Size,
		AttributesSize: md.AttributesSize,
		Offloaded:      md.Offloaded,
		Bucket:         md.Pointer.Bucket,
		Shared:         md.Offloaded && !f.deletable,
	}
	if text.badAt >= 0 {
		res.Warning = notTextWarning(text.badAt)
	}
	if u.json {
		u.emit(res)
		return exitOK
	}
	fmt.Fprintln(stdout, res.MessageID)
	if res.Warning != "" {
		u.warnf("%s", res.Warning)
	}
	where := strings.Replace(offloadSummary(md, "SNS"), "body sent in", "body published in", 1)
	if res.Shared {
		where += "; subscribers do not delete it: expire it with 'sqsx lifecycle'"
	}
	u.notef("sqsx publish: published message %s: %d bytes, %s\n", res.MessageID, md.Size, where)
	return exitOK
}

// snsAttributes converts --attr values to SNS message attributes.
func snsAttributes(attrs attrsMap) map[string]snstypes.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := make(map[string]snstypes.MessageAttributeValue, len(attrs))
	for name, v := range attrs {
		out[name] = snstypes.MessageAttributeValue{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	}
	return out
}
