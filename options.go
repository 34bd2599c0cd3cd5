package sqsx

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// Defaults and limits.
const (
	// DefaultThreshold is the message size, in bytes, above which a message
	// is offloaded to S3: 256 KiB, the reference clients' threshold and the
	// default MaximumMessageSize of an SQS queue.
	DefaultThreshold = 262144

	// MaxMessageSize is the largest message SQS accepts (1 MiB since August
	// 2025). Threshold may not exceed it.
	MaxMessageSize = 1048576

	// DefaultBatchSizeLimit is the largest total size of a SendMessageBatch
	// request that SendMessageBatch lets through without offloading more
	// entries: SQS's limit on the sum of all entries.
	DefaultBatchSizeLimit = MaxMessageSize

	// DefaultConcurrency is the default number of concurrent S3 requests
	// made by one call (a batch or a receive has at most 10 messages).
	DefaultConcurrency = 10

	// MaxAttributes is the number of message attributes SQS allows on one
	// message. An offloaded message may carry one fewer, because the size
	// attribute takes a place.
	MaxAttributes = 10
)

// Names of the reserved message attributes, re-exported from package payload.
const (
	AttributeName       = payload.AttributeName
	LegacyAttributeName = payload.LegacyAttributeName
)

// UnresolvedPolicy says what ReceiveMessage does with a message whose payload
// cannot be resolved: the S3 object does not exist, the pointer is invalid or
// names an object outside AllowedBuckets and AllowedKeyPrefixes, the object is
// larger than MaxPayloadSize, S3 refuses it (403, another 4xx) or fails to
// serve it (5xx, timeouts, a corrupted read, after the SDK's retries), or ctx
// ends before it is read. Whatever the policy, the decision is per message:
// under all but UnresolvedFail the messages that resolved are returned as
// usual, and GetUnresolvedMessages lists the others with the action taken.
type UnresolvedPolicy int

const (
	// UnresolvedIsolate, the default, leaves an unresolved message in the
	// queue and out of the output: it becomes visible again after its
	// visibility timeout, is tried again, and, with a redrive policy, moves
	// to the dead-letter queue on its own after maxReceiveCount receives,
	// without holding back the messages received with it. A message whose
	// payload does not exist (CodePayloadNotFound) is deleted instead: its
	// payload was deleted when an earlier copy of it was processed (SQS is
	// at-least-once, and a send retried after a lost answer queues two
	// copies), or has expired, and either way it can never be processed.
	//
	// Grant consumers s3:ListBucket on the payload prefix: without it S3
	// answers 403 for a missing key, which cannot be told from a denied
	// read, so such duplicates end in the dead-letter queue.
	UnresolvedIsolate UnresolvedPolicy = iota

	// UnresolvedFail fails the whole ReceiveMessage call with the first
	// error: the strict behaviour of the Java client. The messages received
	// become visible again after their visibility timeout, and one poison
	// message holds back every message received with it until the redrive
	// policy moves them all to the dead-letter queue.
	UnresolvedFail

	// UnresolvedDelete deletes from SQS every message that can never be
	// resolved (not found, not allowed, invalid, too large, refused by S3
	// with a 4xx other than 403), and treats the others (access denied,
	// S3 unavailable) as UnresolvedIsolate does. Use it when an unresolvable
	// message should be dropped rather than kept in a dead-letter queue.
	UnresolvedDelete

	// UnresolvedReturn hands each unresolved message back in the output,
	// with its pointer body, its size attribute and its original receipt
	// handle, and makes ReceiveMessage return the output together with an
	// *UnresolvedError naming each such message.
	UnresolvedReturn
)

func (p UnresolvedPolicy) String() string {
	switch p {
	case UnresolvedIsolate:
		return "isolate"
	case UnresolvedFail:
		return "fail"
	case UnresolvedDelete:
		return "delete"
	case UnresolvedReturn:
		return "return"
	}
	return fmt.Sprintf("UnresolvedPolicy(%d)", int(p))
}

