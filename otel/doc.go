// Package sqsxotel connects sqsx, snsx, the consumer and the AWS SDK's
// clients to OpenTelemetry. It adapts an OpenTelemetry TracerProvider and
// MeterProvider to smithy-go's tracing and metrics interfaces, which every
// one of them takes in its Options, so that one OpenTelemetry setup covers
// the SDK's spans and the library's, nested correctly:
//
//	tp := sqsxotel.TracerProvider(otel.GetTracerProvider())
//	mp := sqsxotel.MeterProvider(otel.GetMeterProvider())
//	sqsClient := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.TracerProvider, o.MeterProvider = tp, mp })
//	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.TracerProvider, o.MeterProvider = tp, mp })
//	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) { o.Bucket = "my-payload-bucket" })
//
// sqsx.New takes the providers of the *sqs.Client it wraps unless its Options
// name others. docs/observability.md lists the spans, attributes and
// metrics.
//
// It is a module of its own, so that the sqsx module does not depend on
// OpenTelemetry.
package sqsxotel
