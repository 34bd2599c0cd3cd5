package payload

import (
	"fmt"
	"strings"
)

// Markers that delimit the bucket and the key in a modified receipt handle.
const (
	BucketMarker = "-..s3BucketName..-"
	KeyMarker    = "-..s3Key..-"
)

// ReceiptHandle is a receipt handle as a consumer hands it back: the handle
// SQS issued plus, for an offloaded message, the pointer to its payload. Its
// String form is
//
//	-..s3BucketName..-<bucket>-..s3BucketName..--..s3Key..-<key>-..s3Key..-<original>
//
// which is what the Java and Python clients put in Message.ReceiptHandle.
type ReceiptHandle struct {
	// Original is the handle SQS issued; it is what SQS must be sent.
	Original string
	// Pointer names the payload; the zero Pointer means none.
	Pointer Pointer
}

// HasPointer reports whether the handle names a payload.
func (h ReceiptHandle) HasPointer() bool { return h.Pointer != Pointer{} }

// String returns the handle to give to callers: the original handle unchanged
// if there is no pointer, or the modified form.
func (h ReceiptHandle) String() string {
	if !h.HasPointer() {
		return h.Original
	}
	return BucketMarker + h.Pointer.Bucket + BucketMarker +
		KeyMarker + h.Pointer.Key + KeyMarker + h.Original
}

// ParseReceiptHandle splits a handle given back by a caller. A handle that
// does not contain both markers is returned as Original, untouched. A handle
// that does must have the layout String writes, a non-empty original, and a
// pointer that passes Pointer.Validate; otherwise the error wraps
// ErrInvalidReceiptHandle.
func ParseReceiptHandle(s string) (ReceiptHandle, error) {
	if !strings.Contains(s, BucketMarker) || !strings.Contains(s, KeyMarker) {
		return ReceiptHandle{Original: s}, nil
	}
	bucket, rest, ok := between(s, BucketMarker)
	if !ok {
		return ReceiptHandle{}, fmt.Errorf("%w: malformed bucket section", ErrInvalidReceiptHandle)
	}
	key, orig, ok := between(rest, KeyMarker)
	if !ok {
		return ReceiptHandle{}, fmt.Errorf("%w: malformed key section", ErrInvalidReceiptHandle)
	}
	if orig == "" {
		return ReceiptHandle{}, fmt.Errorf("%w: no original handle after the markers", ErrInvalidReceiptHandle)
	}
	p := Pointer{Bucket: bucket, Key: key}
	if err := p.Validate(); err != nil {
		return ReceiptHandle{}, fmt.Errorf("%w: %w", ErrInvalidReceiptHandle, err)
	}
	return ReceiptHandle{Original: orig, Pointer: p}, nil
}

// between expects s to be marker + value + marker + rest.
func between(s, marker string) (value, rest string, ok bool) {
	s, ok = strings.CutPrefix(s, marker)
	if !ok {
		return "", "", false
	}
	return strings.Cut(s, marker)
}
