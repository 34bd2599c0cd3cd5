package sqsxotel_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/sqsx/sqsx"
	sqsxotel "github.com/sqsx/sqsx/otel"
	"github.com/sqsx/sqsx/sqsxtest"
)

// Example wires OpenTelemetry into an sqsx client. Real code builds its SDK
// clients with sqs.NewFromConfig and s3.NewFromConfig and gives them the
// same providers (sqs.Options.TracerProvider, MeterProvider), so that their
// spans nest under sqsx's and sqsx picks the providers up by itself; here
// in-memory fakes stand in for them, and the providers go in sqsx.Options.
func Example() {
	spans := tracetest.NewSpanRecorder() // an exporter, in real code
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader() // a periodic reader, in real code
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(context.Background())
	defer mp.Shutdown(context.Background())

	sqsAPI, s3API := sqsxtest.New()
	client, err := sqsx.New(sqsAPI, s3API, func(o *sqsx.Options) {
		o.Bucket = "my-payload-bucket"
		o.TracerProvider = sqsxotel.TracerProvider(tp)
		o.MeterProvider = sqsxotel.MeterProvider(mp)
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	queue := "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(queue), MessageBody: aws.String(strings.Repeat("x", 300<<10)),
	}); err != nil {
		log.Fatal(err)
	}
	for _, s := range spans.Ended() {
		fmt.Println("span:", s.Name())
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		fmt.Println("metric:", m.Name)
	}
	// Output:
	// span: sqsx.payload.upload
	// span: send orders
	// metric: messaging.client.sent.messages
	// metric: sqsx.payload.uploaded.bytes
	// metric: sqsx.payload.upload.duration
}
