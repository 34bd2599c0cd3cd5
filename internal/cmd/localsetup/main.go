// Command localsetup creates the S3 bucket and SQS queue that scripts and
// demos need, without the AWS CLI, and counts a bucket's objects. It loads the
// AWS configuration as the sqsx command does: the standard sources, with
// AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_SQS honoured and path-style S3
// addressing when an S3 endpoint is set.
//
// Usage:
//
//	go run ./internal/cmd/localsetup -bucket NAME -queue NAME [-fifo] [-content-dedup]
//	go run ./internal/cmd/localsetup -bucket NAME -count-objects
//
// The first form creates the bucket (an existing bucket owned by the caller
// is fine) and the queue (creating an existing queue with the same attributes
// is fine too), and prints
//
//	QUEUE_URL=<url>
//
// on standard output, ready for eval. Either of -bucket and -queue may be
// left out. -fifo makes a FIFO queue, adding the ".fifo" suffix if the name
// lacks it; a name ending in ".fifo" implies -fifo.
//
// The second form prints the number of objects in the bucket.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("localsetup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	bucket := fs.String("bucket", "", "create the S3 bucket `NAME`")
	queue := fs.String("queue", "", "create the SQS queue `NAME` and print QUEUE_URL=<url>")
	fifo := fs.Bool("fifo", false, "make the queue a FIFO queue (adds the .fifo suffix if missing)")
	contentDedup := fs.Bool("content-dedup", false, "enable content-based deduplication on the FIFO queue")
	count := fs.Bool("count-objects", false, "print the number of objects in -bucket instead of creating anything")
	region := fs.String("region", "", "AWS `REGION` (default: AWS_REGION or the profile's region)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "localsetup: unexpected argument %q\n", fs.Arg(0))
		return 2
	case *count && *bucket == "":
		fmt.Fprintln(stderr, "localsetup: -count-objects needs -bucket")
		return 2
	case *count && *queue != "":
		fmt.Fprintln(stderr, "localsetup: -count-objects counts a bucket's objects; it does not take -queue")
		return 2
	case *bucket == "" && *queue == "":
		fmt.Fprintln(stderr, "localsetup: nothing to do: pass -bucket and/or -queue")
		return 2
	case *contentDedup && !*fifo && !strings.HasSuffix(*queue, ".fifo"):
		fmt.Fprintln(stderr, "localsetup: -content-dedup applies to FIFO queues: add -fifo")
		return 2
	}

	var opts []func(*config.LoadOptions) error
	if *region != "" {
		opts = append(opts, config.WithRegion(*region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "localsetup: loading AWS configuration: %v\n", err)
		return 1
	}
	if cfg.Region == "" {
		fmt.Fprintln(stderr, "localsetup: no AWS region configured: pass -region or set AWS_REGION")
		return 1
	}
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = usePathStyle(os.Getenv) })

	if *count {
		n, err := countObjects(ctx, s3Client, *bucket)
		if err != nil {
			fmt.Fprintf(stderr, "localsetup: counting the objects in bucket %s: %v\n", *bucket, err)
			return 1
		}
		fmt.Fprintln(stdout, n)
		return 0
	}
	if *bucket != "" {
		if err := createBucket(ctx, s3Client, *bucket, cfg.Region); err != nil {
			fmt.Fprintf(stderr, "localsetup: creating bucket %s: %v\n", *bucket, err)
			return 1
		}
	}
	if *queue != "" {
		url, err := createQueue(ctx, sqs.NewFromConfig(cfg), *queue, *fifo, *contentDedup)
		if err != nil {
			fmt.Fprintf(stderr, "localsetup: creating queue %s: %v\n", *queue, err)
			return 1
		}
		fmt.Fprintf(stdout, "QUEUE_URL=%s\n", url)
	}
	return 0
}

// usePathStyle reports whether a custom S3 endpoint is configured, as the
// sqsx command decides it.
func usePathStyle(getenv func(string) string) bool {
	if getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return false
	}
	return getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
}

// createBucket creates bucket, succeeding if the caller already owns it.
func createBucket(ctx context.Context, c *s3.Client, bucket, region string) error {
	in := &s3.CreateBucketInput{Bucket: aws.String(bucket)}
	if region != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{
			LocationConstraint: s3types.BucketLocationConstraint(region),
		}
	}
	_, err := c.CreateBucket(ctx, in)
	var owned *s3types.BucketAlreadyOwnedByYou
	var apiErr smithy.APIError
	if errors.As(err, &owned) || errors.As(err, &apiErr) && apiErr.ErrorCode() == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return err
}

// createQueue creates a queue and returns its URL.
func createQueue(ctx context.Context, c *sqs.Client, name string, fifo, contentDedup bool) (string, error) {
	if fifo && !strings.HasSuffix(name, ".fifo") {
		name += ".fifo"
	}
	attrs := map[string]string{}
	if strings.HasSuffix(name, ".fifo") {
		attrs["FifoQueue"] = "true"
		if contentDedup {
			attrs["ContentBasedDeduplication"] = "true"
		}
	}
	out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.QueueUrl), nil
}

// countObjects returns the number of objects in bucket.
func countObjects(ctx context.Context, c *s3.Client, bucket string) (int, error) {
	n := 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		n += len(page.Contents)
	}
	return n, nil
}
