package sqsx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

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
	ErrReservedAttribute = errors.New("reserved message attribute")
	// ErrTooManyAttributes: a message to offload has more than
	// MaxAttributes-1 attributes.
	ErrTooManyAttributes = errors.New("too many message attributes")
	// ErrAttributesTooLarge: a message's attributes are so large that even
	// with its body offloaded it is over the threshold.
	ErrAttributesTooLarge = errors.New("message attributes too large")
	// ErrEmptyBody: a message has an empty body, which SQS does not accept.
	ErrEmptyBody = errors.New("empty message body")
)

// PayloadError is returned when an S3 operation on a payload fails; it names
// the operation, bucket and key. It is payload.Error.
type PayloadError = payload.Error

// InputError reports invalid input to a Client method, naming the field.
//
//	var ie *sqsx.InputError
//	if errors.As(err, &ie) {
//		fmt.Println(ie.Field) // MessageAttributes["ExtendedPayloadSize"]
//	}
type InputError struct {
	// Op is the method: "SendMessage", "DeleteMessage", ...
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
	// CodePayloadAccessDenied, CodePayloadRejected or CodePayloadUnavailable.
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

// unresolvedKey is the ResultMetadata key of the unresolved messages.
type unresolvedKey struct{}

// GetUnresolvedMessages returns the messages of a ReceiveMessage (or
// ReceiveMessageUnresolved) call whose payloads could not be resolved, with
// what was done with each, from the output's ResultMetadata. It returns nil
// when every message resolved.
//
//	out, err := client.ReceiveMessage(ctx, in)
//	for _, u := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
//		log.Printf("%s: %s, %s", u.MessageID, u.Code, u.Action)
//	}
func GetUnresolvedMessages(metadata middleware.Metadata) []UnresolvedMessage {
	v, _ := metadata.Get(unresolvedKey{}).([]UnresolvedMessage)
	return v
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
// SDK client given to New (of sqsx or snsx) does not implement that operation,
// for example a test fake of just SQSAPI.
type UnsupportedOperationError struct {
	Op string
}

func (e *UnsupportedOperationError) Error() string {
	return fmt.Sprintf("sqsx: the wrapped client does not implement %s", e.Op)
}

// Codes of the Failed entries that batch operations report for problems
// found before SQS is called. SenderFault is true for all but
// CodePayloadUploadFailed.
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
// name. It serves batch operations of both sqsx and snsx.
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
