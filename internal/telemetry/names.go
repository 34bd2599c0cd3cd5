// Package telemetry holds what sqsx, snsx, payload and the consumer share to
// trace and measure their work through smithy-go's tracing and metrics
// interfaces (the ones aws-sdk-go-v2 clients take in Options.TracerProvider
// and Options.MeterProvider): the span, attribute and instrument names, the
// instruments, the trace-context formats that travel with a message, and the
// user-agent key. docs/observability.md documents every name.
//
// With no providers, or smithy's no-op ones, nothing is built: a Tracer's
// spans and a Metrics' instruments are checked for nil first, so that the
// instrumentation costs a branch.
package telemetry

// Scope is the instrumentation scope of the library's tracers and meters.
const Scope = "github.com/sqsx/sqsx"

// Span and metric attributes. The messaging.* names are OpenTelemetry's
// messaging semantic conventions; the sqsx.* names are the library's.
const (
	AttrSystem        = "messaging.system"
	AttrDestination   = "messaging.destination.name"
	AttrOperationName = "messaging.operation.name"
	AttrOperationType = "messaging.operation.type"
	AttrMessageID     = "messaging.message.id"
	AttrBodySize      = "messaging.message.body.size"
	AttrBatchCount    = "messaging.batch.message_count"
	AttrErrorType     = "error.type"

	AttrOffloaded    = "sqsx.offloaded"
	AttrBucket       = "sqsx.payload.bucket"
	AttrKey          = "sqsx.payload.key"
	AttrPayloadBytes = "sqsx.payload.bytes"
	AttrResolution   = "sqsx.resolution"
	AttrOperation    = "sqsx.operation"
	AttrAmbiguous    = "sqsx.ambiguous"
	AttrSNSEnvelope  = "sqsx.sns_envelope"
	AttrOutcome      = "sqsx.outcome"
	AttrPayloadCount = "sqsx.payload.count"
	// AttrOffloadedCount is the number of entries of a batch that went to
	// S3.
	AttrOffloadedCount = "sqsx.offloaded_count"

	// AttrLinkTraceparent is the span property that carries a remote span
	// context (a producer's, from a message) as a W3C traceparent. The
	// sqsxotel adapter turns it into a span link, and into the parent when
	// the context has no span; another adapter records it as an attribute.
	AttrLinkTraceparent = "sqsx.link.traceparent"
)

// Values of messaging.system and messaging.operation.type.
const (
	SystemSQS = "aws_sqs"
	SystemSNS = "aws_sns"

	OpTypeSend    = "send"
	OpTypeReceive = "receive"
	OpTypeProcess = "process"
	OpTypeSettle  = "settle"
)

// Values of sqsx.resolution on a resolve span.
const (
	ResolutionResolved = "resolved"
	ResolutionChecked  = "checked" // ReceiveMessageUnresolved: stat only
)

// Span names of the library's internal steps. The messaging spans are named
// "{operation} {destination}", as the conventions ask.
const (
	SpanUpload   = "sqsx.payload.upload"
	SpanDownload = "sqsx.payload.download"
	SpanDelete   = "sqsx.payload.delete"
	SpanResolve  = "sqsx.resolve"
)

// EventKept is the span event of a call that left payload objects in S3.
const EventKept = "sqsx.payload.kept"

// Metric names.
const (
	MetricSent             = "messaging.client.sent.messages"
	MetricUploadedBytes    = "sqsx.payload.uploaded.bytes"
	MetricDownloadedBytes  = "sqsx.payload.downloaded.bytes"
	MetricUploadDuration   = "sqsx.payload.upload.duration"
	MetricDownloadDuration = "sqsx.payload.download.duration"
	MetricResolveFailures  = "sqsx.resolve.failures"
	MetricOrphans          = "sqsx.payload.orphans"
	MetricDeleted          = "sqsx.payload.deleted"

	MetricInFlight           = "sqsx.consumer.messages.in_flight"
	MetricBytesInFlight      = "sqsx.consumer.bytes.in_flight"
	MetricProcessDuration    = "messaging.process.duration"
	MetricAckBatchSize       = "sqsx.consumer.ack.batch.size"
	MetricVisibilityExtended = "sqsx.consumer.visibility.extensions"
	MetricMessageAge         = "sqsx.consumer.message.age"
)

// Message attributes that carry a trace context.
const (
	// AWSTraceHeader is the SQS message system attribute, in X-Ray's
	// format, that X-Ray and Lambda read.
	AWSTraceHeader = "AWSTraceHeader"
	// TraceparentAttribute is the W3C trace-context message attribute,
	// sent on request (PropagateTraceparent).
	TraceparentAttribute = "traceparent"
)
