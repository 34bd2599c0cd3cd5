package payload

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/tracing"

	"github.com/sqsx/sqsx/internal/telemetry"
)

// Tracing and metrics of the store's S3 work; docs/observability.md lists
// the spans and instruments.

// resolveTelemetry fills in the providers of o from api when it is an
// *s3.Client and o names none.
func resolveTelemetry(api S3API, o *StoreOptions) {
	if c, ok := api.(*s3.Client); ok {
		co := c.Options()
		telemetry.DefaultProviders(&o.TracerProvider, &o.MeterProvider, co.TracerProvider, co.MeterProvider)
	}
}

// withUserAgent adds the library's user-agent key to an S3 call.
func withUserAgent(o *s3.Options) { o.APIOptions = append(o.APIOptions, telemetry.AddUserAgent) }

// traced reports whether the store traces or measures anything.
func (s *Store) traced() bool { return s.tracer.Enabled() || s.metrics != nil }

// upload runs fn, which stores a payload at p and returns its size, in an
// upload span, and measures it.
func (s *Store) upload(ctx context.Context, p Pointer, fn func(context.Context) (int64, error)) (int64, error) {
	if !s.traced() {
		return fn(ctx)
	}
	ctx, sp := s.tracer.Start(ctx, telemetry.SpanUpload, tracing.SpanKindInternal,
		telemetry.AttrBucket, p.Bucket, telemetry.AttrKey, p.Key)
	start := time.Now()
	n, err := fn(ctx)
	sp.Int(telemetry.AttrPayloadBytes, n)
	code := errorType(err)
	sp.EndErr(err, errorType)
	s.metrics.Uploaded(ctx, p.Bucket, n, time.Since(start), code)
	s.reportKept(ctx, err)
	return n, err
}

// download starts a download span for p; done ends it, with the bytes read
// and the error that ended the read (nil or io.EOF: success).
func (s *Store) download(ctx context.Context, p Pointer) (context.Context, func(n int64, err error)) {
	if !s.traced() {
		return ctx, func(int64, error) {}
	}
	ctx, sp := s.tracer.Start(ctx, telemetry.SpanDownload, tracing.SpanKindInternal,
		telemetry.AttrBucket, p.Bucket, telemetry.AttrKey, p.Key)
	start := time.Now()
	return ctx, func(n int64, err error) {
		sp.Int(telemetry.AttrPayloadBytes, n)
		code := errorType(err)
		sp.EndErr(err, errorType)
		s.metrics.Downloaded(ctx, p.Bucket, n, time.Since(start), code)
	}
}

// deleteSpan starts the span of a deletion of n objects by op; its func
// ends it with the bucket, the objects deleted and the failures, and counts
// them.
func (s *Store) deleteSpan(ctx context.Context, op string, n int) (context.Context, func(bucket string, deleted int, err error)) {
	if !s.traced() {
		return ctx, func(string, int, error) {}
	}
	ctx, sp := s.tracer.Start(ctx, telemetry.SpanDelete, tracing.SpanKindInternal,
		telemetry.AttrOperation, op, telemetry.AttrBatchCount, int64(n))
	return ctx, func(bucket string, deleted int, err error) {
		sp.Str(telemetry.AttrBucket, bucket)
		sp.EndErr(err, errorType)
		s.metrics.Deleted(ctx, bucket, deleted)
	}
}

// reportKept counts the objects a *KeptError in err names as orphans.
func (s *Store) reportKept(ctx context.Context, err error) {
	var ke *KeptError
	if s.metrics == nil || !errors.As(err, &ke) {
		return
	}
	s.metrics.Orphans(ctx, ke.Op, len(ke.Pointers), ke.Ambiguous)
}

// errorType returns the error.type of a store error: the library's code for
// its own failures, else the S3 error code (see telemetry.ErrorType).
func errorType(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrNotFound):
		return "PayloadNotFound"
	case errors.Is(err, ErrTooLarge):
		return "PayloadTooLarge"
	case errors.Is(err, ErrChecksumMismatch):
		return "PayloadChecksumMismatch"
	case errors.Is(err, ErrBucketNotAllowed):
		return CodeBucketNotAllowed
	case errors.Is(err, ErrKeyNotAllowed):
		return CodeKeyNotAllowed
	case errors.Is(err, ErrNoBucket):
		return CodeNoBucket
	}
	return telemetry.ErrorType(err)
}
