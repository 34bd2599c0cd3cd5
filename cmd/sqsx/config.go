package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/benchutil"
	"github.com/sqsx/sqsx/payload"
)

// commonFlags are the flags every subcommand accepts.
type commonFlags struct {
	aws   awsFlags
	json  bool
	quiet bool
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "print results as JSON, one object per line; errors as JSON on standard error")
	fs.BoolVar(&c.quiet, "quiet", false, "print no summaries and no progress bars")
	c.aws.register(fs)
}

// awsFlags are the flags every subcommand that talks to AWS accepts.
type awsFlags struct {
	region    string
	profile   string
	pathStyle bool
}

func (a *awsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.region, "region", "", "AWS `REGION` (default: AWS_REGION or the profile's region)")
	fs.StringVar(&a.profile, "profile", "", "shared config `PROFILE` to use (default: AWS_PROFILE or \"default\")")
	fs.BoolVar(&a.pathStyle, "path-style", false, "use path-style S3 addressing (automatic when AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is set)")
}

// config loads the AWS configuration the standard way: environment, shared
// config and credentials files, --region and --profile.
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL are honoured by the SDK itself.
func (a *awsFlags) config(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if a.region != "" {
		opts = append(opts, config.WithRegion(a.region))
	}
	if a.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		err = fmt.Errorf("loading AWS configuration: %w", err)
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return cfg, withHint(err, "Check the --profile name (or AWS_PROFILE) against ~/.aws/config and ~/.aws/credentials.")
		}
		return cfg, withHint(err, "Check ~/.aws/config, ~/.aws/credentials and the AWS_* environment variables.")
	}
	if cfg.Region == "" {
		return cfg, withHint(errors.New("no AWS region is configured"),
			"Pass --region (e.g. --region us-east-1), set AWS_REGION, or set region in your profile.")
	}
	return cfg, nil
}

// clients returns SQS and S3 clients for the configuration.
func (a *awsFlags) clients(ctx context.Context) (*sqs.Client, *s3.Client, error) {
	cfg, err := a.config(ctx)
	if err != nil {
		return nil, nil, err
	}
	return sqs.NewFromConfig(cfg), a.s3(cfg), nil
}

// s3 returns an S3 client for cfg, with path-style addressing when asked to
// or when a custom S3 endpoint is configured.
func (a *awsFlags) s3(cfg aws.Config) *s3.Client {
	pathStyle := usePathStyle(a.pathStyle, os.Getenv)
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
}

// usePathStyle reports whether S3 requests should use path-style addressing
// (http://host/bucket/key): when asked to, or when a custom S3 endpoint is
// configured, since local and self-hosted S3 servers rarely resolve
// virtual-hosted bucket names.
func usePathStyle(flagSet bool, getenv func(string) string) bool {
	if flagSet {
		return true
	}
	if getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return false
	}
	return getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
}

// queueFlags name the queue: by URL, or by name resolved with GetQueueUrl.
type queueFlags struct {
	url  string
	name string
}

func (q *queueFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&q.url, "queue-url", "", "`URL` of the queue")
	fs.StringVar(&q.name, "queue", "", "`NAME` of the queue, instead of --queue-url (resolved with GetQueueUrl)")
}

// check returns a usage problem, or "".
func (q *queueFlags) check() string {
	switch {
	case q.url == "" && q.name == "":
		return "--queue-url or --queue is required"
	case q.url != "" && q.name != "":
		return "pass either --queue-url or --queue, not both"
	}
	return ""
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

// stringsFlag is a flag that may be repeated.
type stringsFlag []string

// String returns the values given, comma-separated.
func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

// Set adds a value.
func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// sseFlags choose the server-side encryption of new payloads.
type sseFlags struct {
	sse    string
	kmsKey string
}

func (s *sseFlags) register(fs *flag.FlagSet) {
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

// checkBuckets validates --bucket (when set) and the --allowed-bucket values.
func checkBuckets(bucket string, allowed []string) error {
	if bucket != "" {
		if err := payload.ValidateBucketName(bucket); err != nil {
			return fmt.Errorf("--bucket: %v", err)
		}
	}
	for _, b := range allowed {
		if err := payload.ValidateBucketName(b); err != nil {
			return fmt.Errorf("--allowed-bucket: %v", err)
		}
	}
	return nil
}

// allowedBuckets returns the buckets whose payloads may be read or deleted:
// the --allowed-bucket ones and bucket.
func allowedBuckets(bucket string, allowed []string) []string {
	all := slices.Clone(allowed)
	if bucket != "" && !slices.Contains(all, bucket) {
		all = append(all, bucket)
	}
	return all
}

// readStdinNote tells the user that standard input is being read when it is
// a terminal, since the command would otherwise seem to hang.
func readStdinNote(stdin io.Reader, u *ui, what string) {
	if isTerminal(stdin) {
		u.notef("sqsx %s: reading %s from the terminal; end it with Ctrl-D\n", u.cmd, what)
	}
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
