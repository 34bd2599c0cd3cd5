package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/benchutil"
	"github.com/sqsx/sqsx/payload"
)

// commonFlags are the flags of every command, given before or after its
// name.
type commonFlags struct {
	aws    awsFlags
	output string
	// json: --output json, or its old spelling --json.
	json  bool
	quiet bool
	debug bool
}

func (c *commonFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.output, "output", "text", "`FORMAT` of the results: text, or json (one object per line on standard output; errors as JSON on standard error)")
	fs.BoolVar(&c.json, "json", false, "same as --output json")
	fs.MarkHidden("json")
	fs.BoolVar(&c.quiet, "quiet", false, "print no summaries and no progress bars")
	fs.BoolVar(&c.debug, "debug", false, "log what the library and the AWS SDK do (retries, responses) on standard error")
	c.aws.register(fs)
}

// resolve checks --output and folds --json into it. With --debug, the log
// goes to stderr.
func (c *commonFlags) resolve(stderr io.Writer) error {
	if c.debug {
		c.aws.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	switch c.output {
	case "json":
		c.json = true
	case "text":
		if c.json {
			c.output = "json"
		}
	default:
		return fmt.Errorf("--output %q: use text or json", c.output)
	}
	return nil
}

// awsFlags are the flags that configure the AWS clients.
type awsFlags struct {
	region      string
	profile     string
	endpointURL string
	pathStyle   bool
	// log is the --debug log, or nil.
	log *slog.Logger
}

func (a *awsFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&a.region, "region", "", "AWS `REGION` (default: AWS_REGION or the profile's region)")
	fs.StringVar(&a.profile, "profile", "", "shared config `PROFILE` to use (default: AWS_PROFILE or \"default\")")
	fs.StringVar(&a.endpointURL, "endpoint-url", "", "send the requests of SQS, SNS and S3 to `URL` (e.g. a local server), instead of AWS_ENDPOINT_URL_* or AWS's")
	fs.BoolVar(&a.pathStyle, "path-style", false, "use path-style S3 addressing (automatic with --endpoint-url, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)")
}

// queueFlags name the queue: by URL, or by name resolved with GetQueueUrl.
type queueFlags struct {
	url  string
	name string
}

func (q *queueFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&q.url, "queue-url", "", "`URL` of the queue")
	fs.StringVar(&q.name, "queue", "", "`NAME` of the queue, instead of --queue-url (resolved with GetQueueUrl)")
}

// check returns a usage problem, or nil.
func (q *queueFlags) check() error {
	switch {
	case q.url == "" && q.name == "":
		return errors.New("--queue-url or --queue is required")
	case q.url != "" && q.name != "":
		return errors.New("pass either --queue-url or --queue, not both")
	}
	return nil
}

// fifo reports whether the queue is a FIFO queue, by its name.
func (q *queueFlags) fifo() bool {
	return strings.HasSuffix(q.url, ".fifo") || strings.HasSuffix(q.name, ".fifo")
}

