package snsx

import (
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// Defaults and limits.
const (
	// DefaultThreshold is the message size, in bytes, above which a message
	// is offloaded: 256 KiB, the SNS limit.
	DefaultThreshold = 262144

	// MaxMessageSize is the largest message SNS accepts, and the largest
	// total of a PublishBatch request.
	MaxMessageSize = 262144

	// DefaultBatchSizeLimit is the largest total size of a PublishBatch
	// request that PublishBatch lets through without offloading more entries.
	DefaultBatchSizeLimit = MaxMessageSize

	// DefaultConcurrency is the default number of concurrent S3 uploads of
	// one PublishBatch call.
	DefaultConcurrency = 10

	// MaxAttributes is the number of message attributes a message may carry
	// to an SQS subscriber. An offloaded message may carry one fewer.
	MaxAttributes = 10
)

// FanoutMetadataKey is the S3 user metadata key (sent as
// x-amz-meta-sqsx-fanout) with value "true" that marks a payload as shared
// by the subscribers of a topic: sqsx consumers do not delete it.
const FanoutMetadataKey = payload.FanoutMetadataKey

// Options configures a Client. The embedded payload.StoreOptions hold the S3
// settings (Bucket, required to publish large messages; KeyPrefix; KeyFunc;
// ServerSideEncryption; SSEKMSKeyID; ACL; PutObjectOptions; S3ClientOptions);
// see there for their defaults. AllowedBuckets and MaxPayloadSize concern
// readers and are not used here.
//
// They also hold TracerProvider and MeterProvider (smithy-go's interfaces,
// which the AWS SDK's clients take too), through which the Client traces
// and measures its publishes and the payload store its uploads
// (docs/observability.md lists the spans and metrics). Default: the
// providers of the SNS client given to New, when it is an *sns.Client; else
// none. Package github.com/sqsx/sqsx/otel adapts OpenTelemetry's.
type Options struct {
	payload.StoreOptions

	// Threshold is the size in bytes above which a message is offloaded:
	// the UTF-8 bytes of the message plus, for each message attribute, the
	// bytes of its name, data type and value. At most MaxMessageSize.
	// Default (when 0): DefaultThreshold.
	Threshold int64

	// AlwaysThroughS3 offloads every message, whatever its size. Default:
	// false.
	AlwaysThroughS3 bool

	// AttributeName is the reserved attribute written on offloaded
	// messages: payload.AttributeName ("ExtendedPayloadSize", the default,
	// what the Java and Python SNS clients write) or
	// payload.LegacyAttributeName ("SQSLargePayloadSize").
	AttributeName string

	// BatchSizeLimit is the largest total size of a PublishBatch request;
	// PublishBatch offloads entries, largest first, until the batch fits.
	// Default (when 0): DefaultBatchSizeLimit.
	BatchSizeLimit int64

	// DeletableByConsumers leaves out the fan-out marker, so that an sqsx
	// consumer's DeleteMessage deletes the payload. Set it only when the
	// topic has a single subscriber. Default: false.
	DeletableByConsumers bool

	// Concurrency bounds the S3 uploads of one PublishBatch call. Default
	// (when 0): DefaultConcurrency.
	Concurrency int

	// Logger receives warnings about failed clean-ups. Default: none.
	Logger *slog.Logger

	// PropagateTraceparent publishes the trace context of each publish, when
	// tracing is on, in a W3C "traceparent" message attribute, which
	// reaches SQS subscribers (as a message attribute with raw delivery, in
	// the envelope's MessageAttributes without) for the consumer to
	// continue the trace. SNS has no system attribute for it. It takes one
	// of a message's 10 attributes and counts in its size; a message with
	// more than 8 attributes, or a traceparent of its own, is published
	// without it. Default: false.
	PropagateTraceparent bool
}

// WithOffloadOptions returns a per-call option, for the optFns of one
// Publish, PublishBatch or PublishStream call, that changes the offload
// settings of that call only (as the S3 upload manager's options change one
// Upload):
//
//	out, err := client.Publish(ctx, in, snsx.WithOffloadOptions(func(o *snsx.CallOptions) {
//		o.Bucket = "reports-bucket"
//	}))
//
// The Client removes it before it calls SNS: an *sns.Client, or a
// pass-through method, ignores it. Settings the Client refuses fail the call
// with an *payload.InputError, before anything is stored or published.
func WithOffloadOptions(fns ...func(*CallOptions)) func(*sns.Options) {
	return (&callOption{fns: fns}).apply
}

// CallOptions are the settings WithOffloadOptions changes. Zero fields leave
// the Options' as they are.
type CallOptions struct {
	// Bucket stores the call's payloads. Options.Bucket or one of
	// Options.AllowedBuckets.
	Bucket string
	// KeyPrefix starts the keys of the call's payloads. Within
	// Options.AllowedKeyPrefixes (Options.KeyPrefix by default), where set:
	// the topic's sqsx subscribers should allow it too.
	KeyPrefix string
	// AlwaysThroughS3 offloads the call's messages whatever their size, but
	// for those with MessageStructure "json".
	AlwaysThroughS3 bool
}

// callOption is what WithOffloadOptions returns a method of: the SDK sees
// apply, which leaves real options alone (see package offload).
type callOption struct{ fns []func(*CallOptions) }

func (o *callOption) apply(so *sns.Options) { offload.Collect(so.Logger, o.fns) }

// callOptionCode identifies callOption.apply among optFns.
var callOptionCode = offload.Code((*callOption)(nil).apply)
