package payload

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// s3Call is one invocation recorded by fakeS3.
type s3Call struct {
	Op     string
	Bucket string
	Keys   []string
	Input  any // the *s3.XxxInput as passed
	OptFns []func(*s3.Options)
}

// fakeS3 is an in-memory S3API. A non-nil per-operation func replaces the
// default behaviour of that operation; calls are recorded either way.
type fakeS3 struct {
	mu      sync.Mutex
	calls   []s3Call
	objects map[string]string // bucket + "/" + key

	putObject     func(context.Context, *s3.PutObjectInput) (*s3.PutObjectOutput, error)
	getObject     func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error)
	deleteObject  func(context.Context, *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error)
	deleteObjects func(context.Context, *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error)
}

var _ S3API = (*fakeS3)(nil)

func newFakeS3() *fakeS3 { return &fakeS3{objects: map[string]string{}} }

func (f *fakeS3) record(op, bucket string, keys []string, in any, optFns []func(*s3.Options)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s3Call{Op: op, Bucket: bucket, Keys: keys, Input: in, OptFns: optFns})
}

// Calls returns a copy of the recorded calls.
func (f *fakeS3) Calls() []s3Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]s3Call(nil), f.calls...)
}

// Ops returns the names of the recorded operations, in order.
func (f *fakeS3) Ops() []string {
	var ops []string
	for _, c := range f.Calls() {
		ops = append(ops, c.Op)
	}
	return ops
}

func (f *fakeS3) object(bucket, key string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, ok := f.objects[bucket+"/"+key]
	return body, ok
}

func (f *fakeS3) setObject(bucket, key, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[bucket+"/"+key] = body
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.record("PutObject", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if f.putObject != nil {
		return f.putObject(ctx, in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if in.ContentLength != nil && *in.ContentLength != int64(len(data)) {
		return nil, fmt.Errorf("fake: ContentLength %d, body %d bytes", *in.ContentLength, len(data))
	}
	f.setObject(aws.ToString(in.Bucket), aws.ToString(in.Key), string(data))
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	f.record("GetObject", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if f.getObject != nil {
		return f.getObject(ctx, in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, ok := f.object(aws.ToString(in.Bucket), aws.ToString(in.Key))
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	return &s3.GetObjectOutput{
		Body:          newFakeBody(data),
		ContentLength: aws.Int64(int64(len(data))),
	}, nil
}

func (f *fakeS3) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	f.record("DeleteObject", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if f.deleteObject != nil {
		return f.deleteObject(ctx, in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// Like S3: deleting a missing key succeeds.
	delete(f.objects, aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

func (f *fakeS3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	var keys []string
	if in.Delete != nil {
		for _, o := range in.Delete.Objects {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	f.record("DeleteObjects", aws.ToString(in.Bucket), keys, in, optFns)
	if f.deleteObjects != nil {
		return f.deleteObjects(ctx, in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		delete(f.objects, aws.ToString(in.Bucket)+"/"+k)
	}
	return &s3.DeleteObjectsOutput{}, nil
}

// fakeBody is a GetObject body that counts reads and records Close.
type fakeBody struct {
	mu     sync.Mutex
	r      io.Reader
	reads  int
	closed bool
}

func newFakeBody(data string) *fakeBody { return &fakeBody{r: strings.NewReader(data)} }

func (b *fakeBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reads++
	return b.r.Read(p)
}

func (b *fakeBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}

// state returns the number of reads and whether Close was called.
func (b *fakeBody) state() (reads int, closed bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.reads, b.closed
}
