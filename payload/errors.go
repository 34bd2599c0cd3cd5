package payload

import (
	"errors"
	"fmt"
)

// Sentinel errors. They are wrapped in the errors this package and its callers
// return, so test for them with [errors.Is].
var (
	// ErrNotFound reports that the S3 object a pointer names does not exist.
	ErrNotFound = errors.New("payload not found")

	// ErrBucketNotAllowed reports a pointer into a bucket that is not in
	// StoreOptions.AllowedBuckets. Such a pointer is never followed.
	ErrBucketNotAllowed = errors.New("bucket not allowed")

	// ErrKeyNotAllowed reports a pointer whose key starts with none of
	// StoreOptions.AllowedKeyPrefixes. Such a pointer is never followed.
	ErrKeyNotAllowed = errors.New("key not allowed")

	// ErrInvalidPointer reports a message body that is not a valid payload
	// pointer, or a pointer whose bucket or key fails validation.
	ErrInvalidPointer = errors.New("invalid payload pointer")

	// ErrInvalidReceiptHandle reports a receipt handle that carries the
	// payload markers but not in the expected layout.
	ErrInvalidReceiptHandle = errors.New("invalid receipt handle")

	// ErrTooLarge reports a payload larger than StoreOptions.MaxPayloadSize,
	// or a stream longer than a multipart upload can hold (MaxParts parts of
	// StoreOptions.PartSize bytes).
	ErrTooLarge = errors.New("payload too large")

	// ErrChecksumMismatch reports that the bytes read back from S3 do not
	// match the checksum S3 stored with the object, or that S3 did not accept
	// the checksum of the bytes sent. The payload was corrupted somewhere
	// between the writer and the reader; do not use what was read.
	ErrChecksumMismatch = errors.New("payload checksum mismatch")

	// The checks a sender makes before anything is sent, for sqsx and snsx
	// alike, which re-export them.

	// ErrReservedAttribute: the caller set a reserved attribute
	// (AttributeName or LegacyAttributeName) on a message.
	ErrReservedAttribute = errors.New("reserved message attribute")
	// ErrTooManyAttributes: a message to offload has more attributes than
	// the service allows less one (the size attribute takes a place).
	ErrTooManyAttributes = errors.New("too many message attributes")
	// ErrAttributesTooLarge: a message's attributes are so large that even
	// with its body offloaded it is over the threshold.
	ErrAttributesTooLarge = errors.New("message attributes too large")
	// ErrEmptyBody: a message has an empty body, which SQS and SNS do not
	// accept.
	ErrEmptyBody = errors.New("empty message body")
)

// Error is returned when an S3 operation on a payload fails, or when a payload
// pointer cannot be used. It names the operation and the object.
//
// It wraps both the cause and, where one applies, a sentinel such as
// [ErrNotFound], so either can be tested:
//
//	var perr *payload.Error
//	if errors.As(err, &perr) {
//		log.Printf("payload %s/%s: %s failed", perr.Bucket, perr.Key, perr.Op)
//	}
//	if errors.Is(err, payload.ErrNotFound) { ... }
//	var nsk *s3types.NoSuchKey
//	if errors.As(err, &nsk) { ... } // the SDK's error is still reachable
type Error struct {
	// Op is the operation that failed: "PutObject", "CreateMultipartUpload",
	// "UploadPart", "CompleteMultipartUpload", "GetObject", "DeleteObject",
	// "DeleteObjects" or "DecodePointer". A failure to read the io.Reader
	// given to PutReader is reported under the operation that was consuming
	// it ("PutObject" or "UploadPart"); a failure while reading a body that
	// Open returned is reported as "GetObject".
	Op string
	// Bucket and Key name the object, where known.
	Bucket, Key string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	if e.Bucket == "" && e.Key == "" {
		return fmt.Sprintf("payload %s: %v", e.Op, e.Err)
	}
	return fmt.Sprintf("payload %s s3://%s/%s: %v", e.Op, e.Bucket, e.Key, e.Err)
}

// Unwrap returns the cause, so that errors.Is and errors.As see through it.
func (e *Error) Unwrap() error { return e.Err }

// InputError reports invalid input to a method of an sqsx or snsx Client,
// naming the field. Nothing was sent or stored.
//
//	var ie *payload.InputError // or *sqsx.InputError, the same type
//	if errors.As(err, &ie) {
//		fmt.Println(ie.Field) // MessageAttributes["ExtendedPayloadSize"]
//	}
type InputError struct {
	// Op is the method: "SendMessage", "Publish", "DeleteMessage", ...
	Op string
	// Field names the offending input field.
	Field string
	// Err is the problem; it wraps a sentinel such as ErrReservedAttribute.
	Err error
}

func (e *InputError) Error() string {
	return fmt.Sprintf("sqsx: %s: %s: %v", e.Op, e.Field, e.Err)
}

// Unwrap returns the problem.
func (e *InputError) Unwrap() error { return e.Err }

// UnsupportedOperationError is returned by a pass-through method of an sqsx
// or snsx Client when the SDK client given to New does not implement that
// operation, for example a test fake of just the operations the Client
// changes.
type UnsupportedOperationError struct {
	Op string
}

func (e *UnsupportedOperationError) Error() string {
	return fmt.Sprintf("sqsx: the wrapped client does not implement %s", e.Op)
}

// Codes of the Failed entries that the batch operations of sqsx and snsx
// report for problems found before the service is called, and for an entry
// the service's answer leaves out (CodeEntryResultMissing). SenderFault is
// true for all but CodePayloadUploadFailed and CodeEntryResultMissing.
const (
	CodeReservedAttribute    = "ReservedAttributeName"
	CodeEmptyMessageBody     = "EmptyMessageBody"
	CodeTooManyAttributes    = "TooManyMessageAttributes"
	CodeAttributesTooLarge   = "MessageAttributesTooLarge"
	CodeNoBucket             = "PayloadBucketNotConfigured"
	CodePayloadUploadFailed  = "PayloadUploadFailed"
	CodeInvalidReceiptHandle = "ReceiptHandleIsInvalid"
	CodeBucketNotAllowed     = "PayloadBucketNotAllowed"
	CodeKeyNotAllowed        = "PayloadKeyNotAllowed"
	// CodeEntryResultMissing: the service's answer named the entry neither
	// as successful nor as failed (a garbled answer), so it may have been
	// sent or not; its payload is kept. Sending it again may make a copy.
	CodeEntryResultMissing = "EntryResultMissing"
)

// CodeFor returns the code of the Failed batch entry that reports err, one
// of the Code constants, or "InvalidParameterValue" for an error they do not
// name.
func CodeFor(err error) string {
	switch {
	case errors.Is(err, ErrReservedAttribute):
		return CodeReservedAttribute
	case errors.Is(err, ErrEmptyBody):
		return CodeEmptyMessageBody
	case errors.Is(err, ErrTooManyAttributes):
		return CodeTooManyAttributes
	case errors.Is(err, ErrAttributesTooLarge):
		return CodeAttributesTooLarge
	case errors.Is(err, ErrNoBucket):
		return CodeNoBucket
	case errors.Is(err, ErrInvalidReceiptHandle):
		return CodeInvalidReceiptHandle
	case errors.Is(err, ErrBucketNotAllowed):
		return CodeBucketNotAllowed
	case errors.Is(err, ErrKeyNotAllowed):
		return CodeKeyNotAllowed
	}
	return "InvalidParameterValue"
}
