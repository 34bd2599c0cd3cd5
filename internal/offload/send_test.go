package offload

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// deleteCounter is an S3 client that only counts deletions.
type deleteCounter struct {
	payload.S3API
	deletes int
}

func (d *deleteCounter) DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	d.deletes++
	return &s3.DeleteObjectOutput{}, nil
}

type options struct{}

func install(*outcome.Tracker) func(*options) { return func(*options) {} }

// TestSendSurvivesSDKPanic: a panic of the SDK while it reads an answer (the
// SQS client's batch checksum validation on an entry without an Id) is an
// ambiguous failure: the payload stays, and the caller's process lives.
func TestSendSurvivesSDKPanic(t *testing.T) {
	s3c := &deleteCounter{}
	store, err := payload.NewStore(s3c, payload.StoreOptions{Bucket: "bucket"})
	if err != nil {
		t.Fatal(err)
	}
	p := payload.Pointer{Bucket: "bucket", Key: "k"}
	call := func(context.Context, string, ...func(*options)) (string, error) {
		var m map[string]string
		//lint:ignore SA5000 the panic is what the test needs.
		m["entry without an id"] = "x" // a nil map write: the kind of panic a nil dereference is
		return "", nil
	}
	var tr outcome.Tracker
	_, err = Send(context.Background(), store, "SendMessageBatch", call, "in", nil, install, &tr, p)
	if !errors.Is(err, ErrSDKPanic) {
		t.Fatalf("expect ErrSDKPanic, got %v", err)
	}
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 1 {
		t.Fatalf("expect the payload kept and named, got %v", err)
	}
	if s3c.deletes != 0 {
		t.Errorf("expect no deletion after a panic that followed the request, got %d", s3c.deletes)
	}
}
