package payload

import (
	"errors"
	"fmt"
	"testing"

	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestErrorMessage(t *testing.T) {
	cause := errors.New("boom")
	cases := map[string]struct {
		err  *Error
		want string
	}{
		"with object":  {&Error{Op: "GetObject", Bucket: "my-bucket", Key: "p/k", Err: cause}, "payload GetObject s3://my-bucket/p/k: boom"},
		"bucket only":  {&Error{Op: "DeleteObjects", Bucket: "my-bucket", Err: cause}, "payload DeleteObjects s3://my-bucket/: boom"},
		"key only":     {&Error{Op: "GetObject", Key: "k", Err: cause}, "payload GetObject s3:///k: boom"},
		"no object":    {&Error{Op: "DecodePointer", Err: cause}, "payload DecodePointer: boom"},
		"wrapped":      {&Error{Op: "GetObject", Bucket: "b-1", Key: "k", Err: fmt.Errorf("%w: x", ErrNotFound)}, "payload GetObject s3://b-1/k: payload not found: x"},
		"nil cause":    {&Error{Op: "PutObject", Bucket: "b-1", Key: "k"}, "payload PutObject s3://b-1/k: <nil>"},
		"sentinel too": {&Error{Op: "GetObject", Bucket: "b-1", Key: "k", Err: ErrTooLarge}, "payload GetObject s3://b-1/k: payload too large"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := c.err.Error(); got != c.want {
				t.Errorf("expect %q, got %q", c.want, got)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	nsk := &s3types.NoSuchKey{}
	perr := &Error{Op: "GetObject", Bucket: "my-bucket", Key: "k", Err: fmt.Errorf("%w: %w", ErrNotFound, nsk)}
	// Callers may wrap it again.
	var err error = fmt.Errorf("receive: %w", perr)

	if !errors.Is(err, ErrNotFound) {
		t.Errorf("expect errors.Is(err, ErrNotFound), got %v", err)
	}
	for _, other := range []error{ErrTooLarge, ErrBucketNotAllowed, ErrInvalidPointer, ErrInvalidReceiptHandle} {
		if errors.Is(err, other) {
			t.Errorf("expect not errors.Is(err, %v), got true", other)
		}
	}
	var gotNSK *s3types.NoSuchKey
	if !errors.As(err, &gotNSK) || gotNSK != nsk {
		t.Errorf("expect errors.As to find %p, got %p", nsk, gotNSK)
	}
	var gotPerr *Error
	if !errors.As(err, &gotPerr) || gotPerr != perr {
		t.Fatalf("expect errors.As to find %p, got %p", perr, gotPerr)
	}
	if gotPerr.Op != "GetObject" || gotPerr.Bucket != "my-bucket" || gotPerr.Key != "k" {
		t.Errorf("expect GetObject my-bucket k, got %s %s %s", gotPerr.Op, gotPerr.Bucket, gotPerr.Key)
	}
	if got := perr.Unwrap(); got != perr.Err {
		t.Errorf("expect %v, got %v", perr.Err, got)
	}
}

func TestSentinelsAreDistinct(t *testing.T) {
	all := []error{ErrNotFound, ErrBucketNotAllowed, ErrInvalidPointer, ErrInvalidReceiptHandle, ErrTooLarge, ErrNoBucket}
	for i, a := range all {
		for j, b := range all {
			if i != j && errors.Is(a, b) {
				t.Errorf("expect %v and %v distinct, got errors.Is true", a, b)
			}
		}
	}
}
