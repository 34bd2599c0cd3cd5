package sqsx

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sqsx/sqsx/payload"
)

// Sentinel errors, for errors.Is. The payload ones are the same values as in
// package payload.
var (
	// ErrPayloadNotFound: the S3 object a message points to does not exist.
	ErrPayloadNotFound = payload.ErrNotFound
	// ErrBucketNotAllowed: a pointer names a bucket outside AllowedBuckets.
	ErrBucketNotAllowed = payload.ErrBucketNotAllowed
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
// when PayloadNotFound is PayloadNotFoundReturn and some messages could not be
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

// UnresolvedMessage names one message whose payload could not be resolved.
type UnresolvedMessage struct {
	MessageID string
	// Err wraps ErrPayloadNotFound, ErrBucketNotAllowed, ErrInvalidPointer
	// or ErrPayloadTooLarge.
	Err error
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
	}
	return "InvalidParameterValue"
}
