package sqsx

import (
	"errors"
	"fmt"
	"log/slog"

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

// PayloadNotFoundPolicy says what ReceiveMessage does with a message whose
// payload cannot be resolved: the S3 object does not exist, the pointer names a
// bucket outside AllowedBuckets, the object is larger than MaxPayloadSize, or
// the body is not a valid pointer. Other
// failures (S3 unavailable, access denied, a cancelled context) always fail
// the call.
type PayloadNotFoundPolicy int

const (
	// PayloadNotFoundFail fails the whole ReceiveMessage call with the
	// error. The messages received by that call become visible again after
	// their visibility timeout. This is the default, as in the Java client.
	PayloadNotFoundFail PayloadNotFoundPolicy = iota

	// PayloadNotFoundDelete deletes the message from SQS and leaves it out of
	// the output, logging a warning. Use it when a message without its
	// payload can never be processed and should not be redelivered.
	PayloadNotFoundDelete

	// PayloadNotFoundReturn hands the message back unresolved, with its
	// pointer body, its size attribute and its original receipt handle, and
	// makes ReceiveMessage return the output together with an
	// *UnresolvedError naming each such message.
	PayloadNotFoundReturn
)

func (p PayloadNotFoundPolicy) String() string {
	switch p {
	case PayloadNotFoundFail:
		return "fail"
	case PayloadNotFoundDelete:
		return "delete"
	case PayloadNotFoundReturn:
		return "return"
	}
	return fmt.Sprintf("PayloadNotFoundPolicy(%d)", int(p))
}

// Options configures a Client. The embedded payload.StoreOptions hold the S3
// settings: Bucket (required to send large messages), KeyPrefix, KeyFunc,
// AllowedBuckets, ServerSideEncryption, SSEKMSKeyID, ACL, MaxPayloadSize,
// PutObjectOptions and S3ClientOptions; see there for their defaults.
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

	// PayloadNotFound says what ReceiveMessage does with a message whose
	// payload cannot be resolved. Default: PayloadNotFoundFail.
	PayloadNotFound PayloadNotFoundPolicy

	// SNSEnvelope says how a message delivered by SNS without raw delivery
	// (body = SNS envelope, Message = pointer) is handed back. Default:
	// SNSEnvelopeKeep.
	SNSEnvelope SNSEnvelopeMode

	// Concurrency bounds the S3 requests one call makes at once. Default
	// (when 0): DefaultConcurrency.
	Concurrency int

	// Logger receives warnings about messages dropped by
	// PayloadNotFoundDelete and about failed clean-ups. Default: none.
	Logger *slog.Logger
}

// resolveDefaults fills in zero fields.
func (o *Options) resolveDefaults() {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.AttributeName == "" {
		o.AttributeName = AttributeName
	}
	if o.BatchSizeLimit == 0 {
		o.BatchSizeLimit = DefaultBatchSizeLimit
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// validate returns every problem with the resolved options, joined. The S3
// fields are validated by payload.NewStore.
func (o *Options) validate() error {
	var errs []error
	if o.Threshold < 0 || o.Threshold > MaxMessageSize {
		errs = append(errs, fieldError("Threshold", "%d is outside 0..%d (SQS's maximum message size)", o.Threshold, MaxMessageSize))
	}
	if o.AttributeName != AttributeName && o.AttributeName != LegacyAttributeName {
		errs = append(errs, fieldError("AttributeName", "%q is neither %q nor %q", o.AttributeName, AttributeName, LegacyAttributeName))
	}
	if o.BatchSizeLimit < 0 || o.BatchSizeLimit > MaxMessageSize {
		errs = append(errs, fieldError("BatchSizeLimit", "%d is outside 0..%d", o.BatchSizeLimit, MaxMessageSize))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fieldError("Concurrency", "must not be negative, is %d", o.Concurrency))
	}
	if o.SNSEnvelope != SNSEnvelopeKeep && o.SNSEnvelope != SNSEnvelopeUnwrap {
		errs = append(errs, fieldError("SNSEnvelope", "unknown mode %d", int(o.SNSEnvelope)))
	}
	switch o.PayloadNotFound {
	case PayloadNotFoundFail, PayloadNotFoundDelete, PayloadNotFoundReturn:
	default:
		errs = append(errs, fieldError("PayloadNotFound", "unknown policy %d", int(o.PayloadNotFound)))
	}
	return errors.Join(errs...)
}

// fieldError returns an error that starts with the name of the invalid field.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}
