package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/snsx"
)

const publishLong = `Publishes one message to an SNS topic. The body is read from --file, or from
standard input when --file is not given (or is -). A message larger than
--threshold (body plus attributes; at most 256 KiB, SNS's limit), or any
message with --always-s3, has its body stored in S3 in --bucket and a
pointer published in its place. Every queue subscribed to the topic gets the
pointer; sqsx receive resolves it with or without raw message delivery.

A body published in SNS itself must be UTF-8 text: one that is not is
refused before anything is sent or stored, with the offset of its first
invalid byte, and the exit status is 2. A body stored in S3 is stored as it
is, with a warning: the Java and Python extended clients read payloads as
UTF-8 text.

Subscribers share a payload, so none of them deletes it: it is marked as
shared, and an S3 lifecycle rule must expire it (see 'sqsx lifecycle'). For
a topic with a single subscriber, --deletable-by-consumers lets that
consumer delete it with the message.

Prints the message id on standard output (with --output json, an object with
the fields of send and Shared) and a summary on standard error.`

// publishFlags are the flags of sqsx publish.
type publishFlags struct {
	sse        sseFlags
	topicARN   string
	buckets    bucketFlags
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

func newPublishCommand() (*cobra.Command, subcommand) {
	f := &publishFlags{}
	c := &cobra.Command{
		Use:   "publish --topic-arn ARN --bucket BUCKET [--file FILE] [flags]",
		Short: "Publish one message to an SNS topic, read from a file or standard input",
		Long:  publishLong,
	}
	fs := c.Flags()
	fs.StringVar(&f.topicARN, "topic-arn", "", "`ARN` of the SNS topic (required)")
	f.buckets.register(fs, "S3 `BUCKET` that receives bodies stored in S3 (required)", "")
	fs.StringVar(&f.file, "file", "", "read the body from `FILE` (default: standard input)")
	fs.Var(&f.attrs, "attr", "message attribute `NAME=Type:value`, Type String, Number or Binary (base64 value), optionally with a .label; repeatable")
	fs.StringVar(&f.subject, "subject", "", "`SUBJECT` of the message (for e-mail subscriptions; ASCII, under 100 characters)")
	fs.StringVar(&f.groupID, "message-group-id", "", "message group `ID` (required for FIFO topics)")
	fs.StringVar(&f.dedupID, "message-deduplication-id", "", "message deduplication `ID` (FIFO topics)")
	fs.BoolVar(&f.alwaysS3, "always-s3", false, "store the body in S3 whatever its size")
	fs.BoolVar(&f.deletable, "deletable-by-consumers", false, "let consumers delete the payload with their message (only for a topic with one subscriber)")
	fs.Int64Var(&f.threshold, "threshold", snsx.DefaultThreshold, fmt.Sprintf("store bodies of messages larger than `N` bytes in S3 (1 to %d)", snsx.MaxMessageSize))
	fs.BoolVar(&f.legacyAttr, "legacy-attribute", false, "mark offloaded messages with "+sqsx.LegacyAttributeName+" instead of "+sqsx.AttributeName)
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "`PREFIX` of the S3 keys of stored bodies")
	f.sse.register(fs)
	return c, f
}

func (f *publishFlags) check(_ *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q; to publish a file, pass --file %s", args[0], args[0])
	case f.topicARN == "":
		return errors.New("--topic-arn is required")
	case !validTopicARN(f.topicARN):
		return fmt.Errorf("--topic-arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", f.topicARN)
	case f.buckets.bucket == "":
		return errors.New("--bucket is required: the S3 bucket that receives bodies too large for SNS")
	case f.threshold < 1 || f.threshold > snsx.MaxMessageSize:
		return fmt.Errorf("--threshold %d is outside 1..%d (to store every body in S3, use --always-s3)", f.threshold, snsx.MaxMessageSize)
	case strings.HasSuffix(f.topicARN, ".fifo") && f.groupID == "":
		return errors.New("the topic is a FIFO topic (its name ends in .fifo): pass --message-group-id")
	}
	if msg := checkSubject(f.subject); msg != "" {
		return fmt.Errorf("--subject: %s", msg)
	}
	return errors.Join(f.buckets.check(), checkKeyPrefix(f.keyPrefix), f.sse.check())
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

// publishResult is what sqsx publish --output json prints: the fields of
// aws-cli's publish output, then what sqsx adds.
type publishResult struct {
	MessageID      string `json:"MessageId"`
	SequenceNumber string `json:",omitempty"`
	offloadResult
	// Shared: the payload is shared by the subscribers, which do not
	// delete it.
	Shared bool `json:",omitempty"`
}

func (f *publishFlags) run(ctx context.Context, u *ui) int {
	b, err := openOutgoing(u, f.file, "publishing", f.threshold)
	if err != nil {
		return u.fail(err)
	}
	defer b.close()
	body, code, err := b.start(f.threshold-f.attrs.size(), !f.alwaysS3, false)
	if err != nil {
		return u.failCode(code, err)
	}
	cfg, err := u.aws.config(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := snsx.New(u.aws.sns(cfg), u.aws.s3(cfg), func(o *snsx.Options) {
		o.Bucket = f.buckets.bucket
		o.Logger = u.aws.log
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
		MessageAttributes: snsAttributes(f.attrs.values),
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
	b.p.finish()

	md, _ := snsx.GetOffloadMetadata(out.ResultMetadata)
	res := publishResult{
		MessageID:      aws.ToString(out.MessageId),
		SequenceNumber: aws.ToString(out.SequenceNumber),
		offloadResult:  b.result(md),
		Shared:         md.Offloaded && !f.deletable,
	}
	where := strings.Replace(offloadSummary(md, "SNS"), "body sent in", "body published in", 1)
	if res.Shared {
		where += "; subscribers do not delete it: expire it with 'sqsx lifecycle'"
	}
	return printSent(u, res, res.MessageID, res.Warning, fmt.Sprintf("published message %s: %d bytes, %s", res.MessageID, md.Size, where))
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
