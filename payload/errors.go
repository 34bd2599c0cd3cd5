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