// queueURLGetter is what queueFlags.resolve needs: *sqs.Client and
// *sqsx.Client both have it.
type queueURLGetter interface {
	GetQueueUrl(ctx context.Context, params *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// resolve returns the queue URL.
func (q *queueFlags) resolve(ctx context.Context, c queueURLGetter) (string, error) {
	if q.url != "" {
		return q.url, nil
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(q.name)})
	if err != nil {
		return "", fmt.Errorf("looking up the URL of queue %q: %w", q.name, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// bucketFlags name the payload bucket and the other buckets whose payloads
// may be read or deleted.
type bucketFlags struct {
	bucket  string
	allowed []string
}

// register adds --bucket, described by usage, and, unless usage of
// --allowed-bucket is "", --allowed-bucket.
func (b *bucketFlags) register(fs *pflag.FlagSet, usage, allowedUsage string) {
	fs.StringVar(&b.bucket, "bucket", "", usage)
	if allowedUsage != "" {
		fs.StringArrayVar(&b.allowed, "allowed-bucket", nil, allowedUsage)
	}
}

// check validates --bucket (when set) and the --allowed-bucket values.
func (b *bucketFlags) check() error {
	if b.bucket != "" {
		if err := payload.ValidateBucketName(b.bucket); err != nil {
			return fmt.Errorf("--bucket: %v", err)
		}
	}
	for _, name := range b.allowed {
		if err := payload.ValidateBucketName(name); err != nil {
			return fmt.Errorf("--allowed-bucket: %v", err)
		}
	}
	return nil
}

// all returns the buckets whose payloads may be read or deleted: the
// --allowed-bucket ones and --bucket.
func (b *bucketFlags) all() []string {
	all := slices.Clone(b.allowed)
	if b.bucket != "" && !slices.Contains(all, b.bucket) {
		all = append(all, b.bucket)
	}
	return all
}

// sseFlags choose the server-side encryption of new payloads.
type sseFlags struct {
	sse    string
	kmsKey string
}

func (s *sseFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&s.sse, "sse", "", "server-side encryption of stored bodies: `MODE` AES256, aws:kms or aws:kms:dsse (default: the bucket's)")
	fs.StringVar(&s.kmsKey, "sse-kms-key-id", "", "KMS `KEY` id or ARN for --sse aws:kms (default: the AWS managed key)")
}

// check returns a usage problem, or nil.
func (s *sseFlags) check() error {
	switch s.sse {
	case "", "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return fmt.Errorf("--sse %q: use AES256, aws:kms or aws:kms:dsse", s.sse)
	}
	if s.kmsKey != "" && !strings.HasPrefix(s.sse, "aws:kms") {
		return errors.New("--sse-kms-key-id needs --sse aws:kms (or aws:kms:dsse)")
	}
	return nil
}

// apply sets the encryption options.
func (s *sseFlags) apply(o *payload.StoreOptions) {
	o.ServerSideEncryption = s3types.ServerSideEncryption(s.sse)
	o.SSEKMSKeyID = s.kmsKey
}

// checkKeyPrefix validates --key-prefix.
func checkKeyPrefix(prefix string) error {
	if err := payload.ValidateKeyPrefix(prefix); err != nil {
		return fmt.Errorf("--key-prefix: %v", err)
	}
	return nil
}

// noLimit is the value of a sizeFlag given as "none".
const noLimit = -1

// sizeFlag is a size in bytes, given as a number of bytes or with a KiB, MiB
// or GiB suffix (512KiB, 64MiB, 1.5GiB), or "none" for no limit (noLimit).
type sizeFlag struct {
	n   int64
	set bool
}

// String returns the size as given, or "" when not set.
func (s *sizeFlag) String() string {
	switch {
	case s == nil || !s.set:
		return ""
	case s.n == noLimit:
		return "none"
	}
	return formatSize(s.n)
}

// Type names the flag's kind in the help.
func (s *sizeFlag) Type() string { return "size" }

// Set parses a size.
func (s *sizeFlag) Set(v string) error {
	if v == "none" {
		s.n, s.set = noLimit, true
		return nil
	}
	n, err := benchutil.ParseSize(v)
	switch {
	case err != nil || n < 0:
		return fmt.Errorf("%q is not a size: give bytes, or a number with KiB, MiB or GiB (e.g. 64MiB), or none", v)
	case n == 0:
		return errors.New("0 bytes would refuse every payload: give a positive size, or none for no limit")
	}
	s.n, s.set = n, true
	return nil
}

// limit returns the size, or def when the flag was not given.
func (s *sizeFlag) limit(def int64) int64 {
	if !s.set {
		return def
	}
	return s.n
}

// formatSize returns n bytes in the largest unit that divides it exactly:
// 64MiB, 1536KiB, 1000 (bytes).
func formatSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// shellQuote quotes s for a POSIX shell, so that a command printed in a hint
// can be pasted as it is.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=+@%,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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

// Type names the flag's kind in the help.
func (a *attrsFlag) Type() string { return "attribute" }

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
