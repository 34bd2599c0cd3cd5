package sqsx_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

// BenchmarkRoundTrip sends, receives and deletes one message through
// in-memory fakes: the library's own cost per message, without a network,
// which the instrumentation must not change when no provider is set.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{1 << 10, 300 << 10} {
		b.Run(sizeName(size), func(b *testing.B) {
			sqsFake, s3Fake := sqsxtest.New()
			c, err := sqsx.New(sqsFake, s3Fake, func(o *sqsx.Options) { o.Bucket = "payloads" })
			if err != nil {
				b.Fatal(err)
			}
			roundTrips(b, c, strings.Repeat("x", size))
		})
	}
}

func sizeName(n int) string { return fmt.Sprintf("%dKiB", n>>10) }

// roundTrips runs b.N send, receive and delete round trips of body
// through c.
func roundTrips(b *testing.B, c *sqsx.Client, body string) {
	const queue = "https://sqs.us-east-1.amazonaws.com/123456789012/bench"
	ctx := context.Background()
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)}); err != nil {
			b.Fatal(err)
		}
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue)})
		if err != nil || len(out.Messages) != 1 {
			b.Fatalf("expect 1 message, got %v, %v", out, err)
		}
		m := out.Messages[0]
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: m.ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}
