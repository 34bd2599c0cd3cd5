package sqsx

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/payload"
)

// Sentinel errors, for errors.Is. The payload ones are the same values as in
// package payload.
var (
	// ErrPayloadNotFound: the S3 object a message points to does not exist.
	ErrPayloadNotFound = payload.ErrNotFound
	// ErrBucketNotAllowed: a pointer names a bucket outside AllowedBuckets.
	ErrBucketNotAllowed = payload.ErrBucketNotAllowed
	// ErrKeyNotAllowed: a pointer names a key outside AllowedKeyPrefixes.
	ErrKeyNotAllowed = payload.ErrKeyNotAllowed
	// ErrChecksumMismatch: a payload read from S3 does not match the
	// checksum stored with it.
	ErrChecksumMismatch = payload.ErrChecksumMismatch
	// ErrInvalidPointer: a message marked as offloaded has a body that is not
	// a valid pointer.
	ErrInvalidPointer = payload.ErrInvalidPointer
	// ErrInvalidReceiptHandle: a receipt handle has the payload markers but
	// not their layout.
	ErrInvalidReceiptHandle = payload.ErrInvalidReceiptHandle
	// ErrPayloadTooLarge: a payload is larger than Options.MaxPayloadSize.
	ErrPayloadTooLarge = payload.ErrTooLarge
	// ErrNoBucket: a message must be offloaded but Options.Bucket is not set.
	ErrNoBucket = payload.ErrNoBucket

	// ErrReservedAttribute: the caller set a reserved attribute
	// (ExtendedPayloadSize or SQSLargePayloadSize) on a message.
	ErrReservedAttribute = payload.ErrReservedAttribute
	// ErrTooManyAttributes: a message to offload has more than
	// MaxAttributes-1 attributes.
	ErrTooManyAttributes = payload.ErrTooManyAttributes
	// ErrAttributesTooLarge: a message's attributes are so large that even
	// with its body offloaded it is over the threshold.
	ErrAttributesTooLarge = payload.ErrAttributesTooLarge
	// ErrEmptyBody: a message has an empty body, which SQS does not accept.
	ErrEmptyBody = payload.ErrEmptyBody
)

// PayloadError is returned when an S3 operation on a payload fails; it names
// the operation, bucket and key. It is payload.Error.
type PayloadError = payload.Error

// InputError reports invalid input to a Client method, naming the field. It
// is payload.InputError, which snsx returns too.
//
//	var ie *sqsx.InputError
//	if errors.As(err, &ie) {
//		fmt.Println(ie.Field) // MessageAttributes["ExtendedPayloadSize"]
//	}
type InputError = payload.InputError

// UnresolvedError is returned by ReceiveMessage, together with its output,
// when Unresolved is UnresolvedReturn and some messages could not be
// resolved. Those messages are in the output unchanged: pointer body, size
// attribute and original receipt handle.
//
//	out, err := client.ReceiveMessage(ctx, in)
//	var ue *sqsx.UnresolvedError
//	if errors.As(err, &ue) {
//		for _, m := range ue.Messages { log.Print(m.MessageID, m.Err) }
//	} else if err != nil {
//		return err
//	}
//	// process out.Messages, skipping ue's ones
type UnresolvedError struct {
	Messages []UnresolvedMessage
}

// UnresolvedMessage names one received message whose payload could not be
// resolved, and what ReceiveMessage did with it.
type UnresolvedMessage struct {
	MessageID string
	// Message is the message as SQS delivered it: its pointer body (or SNS
	// envelope), its size attribute and its original receipt handle.
	Message types.Message
	// Code says why, as a Code constant: CodePayloadNotFound,
	// CodeBucketNotAllowed, CodeKeyNotAllowed, CodeInvalidPointer,
	// CodePayloadTooLarge, CodePayloadChecksumMismatch,
	// CodeAttributesChecksumMismatch, CodeBodyChecksumMismatch,
	// CodeMessageIncomplete, CodePayloadAccessDenied, CodePayloadRejected or
	// CodePayloadUnavailable.
	Code string
	// Action is what was done with the message.
	Action UnresolvedAction
	// Err is the failure. It wraps a sentinel such as ErrPayloadNotFound
	// where one applies, and the S3 error.
	Err error
}

// UnresolvedAction is what ReceiveMessage did with an unresolved message.
type UnresolvedAction int

