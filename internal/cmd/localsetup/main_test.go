package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/testenv"
)

func runSetup(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "nothing to do"},
		{[]string{"-count-objects"}, "-count-objects needs -bucket"},
		{[]string{"-bucket", "b-1", "-queue", "q", "-count-objects"}, "does not take -queue"},
		{[]string{"-queue", "q", "-content-dedup"}, "add -fifo"},
		{[]string{"-bucket", "b-1", "extra"}, `unexpected argument "extra"`},
		{[]string{"-nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runSetup(tt.args...)
		if code != 2 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("localsetup %v: exit %d, stdout %q, stderr %q; want 2, nothing, and %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

func TestUsePathStyle(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if usePathStyle(env(nil)) {
		t.Error("path style without an endpoint")
	}
	if !usePathStyle(env(map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"})) {
		t.Error("no path style with AWS_ENDPOINT_URL_S3")
	}
	if !usePathStyle(env(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"})) {
		t.Error("no path style with AWS_ENDPOINT_URL")
	}
}

func TestCreateAndCount(t *testing.T) {
	c := testenv.Require(t)
	ctx := context.Background()
	bucket, queue := testenv.Name("setup"), testenv.Name("setup")
	t.Cleanup(func() {
		for _, k := range c.Keys(t, bucket) {
			c.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		}
		c.S3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	})

	code, stdout, stderr := runSetup("-bucket", bucket, "-queue", queue, "-fifo", "-content-dedup")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(stdout), "QUEUE_URL=")
	if !ok || !strings.HasSuffix(url, "/"+queue+".fifo") {
		t.Fatalf("stdout = %q, want QUEUE_URL=<url of %s.fifo>", stdout, queue)
	}
	t.Cleanup(func() { c.SQS.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(url)}) })
	attrs, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["FifoQueue"] != "true" || attrs.Attributes["ContentBasedDeduplication"] != "true" {
		t.Errorf("queue attributes %v: want FifoQueue and ContentBasedDeduplication true", attrs.Attributes)
	}

	// Running again is fine: the bucket is already ours, the queue the same.
	code, again, stderr := runSetup("-bucket", bucket, "-queue", queue+".fifo", "-content-dedup")
	if code != 0 || again != stdout {
		t.Errorf("second run: exit %d, stdout %q, stderr %q; want 0 and %q", code, again, stderr, stdout)
	}

	for i, want := range []string{"0", "1", "2"} {
		if i > 0 {
			if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(testenv.Name("k")),
				Body: strings.NewReader("x")}); err != nil {
				t.Fatal(err)
			}
		}
		code, stdout, stderr := runSetup("-bucket", bucket, "-count-objects")
		if code != 0 || strings.TrimSpace(stdout) != want {
			t.Errorf("-count-objects: exit %d, stdout %q, stderr %q; want 0 and %s", code, stdout, stderr, want)
		}
	}

	code, _, stderr = runSetup("-bucket", testenv.Name("missing"), "-count-objects")
	if code != 1 || !strings.Contains(stderr, "counting the objects") {
		t.Errorf("counting a missing bucket: exit %d, stderr %q; want 1 and an error", code, stderr)
	}
}
