package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const sendUsage = `Usage: sqsx send --queue-url URL | --queue NAME  --bucket BUCKET [--file FILE] [flags]

Sends one message. The body is read from --file, or from standard input when
--file is not given (or is -). A message larger than --threshold (body plus
attributes), or any message with --always-s3, has its body stored in S3 in
--bucket and a pointer sent in its place. The body must be UTF-8 text.

Prints the message id on standard output and a summary on standard error.

Flags:
`

// sendFlags are the parsed flags of sqsx send.
type sendFlags struct {
	queue      queueFlags
	aws        awsFlags
	bucket     string
	file       string
	attrs      attrsFlag
	groupID    string
	dedupID    string
	alwaysS3   bool
	threshold  int64
	legacyAttr bool
	keyPrefix  string
}

// parseSend parses and checks the flags of sqsx send. It returns a usage
// problem as an error, or flag.ErrHelp.
func parseSend(args []string) (*sendFlags, *flag.FlagSet, error) {
	f := &sendFlags{}
	fs := flag.NewFlagSet("sqsx send", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f.queue.register(fs)
	fs.StringVar(&f.bucket, "bucket", "", "S3 `BUCKET` that receives bodies stored in S3 (required)")
	fs.StringVar(&f.file, "file", "", "read the body from `FILE` (default: standard input)")
	fs.Var(&f.attrs, "attr", "message attribute `NAME=Type:value`, Type String, Number or Binary (base64 value), optionally with a .label; repeatable")
	fs.StringVar(&f.groupID, "group-id", "", "message group `ID` (required for FIFO queues)")
	fs.StringVar(&f.dedupID, "dedup-id", "", "message deduplication `ID` (FIFO queues)")
	fs.BoolVar(&f.alwaysS3, "always-s3", false, "store the body in S3 whatever its size")
	fs.Int64Var(&f.threshold, "threshold", sqsx.DefaultThreshold, fmt.Sprintf("store bodies of messages larger than `N` bytes in S3 (1 to %d)", sqsx.MaxMessageSize))
	fs.BoolVar(&f.legacyAttr, "legacy-attribute", false, "mark offloaded messages with "+sqsx.LegacyAttributeName+" (for old Java consumers) instead of "+sqsx.AttributeName)
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "`PREFIX` of the S3 keys of stored bodies")
	f.aws.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected argument %q: flags must come before it; to send a file, pass --file %s", fs.Arg(0), fs.Arg(0))
	case f.queue.check() != "":
		return nil, fs, errors.New(f.queue.check())
	case f.bucket == "":
		return nil, fs, errors.New("--bucket is required: the S3 bucket that receives bodies too large for SQS")
	case f.threshold < 1 || f.threshold > sqsx.MaxMessageSize:
		return nil, fs, fmt.Errorf("--threshold %d is outside 1..%d (to store every body in S3, use --always-s3)", f.threshold, sqsx.MaxMessageSize)
	case f.queue.fifo() && f.groupID == "":
		return nil, fs, errors.New("the queue is a FIFO queue (its name ends in .fifo): pass --group-id")
	}
	if err := payload.ValidateBucketName(f.bucket); err != nil {
		return nil, fs, fmt.Errorf("--bucket: %v", err)
	}
	if err := payload.ValidateKeyPrefix(f.keyPrefix); err != nil {
		return nil, fs, fmt.Errorf("--key-prefix: %v", err)
	}
	return f, fs, nil
}

func runSend(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const cmd = "send"
	f, fs, err := parseSend(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, sendUsage, fs)
		return exitOK
	}
	if err != nil {
		return usageError(stderr, cmd, "%v", err)
	}

	body, err := readBody(ctx, f.file, stdin, stderr)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	if len(body) == 0 {
		return fail(stderr, cmd, errors.New("the message body is empty, and SQS does not accept empty messages: send a non-empty body"))
	}
	if !utf8.Valid(body) {
		return fail(stderr, cmd, fmt.Errorf("the message body is not valid UTF-8 (first invalid byte at offset %d): "+
			"SQS and the other extended clients carry text; encode binary data first, e.g. with base64", invalidUTF8At(body)))
	}

	sqsClient, s3Client, err := f.aws.clients(ctx)
	if err != nil {
		return fail(stderr, cmd, err)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.bucket
		o.KeyPrefix = f.keyPrefix
		o.Threshold = f.threshold
		o.AlwaysThroughS3 = f.alwaysS3
		if f.legacyAttr {
			o.AttributeName = sqsx.LegacyAttributeName
		}
	})
	if err != nil {
		return fail(stderr, cmd, err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return fail(stderr, cmd, err)
	}

	in := &sqs.SendMessageInput{
		QueueUrl:          aws.String(queueURL),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: f.attrs.values,
	}
	if f.groupID != "" {
		in.MessageGroupId = aws.String(f.groupID)
	}
	if f.dedupID != "" {
		in.MessageDeduplicationId = aws.String(f.dedupID)
	}
	out, err := client.SendMessage(ctx, in)
	if err != nil {
		return fail(stderr, cmd, err)
	}

	fmt.Fprintln(stdout, aws.ToString(out.MessageId))
	// The Client offloads exactly when AlwaysThroughS3 is set or the size,
	// counted as below, is over the threshold (ThresholdFromQueue is off).
	attrSize := f.attrs.size()
	size := int64(len(body)) + attrSize
	var where string
	switch {
	case f.alwaysS3:
		where = fmt.Sprintf("body stored in S3 bucket %s (--always-s3)", f.bucket)
	case size > f.threshold:
		where = fmt.Sprintf("body stored in S3 bucket %s (over the %d-byte threshold)", f.bucket, f.threshold)
	default:
		where = fmt.Sprintf("body sent in SQS (within the %d-byte threshold)", f.threshold)
	}
	sizeText := fmt.Sprintf("%d bytes", len(body))
	if attrSize > 0 {
		sizeText += fmt.Sprintf(" + %d bytes of attributes", attrSize)
	}
	fmt.Fprintf(stderr, "sqsx send: sent message %s: %s, %s", aws.ToString(out.MessageId), sizeText, where)
	if out.SequenceNumber != nil {
		fmt.Fprintf(stderr, ", sequence number %s", aws.ToString(out.SequenceNumber))
	}
	fmt.Fprintln(stderr)
	return exitOK
}

