package snsx

import (
	"errors"
	"fmt"
	"log/slog"

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
}

func (o *Options) resolveDefaults() {
	if o.Threshold == 0 {
		o.Threshold = DefaultThreshold
	}
	if o.AttributeName == "" {
		o.AttributeName = payload.AttributeName
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

func (o *Options) validate() error {
	var errs []error
	if o.Threshold < 0 || o.Threshold > MaxMessageSize {
		errs = append(errs, fieldError("Threshold", "%d is outside 0..%d (SNS's maximum message size)", o.Threshold, MaxMessageSize))
	}
	if o.AttributeName != payload.AttributeName && o.AttributeName != payload.LegacyAttributeName {
		errs = append(errs, fieldError("AttributeName", "%q is neither %q nor %q", o.AttributeName, payload.AttributeName, payload.LegacyAttributeName))
	}
	if o.BatchSizeLimit < 0 || o.BatchSizeLimit > MaxMessageSize {
		errs = append(errs, fieldError("BatchSizeLimit", "%d is outside 0..%d", o.BatchSizeLimit, MaxMessageSize))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fieldError("Concurrency", "must not be negative, is %d", o.Concurrency))
	}
	return errors.Join(errs...)
}

// fieldError returns an error that starts with the name of the invalid field.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}
