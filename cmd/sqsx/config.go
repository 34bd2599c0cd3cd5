package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
)

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

// clients loads the AWS configuration the standard way (environment, shared
// config and credentials files, --region and --profile) and returns SQS and
// S3 clients. AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL
// are honoured by the SDK itself.
func (a *awsFlags) clients(ctx context.Context) (*sqs.Client, *s3.Client, error) {
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
			return nil, nil, withHint(err, "Check the --profile name (or AWS_PROFILE) against ~/.aws/config and ~/.aws/credentials.")
		}
		return nil, nil, withHint(err, "Check ~/.aws/config, ~/.aws/credentials and the AWS_* environment variables.")
	}
	if cfg.Region == "" {
		return nil, nil, withHint(errors.New("no AWS region is configured"),
			"Pass --region (e.g. --region us-east-1), set AWS_REGION, or set region in your profile.")
	}
	sqsClient, s3Client := newClients(cfg, usePathStyle(a.pathStyle, os.Getenv))
	return sqsClient, s3Client, nil
}

// newClients returns the service clients for cfg.
func newClients(cfg aws.Config, pathStyle bool) (*sqs.Client, *s3.Client) {
	return sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = pathStyle })
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

// resolve returns the queue URL.
func (q *queueFlags) resolve(ctx context.Context, c *sqsx.Client) (string, error) {
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
