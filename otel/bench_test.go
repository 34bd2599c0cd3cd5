package sqsxotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sqsx/sqsx"
	sqsxotel "github.com/sqsx/sqsx/otel"
	"github.com/sqsx/sqsx/sqsxtest"
)

// BenchmarkRoundTrip sends, receives and deletes one message through
// in-memory fakes, without providers and with the OpenTelemetry SDK (every
// span sampled and ended into a batch processor with no exporter, metrics
// aggregated by a manual reader): the difference is the cost of the
// instrumentation per message.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{1 << 10, 300 << 10} {
		for _, traced := range []bool{false, true} {
			name := fmt.Sprintf("%dKiB/none", size>>10)
			if traced {
				name = fmt.Sprintf("%dKiB/otel", size>>10)
			}
			b.Run(name, func(b *testing.B) {
				opts := func(o *sqsx.Options) { o.Bucket = "payloads" }
				if traced {
					tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
					mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
					b.Cleanup(func() { tp.Shutdown(context.Background()); mp.Shutdown(context.Background()) })
					opts = func(o *sqsx.Options) {
						o.Bucket, o.TracerProvider, o.MeterProvider = "payloads", sqsxotel.TracerProvider(tp), sqsxotel.MeterProvider(mp)
					}
				}
				sqsFake, s3Fake := sqsxtest.New()
				c, err := sqsx.New(sqsFake, s3Fake, opts)
				if err != nil {
					b.Fatal(err)
				}
				roundTrips(b, c, strings.Repeat("x", size))
			})
		}
	}
}

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
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: out.Messages[0].ReceiptHandle}); err != nil {
			b.Fatal(err)
		}
	}
}
