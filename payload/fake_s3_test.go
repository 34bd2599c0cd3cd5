package payload

import (
	"context"
	"fmt"
	"hash/crc32"
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
	crc32c  map[string]string // bucket + "/" + key: base64 CRC32C, if stored
	uploads map[string]map[int32]string
	nextID  int

	putObject     func(context.Context, *s3.PutObjectInput) (*s3.PutObjectOutput, error)
	getObject     func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error)
	deleteObject  func(context.Context, *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error)
	deleteObjects func(context.Context, *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error)
	uploadPart    func(context.Context, *s3.UploadPartInput) (*s3.UploadPartOutput, error)
}

var _ S3API = (*fakeS3)(nil)

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string]string{}, crc32c: map[string]string{}, uploads: map[string]map[int32]string{}}
}

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

// setObject stores an object without a checksum.
func (f *fakeS3) setObject(bucket, key, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[bucket+"/"+key] = body
	delete(f.crc32c, bucket+"/"+key)
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
	if in.ChecksumAlgorithm == s3types.ChecksumAlgorithmCrc32c {
		// What the SDK computes and S3 stores.
		f.mu.Lock()
		f.crc32c[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)] = crc32cBase64(crc32.Checksum(data, crc32cTable))
		f.mu.Unlock()
	}
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
	out := &s3.GetObjectOutput{
		Body:          newFakeBody(data),
		ContentLength: aws.Int64(int64(len(data))),
	}
	if in.ChecksumMode == s3types.ChecksumModeEnabled {
		f.mu.Lock()
		if v, ok := f.crc32c[aws.ToString(in.Bucket)+"/"+aws.ToString(in.Key)]; ok {
			out.ChecksumCRC32C = aws.String(v)
		}
		f.mu.Unlock()
	}
	return out, nil
}

// The multipart operations keep parts in memory and assemble them in
// CompleteMultipartUpload; they check only what the store's own tests need
// (sqsxtest.S3 has the full S3 semantics).

func (f *fakeS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	f.record("CreateMultipartUpload", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := fmt.Sprint("upload-", f.nextID)
	f.uploads[id] = map[int32]string{}
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String(id)}, nil
}

func (f *fakeS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	f.record("UploadPart", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if f.uploadPart != nil {
		return f.uploadPart(ctx, in)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, &s3types.NoSuchUpload{}
	}
	parts[aws.ToInt32(in.PartNumber)] = string(data)
	return &s3.UploadPartOutput{ETag: aws.String(fmt.Sprint(aws.ToInt32(in.PartNumber)))}, nil
}

func (f *fakeS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	f.record("CompleteMultipartUpload", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	parts, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, &s3types.NoSuchUpload{}
	}
	var sb strings.Builder
	for _, p := range in.MultipartUpload.Parts {
		data, ok := parts[aws.ToInt32(p.PartNumber)]
		if !ok {
			return nil, fmt.Errorf("fake: part %d not uploaded", aws.ToInt32(p.PartNumber))
		}
		sb.WriteString(data)
	}
	delete(f.uploads, aws.ToString(in.UploadId))
	k := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	f.objects[k] = sb.String()
	f.crc32c[k] = aws.ToString(in.ChecksumCRC32C)
	return &s3.CompleteMultipartUploadOutput{}, nil
}

func (f *fakeS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.record("AbortMultipartUpload", aws.ToString(in.Bucket), []string{aws.ToString(in.Key)}, in, optFns)
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.uploads[aws.ToString(in.UploadId)]; !ok {
		return nil, &s3types.NoSuchUpload{}
	}
	delete(f.uploads, aws.ToString(in.UploadId))
	return &s3.AbortMultipartUploadOutput{}, nil
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