// readBody reads the message body from file, or from stdin when file is ""
// or "-". It gives up when ctx is done, even if the read blocks.
func readBody(ctx context.Context, file string, stdin io.Reader, stderr io.Writer) ([]byte, error) {
	if file != "" && file != "-" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading --file: %w", err)
		}
		return b, nil
	}
	if f, ok := stdin.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(stderr, "sqsx send: reading the message body from the terminal; end it with Ctrl-D, or pass --file")
		}
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(stdin)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("reading standard input: %w", r.err)
		}
		return r.b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// invalidUTF8At returns the offset of the first invalid UTF-8 byte in b.
func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// attrsFlag collects --attr flags as message attributes.
type attrsFlag struct {
	values map[string]types.MessageAttributeValue
	order  []string
}

// String returns the names of the attributes given.
func (a *attrsFlag) String() string {
	if a == nil {
		return ""
	}
	return strings.Join(a.order, ",")
}

// numberRE matches the numbers SQS accepts as Number attributes.
var numberRE = regexp.MustCompile(`^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$`)

// attrNameRE matches valid attribute names: letters, digits, '_', '-' and
// '.', at most 256 characters.
var attrNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// Set parses one name=Type:value attribute.
func (a *attrsFlag) Set(s string) error {
	const want = "want name=Type:value, e.g. color=String:blue, count=Number:3 or blob=Binary:aGk="
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return errors.New(want)
	}
	typ, value, ok := strings.Cut(rest, ":")
	if !ok {
		return fmt.Errorf("no ':' after the type: %s", want)
	}
	if !attrNameRE.MatchString(name) || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return fmt.Errorf("invalid attribute name %q: use up to 256 letters, digits, '_', '-' and '.', with no leading, trailing or double '.'", name)
	}
	if lower := strings.ToLower(name); strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return fmt.Errorf("attribute name %q: names starting with AWS. or Amazon. are reserved by SQS", name)
	}
	if name == sqsx.AttributeName || name == sqsx.LegacyAttributeName {
		return fmt.Errorf("attribute name %q is reserved: the extended client sets it on messages stored in S3", name)
	}
	if _, dup := a.values[name]; dup {
		return fmt.Errorf("attribute %q given twice", name)
	}
	base, _, _ := strings.Cut(typ, ".")
	v := types.MessageAttributeValue{DataType: aws.String(typ)}
	switch base {
	case "String":
		if value == "" {
			return fmt.Errorf("attribute %q: empty value (SQS does not accept empty attribute values)", name)
		}
		v.StringValue = aws.String(value)
	case "Number":
		if !numberRE.MatchString(value) {
			return fmt.Errorf("attribute %q: %q is not a number", name, value)
		}
		v.StringValue = aws.String(value)
	case "Binary":
		b, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			return fmt.Errorf("attribute %q: a Binary value must be base64: %v", name, err)
		}
		if len(b) == 0 {
			return fmt.Errorf("attribute %q: empty value (SQS does not accept empty attribute values)", name)
		}
		v.BinaryValue = b
	default:
		return fmt.Errorf("attribute %q: unknown type %q (use String, Number or Binary, optionally followed by .label): %s", name, typ, want)
	}
	if len(a.order) >= sqsx.MaxAttributes {
		return fmt.Errorf("more than %d attributes: SQS allows at most %d per message", sqsx.MaxAttributes, sqsx.MaxAttributes)
	}
	if a.values == nil {
		a.values = map[string]types.MessageAttributeValue{}
	}
	a.values[name] = v
	a.order = append(a.order, name)
	return nil
}

// size returns what the attributes add to the message size, as the Client
// counts it.
func (a *attrsFlag) size() int64 {
	var n int64
	for name, v := range a.values {
		n += payload.AttributeSize(name, aws.ToString(v.DataType), v.StringValue, v.BinaryValue)
	}
	return n
}

// printUsage prints a subcommand's usage text and flags to w, in the
// --name form the messages use.
func printUsage(w io.Writer, text string, fs *flag.FlagSet) {
	fmt.Fprint(w, text)
	fs.VisitAll(func(f *flag.Flag) {
		arg, usage := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if arg != "" {
			line += " " + arg
		}
		fmt.Fprintf(w, "%s\n    \t%s", line, strings.ReplaceAll(usage, "\n", "\n    \t"))
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
}
