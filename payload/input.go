package payload

import (
	"errors"
	"fmt"
)

// Sentinel errors of the checks a sender makes before anything is sent. They
// serve sqsx and snsx alike, which re-export them.
var (
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
// report for problems found before the service is called. SenderFault is true
// for all but CodePayloadUploadFailed.
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