const (
	// UnresolvedLeft: the message was left in the queue, out of the
	// output; it becomes visible again after its visibility timeout.
	UnresolvedLeft UnresolvedAction = iota
	// UnresolvedDeleted: the message was deleted from the queue.
	UnresolvedDeleted
	// UnresolvedReturned: the message is in the output, unresolved
	// (UnresolvedReturn).
	UnresolvedReturned
)

func (a UnresolvedAction) String() string {
	switch a {
	case UnresolvedLeft:
		return "left"
	case UnresolvedDeleted:
		return "deleted"
	case UnresolvedReturned:
		return "returned"
	}
	return fmt.Sprintf("UnresolvedAction(%d)", int(a))
}

func (e *UnresolvedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqsx: %d message(s) could not be resolved", len(e.Messages))
	for _, m := range e.Messages {
		fmt.Fprintf(&b, "; %s: %v", m.MessageID, m.Err)
	}
	return b.String()
}

// Unwrap returns each message's error, so errors.Is(err, ErrPayloadNotFound)
// works.
func (e *UnresolvedError) Unwrap() []error {
	errs := make([]error, len(e.Messages))
	for i, m := range e.Messages {
		errs[i] = m.Err
	}
	return errs
}

// UnsupportedOperationError is returned by a pass-through method when the
// SDK client given to New does not implement that operation, for example a
// test fake of just SQSAPI. It is payload.UnsupportedOperationError.
type UnsupportedOperationError = payload.UnsupportedOperationError

// Codes of the Failed entries that batch operations report for problems
// found before SQS is called, and for an entry SQS's answer leaves out
// (CodeEntryResultMissing), re-exported from package payload. SenderFault is
// true for all but CodePayloadUploadFailed and CodeEntryResultMissing.
const (
	CodeReservedAttribute    = payload.CodeReservedAttribute
	CodeEmptyMessageBody     = payload.CodeEmptyMessageBody
	CodeTooManyAttributes    = payload.CodeTooManyAttributes
	CodeAttributesTooLarge   = payload.CodeAttributesTooLarge
	CodeNoBucket             = payload.CodeNoBucket
	CodePayloadUploadFailed  = payload.CodePayloadUploadFailed
	CodeInvalidReceiptHandle = payload.CodeInvalidReceiptHandle
	CodeBucketNotAllowed     = payload.CodeBucketNotAllowed
	CodeKeyNotAllowed        = payload.CodeKeyNotAllowed
	CodeEntryResultMissing   = payload.CodeEntryResultMissing
)

// Codes of UnresolvedMessage, besides CodeBucketNotAllowed and
// CodeKeyNotAllowed: why a received message's payload could not be resolved.
const (
	// CodePayloadNotFound: the object does not exist (S3 404).
	CodePayloadNotFound = "PayloadNotFound"
	// CodeInvalidPointer: the body is not a valid pointer.
	CodeInvalidPointer = "InvalidPayloadPointer"
	// CodePayloadTooLarge: the object is larger than the limit.
	CodePayloadTooLarge = "PayloadTooLarge"
	// CodePayloadChecksumMismatch: the bytes read do not match the
	// object's checksum.
	CodePayloadChecksumMismatch = "PayloadChecksumMismatch"
	// CodeAttributesChecksumMismatch: the message's attributes do not
	// match the MD5OfMessageAttributes SQS sent (a corrupted answer), so
	// whether its body is a pointer cannot be trusted.
	CodeAttributesChecksumMismatch = "MessageAttributesChecksumMismatch"
	// CodeMessageIncomplete: the message lacks its id, receipt handle or
	// body, which SQS always sends (a corrupted answer).
	CodeMessageIncomplete = "MessageIncomplete"
	// CodeBodyChecksumMismatch: the message's body does not match the
	// MD5OfBody SQS sent (a corrupted answer).
	CodeBodyChecksumMismatch = "MessageBodyChecksumMismatch"
	// CodePayloadAccessDenied: S3 answered 403, which it also does for a
	// missing key when the reader may not list the bucket.
	CodePayloadAccessDenied = "PayloadAccessDenied"
	// CodePayloadRejected: S3 refused the read with another 4xx (for
	// example a key too long for the server).
	CodePayloadRejected = "PayloadRejected"
	// CodePayloadUnavailable: S3 failed (5xx, network, timeouts after the
	// SDK's retries) or ctx ended first; the next receive may succeed.
	CodePayloadUnavailable = "PayloadUnavailable"
)

// CodeFor returns the code of the Failed batch entry that reports err, one
// of the Code constants, or "InvalidParameterValue" for an error they do not
// name. It is payload.CodeFor.
func CodeFor(err error) string { return payload.CodeFor(err) }
