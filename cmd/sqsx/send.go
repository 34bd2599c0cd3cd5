package main

import (
	"bytes"
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
--bucket and a pointer sent in its place.

The body is sent byte for byte. A body sent in SQS itself must be text, as
SQS requires: UTF-8, without control characters other than tab, LF and CR. One
that is not is refused before anything is sent or stored, with the offset of
its first bad byte, and the exit status is 2. A body stored in S3 (over
--threshold, or with --always-s3) is stored as it is, so binary data can be
sent with --always-s3: sqsx receive and the Go library give back the same
bytes, but the Java and Python extended clients read payloads as UTF-8 text,
so for them send text (e.g. base64). Such a body is sent with a warning.

Prints the message id on standard output (with --json, an object with
message_id, size, offloaded, bucket and sequence_number) and a summary on
standard error. On a terminal, a progress bar shows the reading of a body
larger than the threshold.

Flags:
`

// maxDelay is SQS's longest message delay, in seconds (15 minutes).
const maxDelay = 900

// sendFlags are the parsed flags of sqsx send.
type sendFlags struct {
	common         commonFlags
	queue          queueFlags
	sse            sseFlags
	bucket         string
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
	fs.IntVar(&f.delay, "delay", 0, fmt.Sprintf("deliver the message after `SECONDS` (0 to %d; not for FIFO queues)", maxDelay))
	fs.BoolVar(&f.alwaysS3, "always-s3", false, "store the body in S3 whatever its size")
	fs.Int64Var(&f.threshold, "threshold", sqsx.DefaultThreshold, fmt.Sprintf("store bodies of messages larger than `N` bytes in S3 (1 to %d)", sqsx.MaxMessageSize))
	fs.BoolVar(&f.thresholdQueue, "threshold-from-queue", false, "use the queue's MaximumMessageSize as the threshold instead of --threshold")
	fs.BoolVar(&f.legacyAttr, "legacy-attribute", false, "mark offloaded messages with "+sqsx.LegacyAttributeName+" (for old Java consumers) instead of "+sqsx.AttributeName)
	fs.StringVar(&f.keyPrefix, "key-prefix", "", "`PREFIX` of the S3 keys of stored bodies")
	f.sse.register(fs)
	f.common.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	thresholdSet := false
	fs.Visit(func(fl *flag.Flag) { thresholdSet = thresholdSet || fl.Name == "threshold" })
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected argument %q: flags must come before it; to send a file, pass --file %s", fs.Arg(0), fs.Arg(0))
	case f.queue.check() != "":
		return nil, fs, errors.New(f.queue.check())
	case f.bucket == "":
		return nil, fs, errors.New("--bucket is required: the S3 bucket that receives bodies too large for SQS")
	case f.threshold < 1 || f.threshold > sqsx.MaxMessageSize:
		return nil, fs, fmt.Errorf("--threshold %d is outside 1..%d (to store every body in S3, use --always-s3)", f.threshold, sqsx.MaxMessageSize)
	case thresholdSet && f.thresholdQueue:
		return nil, fs, errors.New("pass either --threshold or --threshold-from-queue, not both")
	case f.queue.fifo() && f.groupID == "":
		return nil, fs, errors.New("the queue is a FIFO queue (its name ends in .fifo): pass --group-id")
	case f.delay < 0 || f.delay > maxDelay:
		return nil, fs, fmt.Errorf("--delay %d is outside 0..%d seconds", f.delay, maxDelay)
	case f.delay > 0 && f.queue.fifo():
		return nil, fs, errors.New("--delay is not supported by FIFO queues (set the queue's DelaySeconds instead)")
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

// sendResult is what sqsx send --json prints.
type sendResult struct {
	MessageID      string `json:"message_id"`
	SequenceNumber string `json:"sequence_number,omitempty"`
	Size           int64  `json:"size"`
	AttributesSize int64  `json:"attributes_size"`
	Offloaded      bool   `json:"offloaded"`
	Bucket         string `json:"bucket,omitempty"`
	Warning        string `json:"warning,omitempty"`
}

func runSend(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	u := newUI("send", args, stdout, stderr)
	f, fs, err := parseSend(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, sendUsage, fs)
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
	p := newProgress(u.progressOut(), "sending", inSize, f.threshold)
	defer p.finish()

	sqsClient, s3Client, err := f.common.aws.clients(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.bucket
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

	// A body sent in SQS itself must be text, which is checked before
	// anything is sent: read what the Client could still send in SQS, plus
	// one byte to know if more follows, as SendMessageStream does. A body
	// that ends there is sent in SQS (unless --always-s3); a longer one
	// streams to S3 as it is, and is never held whole.
	text := &utf8Check{r: p.reader(r), badAt: -1}
	body, head, err := readHead(text, threshold-sqsx.MessageSize("", f.attrs.values))
	if err != nil {
		return u.fail(withHint(fmt.Errorf("reading the message body: %w", err), "Check the input and retry; nothing was sent."))
	}
	if head != nil {
		if err := checkInlineBody(head, !f.alwaysS3, true); err != nil {
			return u.failCode(exitUsage, err)
		}
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
	p.finish()

	md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata)
	res := sendResult{
		MessageID:      aws.ToString(out.MessageId),
		SequenceNumber: aws.ToString(out.SequenceNumber),
		Size:           md.Size,
		AttributesSize: md.AttributesSize,
		Offloaded:      md.Offloaded,
		Bucket:         md.Pointer.Bucket,
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
	where := offloadSummary(md, "SQS")
	sizeText := fmt.Sprintf("%d bytes", md.Size)
	if md.AttributesSize > 0 {
		sizeText += fmt.Sprintf(" + %d bytes of attributes", md.AttributesSize)
	}
	seq := ""
	if out.SequenceNumber != nil {
		seq = ", sequence number " + aws.ToString(out.SequenceNumber)
	}
	u.notef("sqsx send: sent message %s: %s, %s%s\n", res.MessageID, sizeText, where, seq)
	return exitOK
}

// readHead reads from r up to room bytes (at least 0), plus one to know if
// more follow. A body that ends there is returned whole as head, with body
// reading it again; otherwise head is nil and body reads all of r from its
// first byte.
func readHead(r io.Reader, room int64) (body io.Reader, head []byte, err error) {
	buf := make([]byte, max(room, 0)+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return bytes.NewReader(buf[:n]), buf[:n], nil
	case err != nil:
		return nil, nil, err
	}
	return io.MultiReader(bytes.NewReader(buf), r), nil, nil
}

// offloadSummary says where a message's body went, from what the library
// reports: "body stored in S3 bucket B (...)" or "body sent in SERVICE
// (...)".
func offloadSummary(md payload.OffloadMetadata, service string) string {
	switch {
	case md.Offloaded && md.AlwaysThroughS3:
		return fmt.Sprintf("body stored in S3 bucket %s (--always-s3)", md.Pointer.Bucket)
	case md.Offloaded:
		return fmt.Sprintf("body stored in S3 bucket %s (over the %d-byte threshold)", md.Pointer.Bucket, md.Threshold)
	}
	return fmt.Sprintf("body sent in %s (within the %d-byte threshold)", service, md.Threshold)
}

// checkInlineBody returns an error unless body can be sent: it is not
// empty and, when it is sent in the service itself (inline), it is text:
// valid UTF-8 and, for SQS (sqsChars), only the characters SQS accepts.
func checkInlineBody(body []byte, inline, sqsChars bool) error {
	if len(body) == 0 {
		return withHint(errors.New("the message body is empty, and SQS and SNS do not accept empty messages"), "Send a non-empty body.")
	}
	if !inline {
		return nil
	}
	service := "SNS"
	if sqsChars {
		service = "SQS"
	}
	if at, what := badText(body, sqsChars); at >= 0 {
		return withHint(fmt.Errorf("the message body is not text that %s accepts: %s, at byte offset %d", service, what, at),
			fmt.Sprintf("Nothing was sent. A body sent in %s must be text; to send other bytes, pass --always-s3: the body is then stored in S3 as it is "+
				"(sqsx receive gives back the same bytes, but the Java and Python extended clients read it as UTF-8 text). Or encode it, e.g. with base64.", service))
	}
	return nil
}

// badText returns the offset of the first byte of b that is not valid UTF-8
// or, with sqsChars, that starts a character SQS does not accept, and what
// is wrong there; or -1.
func badText(b []byte, sqsChars bool) (int, string) {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return i, fmt.Sprintf("byte 0x%02X is not valid UTF-8", b[i])
		case sqsChars && !sqsAllowed(r):
			return i, fmt.Sprintf("character %U is not allowed in SQS messages", r)
		}
		i += n
	}
	return -1, ""
}

// sqsAllowed reports whether SQS accepts r in a message body: #x9, #xA,
// #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF.
func sqsAllowed(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// notTextWarning is the warning for a body stored in S3 whose first byte
// that is not valid UTF-8 is at offset at.
func notTextWarning(at int64) string {
	return fmt.Sprintf("the body is not valid UTF-8 (first invalid byte at offset %d); it was stored in S3 as it is: "+
		"sqsx receive gives back the same bytes, but the Java and Python extended clients read payloads as UTF-8 text", at)
}

// openBody opens the message body: file, or stdin when file is "" or "-".
// It returns its size, or -1 when unknown.
func openBody(file string, stdin io.Reader) (r io.ReadCloser, size int64, err error) {
	if file != "" && file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, 0, withHint(fmt.Errorf("reading --file: %w", err), "Check the path and its permissions.")
		}
		size = -1
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		return fh, size, nil
	}
	size = -1
	if fh, ok := stdin.(*os.File); ok {
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size() // standard input redirected from a file
		}
	}
	return io.NopCloser(stdin), size, nil
}

// readBody reads the message body from file, or from stdin when file is ""
// or "-", through a progress bar shown for bodies over threshold bytes. It
// gives up when ctx is done, even if the read blocks.
func readBody(ctx context.Context, file string, stdin io.Reader, u *ui, threshold int64) ([]byte, error) {
	r, size, err := openBody(file, stdin)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	if file == "" || file == "-" {
		readStdinNote(stdin, u, "the message body")
	}
	p := newProgress(u.progressOut(), "reading", size, threshold)
	defer p.finish()
	what := "--file"
	if file == "" || file == "-" {
		what = "standard input"
	}
	return readAll(ctx, p.reader(r), size, what)
}

// readAll reads r to its end, or until ctx is done. size, if not -1, is
// the expected size.
func readAll(ctx context.Context, r io.Reader, size int64, what string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var buf bytes.Buffer
		if size > 0 {
			buf.Grow(int(size) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(r)
		done <- result{buf.Bytes(), err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, withHint(fmt.Errorf("reading %s: %w", what, res.err), "Check the input and retry.")
		}
		return res.b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// attrsMap holds message attributes by name.
type attrsMap = map[string]types.MessageAttributeValue

// attrsFlag collects --attr flags as message attributes.
type attrsFlag struct {
	values attrsMap
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

// size returns what the attributes add to the message size, as the
// library counts it.
func (a *attrsFlag) size() int64 { return sqsx.MessageSize("", a.values) }

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

// utf8Check passes a message body through, counting its bytes and noting
// the offset of the first byte that is not valid UTF-8, without holding more
// than a character split across reads. It never fails a read.
type utf8Check struct {
	r     io.Reader
	n     int64  // bytes read
	carry []byte // the start of a character split across reads
	badAt int64  // offset of the first invalid byte, or -1
}

func (t *utf8Check) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if t.badAt < 0 {
		t.scan(p[:n], err == io.EOF)
	}
	t.n += int64(n)
	return n, err
}

// scan checks b, the bytes read after the first t.n; eof: no more follow.
func (t *utf8Check) scan(b []byte, eof bool) {
	at := t.n - int64(len(t.carry)) // offset of the first byte to check
	if len(t.carry) > 0 {
		// Finish the split character with the first bytes of b.
		k := min(len(b), utf8.UTFMax-len(t.carry))
		c := append(t.carry, b[:k]...)
		if !utf8.FullRune(c) {
			t.carry = c
			if eof {
				t.badAt = at
			}
			return
		}
		r, size := utf8.DecodeRune(c)
		if r == utf8.RuneError && size == 1 {
			t.badAt = at
			return
		}
		b = b[size-len(t.carry):]
		at += int64(size)
		t.carry = t.carry[:0]
	}
	// Keep back an incomplete character at the end.
	cut := len(b)
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	if i, _ := badText(b[:cut], false); i >= 0 {
		t.badAt = at + int64(i)
		return
	}
	t.carry = append(t.carry, b[cut:]...)
	if eof && len(t.carry) > 0 {
		t.badAt = at + int64(cut)
	}
}
