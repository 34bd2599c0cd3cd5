package payload

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestFanoutMetadataKey(t *testing.T) {
	// S3 returns user metadata keys in lower case (the SDK lowercases the
	// x-amz-meta-* header names), so the key must be lower case to be found.
	if FanoutMetadataKey != strings.ToLower(FanoutMetadataKey) || FanoutMetadataKey != "sqsx-fanout" {
		t.Errorf("expect %q, got %q", "sqsx-fanout", FanoutMetadataKey)
	}
}

// TestGetSharedReadsFanoutMarker: GetShared reports a payload as shared only
// when its object's metadata carries the marker with the value "true".
func TestGetSharedReadsFanoutMarker(t *testing.T) {
	cases := map[string]struct {
		metadata map[string]string
		shared   bool
	}{
		"marker":            {map[string]string{"sqsx-fanout": "true"}, true},
		"marker and others": {map[string]string{"team": "blue", "sqsx-fanout": "true"}, true},
		"no metadata":       {nil, false},
		"other metadata":    {map[string]string{"team": "blue"}, false},
		"marker false":      {map[string]string{"sqsx-fanout": "false"}, false},
		"marker empty":      {map[string]string{"sqsx-fanout": ""}, false},
		"another key":       {map[string]string{"sqsx-fanout-x": "true"}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeS3()
			f.getObject = func(_ context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				return &s3.GetObjectOutput{
					Body:          io.NopCloser(strings.NewReader("the payload")),
					ContentLength: aws.Int64(int64(len("the payload"))),
					Metadata:      tc.metadata,
				}, nil
			}
			s, err := NewStore(f, StoreOptions{Bucket: "fan-bucket"})
			if err != nil {
				t.Fatal(err)
			}
			body, shared, err := s.GetShared(context.Background(), Pointer{Bucket: "fan-bucket", Key: "k"})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if body != "the payload" {
				t.Errorf("expect %q, got %q", "the payload", body)
			}
			if shared != tc.shared {
				t.Errorf("expect shared %v, got %v", tc.shared, shared)
			}
			// Get returns the same body and ignores the marker.
			if got, err := s.Get(context.Background(), Pointer{Bucket: "fan-bucket", Key: "k"}); err != nil || got != "the payload" {
				t.Errorf("expect Get to return %q, got %q, %v", "the payload", got, err)
			}
		})
	}
}

func TestGetSharedErrors(t *testing.T) {
	cases := map[string]struct {
		p      Pointer
		target error
		calls  int
	}{
		"bucket not allowed": {Pointer{Bucket: "other-bucket", Key: "k"}, ErrBucketNotAllowed, 0},
		"object missing":     {Pointer{Bucket: "fan-bucket", Key: "gone"}, ErrNotFound, 1},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFakeS3()
			s, err := NewStore(f, StoreOptions{Bucket: "fan-bucket"})
			if err != nil {
				t.Fatal(err)
			}
			body, shared, err := s.GetShared(context.Background(), tc.p)
			if !errors.Is(err, tc.target) {
				t.Fatalf("expect %v, got %v", tc.target, err)
			}
			var perr *Error
			if !errors.As(err, &perr) || perr.Op != "GetObject" || perr.Bucket != tc.p.Bucket || perr.Key != tc.p.Key {
				t.Errorf("expect a *Error naming GetObject and %v, got %v", tc.p, err)
			}
			if body != "" || shared {
				t.Errorf("expect no body and not shared, got %q, %v", body, shared)
			}
			if got := len(f.Calls()); got != tc.calls {
				t.Errorf("expect %v calls, got %v", tc.calls, got)
			}
		})
	}
	// The SDK's error stays reachable.
	f := newFakeS3()
	s, _ := NewStore(f, StoreOptions{Bucket: "fan-bucket"})
	_, _, err := s.GetShared(context.Background(), Pointer{Bucket: "fan-bucket", Key: "gone"})
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("expect *s3types.NoSuchKey reachable, got %v", err)
	}
}