// Options configures a Client. The embedded payload.StoreOptions hold the S3
// settings: Bucket (required to send large messages), KeyPrefix, KeyFunc,
// AllowedBuckets, ServerSideEncryption, SSEKMSKeyID, ACL, MaxPayloadSize,
// PutObjectOptions and S3ClientOptions; see there for their defaults.
//
// They also hold TracerProvider and MeterProvider (smithy-go's interfaces,
// which the AWS SDK's clients take too), through which the Client traces
// and measures its sends, receives and deletions and the payload store its
// S3 work (docs/observability.md lists the spans and metrics). Default: the
// providers of the SQS client given to New, when it is an *sqs.Client; else
// none. Package github.com/sqsx/sqsx/otel adapts OpenTelemetry's.
type Options struct {
	payload.StoreOptions

	// Threshold is the size in bytes above which a message is offloaded:
	// the UTF-8 bytes of the body plus, for each message attribute, the bytes
	// of its name, data type and value. At most MaxMessageSize. Default
	// (when 0): DefaultThreshold.
	Threshold int64

	// ThresholdFromQueue takes the threshold of each queue from its
	// MaximumMessageSize attribute instead of Threshold. The attribute is
	// read once per queue URL (GetQueueAttributes) and cached for the life of
	// the Client. Default: false.
	ThresholdFromQueue bool

	// AlwaysThroughS3 offloads every message, whatever its size. Default:
	// false.
	AlwaysThroughS3 bool

	// AttributeName is the reserved attribute written on offloaded messages:
	// AttributeName ("ExtendedPayloadSize", the default, read by the Python
	// and SNS clients and by Java 2.x) or LegacyAttributeName
	// ("SQSLargePayloadSize", what the Java client writes by default; choose
	// it if consumers use an old Java client). Both are always read.
	AttributeName string

	// BatchSizeLimit is the largest total size of a SendMessageBatch request;
	// SendMessageBatch offloads entries, largest first, until the batch fits.
	// Default (when 0): DefaultBatchSizeLimit.
	BatchSizeLimit int64

	// KeepPayloadsOnDelete leaves payloads in S3 when their messages are
	// deleted; use an S3 lifecycle rule to expire them. Default: false (the
	// payload is deleted after the message).
	KeepPayloadsOnDelete bool

	// Unresolved says what ReceiveMessage does with a message whose payload
	// cannot be resolved. Default: UnresolvedIsolate.
	Unresolved UnresolvedPolicy

	// SNSEnvelope says how a message delivered by SNS without raw delivery
	// (body = SNS envelope, Message = pointer) is handed back. Default:
	// SNSEnvelopeKeep.
	SNSEnvelope SNSEnvelopeMode

	// Concurrency bounds the S3 requests one call makes at once. Default
	// (when 0): DefaultConcurrency.
	Concurrency int

	// Logger receives a warning for each message whose payload could not be
	// resolved, and for payloads a failed call left in S3. Default: none.
	Logger *slog.Logger

	// PropagateTraceparent sends the trace context of each send, besides
	// in SQS's AWSTraceHeader system attribute (always, when tracing is on
	// and the caller set none), in a W3C "traceparent" message attribute,
	// for consumers that do not read AWSTraceHeader. It takes one of a
	// message's 10 attributes and counts in its size; a message with more
	// than 8 attributes, or a traceparent of its own, is sent without it.
	// Default: false.
	PropagateTraceparent bool
}

// validate returns every problem with the options that only sqsx has,
// joined. The options shared with snsx are resolved and validated by
// package offload, the S3 fields by payload.NewStore.
func (o *Options) validate() error {
	var errs []error
	if o.SNSEnvelope != SNSEnvelopeKeep && o.SNSEnvelope != SNSEnvelopeUnwrap {
		errs = append(errs, fieldError("SNSEnvelope", "unknown mode %d", int(o.SNSEnvelope)))
	}
	switch o.Unresolved {
	case UnresolvedIsolate, UnresolvedFail, UnresolvedDelete, UnresolvedReturn:
	default:
		errs = append(errs, fieldError("Unresolved", "unknown policy %d", int(o.Unresolved)))
	}
	return errors.Join(errs...)
}

// fieldError returns an error that starts with the name of the invalid field.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}

// CallOptions are offload settings for one call, given with
// WithOffloadOptions. A zero field keeps the client's setting.
type CallOptions struct {
	// Bucket receives the call's payloads instead of Options.Bucket. It
	// must be Options.Bucket or one of Options.AllowedBuckets, so that the
	// client can read and delete what it puts there.
	Bucket string

	// KeyPrefix starts the keys of the call's payloads instead of
	// Options.KeyPrefix. When Options.AllowedKeyPrefixes is set (by default
	// it is Options.KeyPrefix, if that is set) it must start with one of
	// them.
	KeyPrefix string

	// AlwaysThroughS3 offloads every message of the call, whatever its
	// size.
	AlwaysThroughS3 bool
}

// WithOffloadOptions returns a per-call option that changes the offload
// settings of one SendMessage, SendMessageBatch or SendMessageStream call,
// as the S3 upload manager's per-call options change one Upload. It goes in
// the call's optFns, with the SDK's own options:
//
//	out, err := client.SendMessage(ctx, in, sqsx.WithOffloadOptions(func(o *sqsx.CallOptions) {
//		o.AlwaysThroughS3 = true
//		o.KeyPrefix = "reports/"
//	}))
//
// The Client takes it out before calling SQS; given to an *sqs.Client, or
// to a Client method that does not offload, it does nothing. Invalid
// settings make the call fail with an *InputError before anything is sent.
func WithOffloadOptions(fns ...func(*CallOptions)) func(*sqs.Options) {
	return (&callOption{fns: fns}).apply
}

// callOption is the per-call option WithOffloadOptions makes.
type callOption struct{ fns []func(*CallOptions) }

// apply is what the SDK sees: it does nothing, except to the scratch
// options whose Logger is the sink of Client.call (see package offload).
func (o *callOption) apply(so *sqs.Options) { offload.Collect(so.Logger, o.fns) }

// callOptionCode tells callOption.apply from other optFns.
var callOptionCode = offload.Code((*callOption)(nil).apply)
