package payload

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/sqsx/sqsx/sqsxtest"
)

// testPartSize is the part size of the streaming tests: small, so that
// multipart uploads take little data.
const testPartSize = 64

// newStreamStore returns a Store over a fresh sqsxtest.S3 with parts of
// testPartSize bytes (which S3 would refuse, and the fake is told to accept).
func newStreamStore(t *testing.T, opts StoreOptions) (*Store, *sqsxtest.S3) {
	t.Helper()
	f := sqsxtest.NewS3(nil)
	f.MinPartSize = 1
	if opts.Bucket == "" {
		opts.Bucket = testBucket
	}
	s, err := NewStore(f, opts)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	s.opts.PartSize = testPartSize
	return s, f
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n), byte(n >> 8), byte(n >> 16)})
	r.Read(b)
	return b
}

func crc32cOf(b []byte) string { return crc32cBase64(crc32.Checksum(b, crc32cTable)) }

// assertNoUploads fails t if f has multipart uploads in progress.
func assertNoUploads(t *testing.T, f *sqsxtest.S3) {
	t.Helper()
	if ups := f.MultipartUploads(); len(ups) != 0 {
		t.Errorf("expect no multipart upload left, got %+v", ups)
	}
}

func TestPartSize(t *testing.T) {
	s, err := NewStore(sqsxtest.NewS3(nil), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	big, err := NewStore(sqsxtest.NewS3(nil), StoreOptions{PartSize: 100 << 20})
	if err != nil {
		t.Fatal(err)
	}
	const MiB = 1 << 20
	cases := map[string]struct {
		s    *Store
		size int64
		want int64
	}{
		"unknown":                  {s, -1, DefaultPartSize},
		"empty":                    {s, 0, DefaultPartSize},
		"1 GiB":                    {s, 1 << 30, DefaultPartSize},
		"exactly 10000 parts":      {s, MaxParts * DefaultPartSize, DefaultPartSize},
		"one byte more":            {s, MaxParts*DefaultPartSize + 1, 9 * MiB},
		"100 GiB":                  {s, 100 << 30, 11 * MiB},
		"5 TiB":                    {s, 5 << 40, 525 * MiB},
		"beyond S3":                {s, 1 << 50, MaxPartSize},
		"configured, small stream": {big, 1 << 30, 100 << 20},
		"configured, 5 TiB":        {big, 5 << 40, 525 * MiB},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := c.s.partSize(c.size)
			if got != c.want {
				t.Errorf("expect %d, got %d", c.want, got)
			}
			if c.size > 0 && got < MaxPartSize && got*MaxParts < c.size {
				t.Errorf("expect %d parts of %d bytes to hold %d bytes", MaxParts, got, c.size)
			}
		})
	}
}

func TestNewStoreStreamOptions(t *testing.T) {
	cases := map[string]struct {
		opts   StoreOptions
		fields []string
	}{
		"defaults":             {StoreOptions{}, nil},
		"min part":             {StoreOptions{PartSize: MinPartSize}, nil},
		"max part":             {StoreOptions{PartSize: MaxPartSize}, nil},
		"part too small":       {StoreOptions{PartSize: MinPartSize - 1}, []string{"PartSize"}},
		"part too large":       {StoreOptions{PartSize: MaxPartSize + 1}, []string{"PartSize"}},
		"negative part":        {StoreOptions{PartSize: -1}, []string{"PartSize"}},
		"negative concurrency": {StoreOptions{UploadConcurrency: -1}, []string{"UploadConcurrency"}},
		"both":                 {StoreOptions{PartSize: 1, UploadConcurrency: -2}, []string{"PartSize", "UploadConcurrency"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := NewStore(sqsxtest.NewS3(nil), c.opts)
			if c.fields == nil {
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if s.opts.PartSize < MinPartSize || s.opts.UploadConcurrency < 1 {
					t.Errorf("expect defaults resolved, got PartSize %d, UploadConcurrency %d", s.opts.PartSize, s.opts.UploadConcurrency)
				}
				return
			}
			if err == nil {
				t.Fatalf("expect an error naming %v, got nil", c.fields)
			}
			if diff := cmp.Diff(c.fields, invalidFields(t, err)); diff != "" {
				t.Errorf("invalid fields (-expect +got):\n%s", diff)
			}
		})
	}
}

// readers returns the ways the streaming tests feed data to PutReader.
func readers() map[string]func([]byte) io.Reader {
	return map[string]func([]byte) io.Reader{
		"plain":      func(b []byte) io.Reader { return struct{ io.Reader }{bytes.NewReader(b)} },
		"with Len":   func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte":   func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"half":       func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"data, EOF":  func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"one at EOF": func(b []byte) io.Reader { return &eofWithDataReader{b: b} },
	}
}

// eofWithDataReader returns its last byte together with io.EOF.
type eofWithDataReader struct{ b []byte }

func (r *eofWithDataReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b[:min(len(r.b), 7)])
	r.b = r.b[n:]
	if len(r.b) == 0 {
		return n, io.EOF
	}
	return n, nil
}

func TestPutReaderSinglePart(t *testing.T) {
	for _, size := range []int{0, 1, testPartSize - 1, testPartSize} {
		for name, mk := range readers() {
			t.Run(name+"/"+string(rune('0'+size%10)), func(t *testing.T) {
				s, f := newStreamStore(t, StoreOptions{})
				data := randomBytes(size)
				p, n, err := s.PutReader(t.Context(), mk(data))
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if n != int64(size) {
					t.Errorf("expect %d bytes, got %d", size, n)
				}
				if diff := cmp.Diff([]string{"PutObject"}, f.Log.Calls()); diff != "" {
					t.Errorf("calls (-expect +got):\n%s", diff)
				}
				in := sqsxtest.Params[*s3.PutObjectInput](f.Log)[0]
				if in.ChecksumAlgorithm != s3types.ChecksumAlgorithmCrc32c || aws.ToInt64(in.ContentLength) != int64(size) {
					t.Errorf("expect CRC32C and ContentLength %d, got %q, %d", size, in.ChecksumAlgorithm, aws.ToInt64(in.ContentLength))
				}
				got, ok := f.Object(p.Bucket, p.Key)
				if !ok || !bytes.Equal(got, data) {
					t.Fatalf("expect the %d bytes stored, got %d (%v)", size, len(got), ok)
				}
				if alg, _, v := f.Checksum(p.Bucket, p.Key); alg != s3types.ChecksumAlgorithmCrc32c || v != crc32cOf(data) {
					t.Errorf("expect CRC32C %s stored, got %s %s", crc32cOf(data), alg, v)
				}
			})
		}
	}
}

func TestPutReaderMultipart(t *testing.T) {
	for _, size := range []int{testPartSize + 1, 2 * testPartSize, 3*testPartSize - 1, 17*testPartSize + 5} {
		for name, mk := range readers() {
			t.Run(name, func(t *testing.T) {
				s, f := newStreamStore(t, StoreOptions{UploadConcurrency: 3})
				data := randomBytes(size)
				p, n, err := s.PutReader(t.Context(), mk(data))
				if err != nil {
					t.Fatalf("expect no error, got %v", err)
				}
				if n != int64(size) {
					t.Errorf("expect %d bytes, got %d", size, n)
				}
				parts := (size + testPartSize - 1) / testPartSize
				calls := f.Log.Calls()
				if len(calls) != parts+2 || calls[0] != "CreateMultipartUpload" || calls[len(calls)-1] != "CompleteMultipartUpload" ||
					f.Log.Count("UploadPart") != parts {
					t.Fatalf("expect CreateMultipartUpload, %d UploadPart, CompleteMultipartUpload, got %v", parts, calls)
				}
				create := sqsxtest.Params[*s3.CreateMultipartUploadInput](f.Log)[0]
				if create.ChecksumAlgorithm != s3types.ChecksumAlgorithmCrc32c || create.ChecksumType != s3types.ChecksumTypeFullObject {
					t.Errorf("expect CRC32C FULL_OBJECT, got %q %q", create.ChecksumAlgorithm, create.ChecksumType)
				}
				for _, up := range sqsxtest.Params[*s3.UploadPartInput](f.Log) {
					if up.ChecksumAlgorithm != s3types.ChecksumAlgorithmCrc32c {
						t.Errorf("expect every part with CRC32C, got %q", up.ChecksumAlgorithm)
					}
				}
				done := sqsxtest.Params[*s3.CompleteMultipartUploadInput](f.Log)[0]
				if aws.ToString(done.ChecksumCRC32C) != crc32cOf(data) || aws.ToInt64(done.MpuObjectSize) != int64(size) {
					t.Errorf("expect CRC32C %s and size %d, got %s and %d", crc32cOf(data), size, aws.ToString(done.ChecksumCRC32C), aws.ToInt64(done.MpuObjectSize))
				}
				got, ok := f.Object(p.Bucket, p.Key)
				if !ok || !bytes.Equal(got, data) {
					t.Fatalf("expect the %d bytes stored, got %d (%v)", size, len(got), ok)
				}
				if alg, typ, v := f.Checksum(p.Bucket, p.Key); alg != s3types.ChecksumAlgorithmCrc32c || typ != s3types.ChecksumTypeFullObject || v != crc32cOf(data) {
					t.Errorf("expect CRC32C FULL_OBJECT %s stored, got %s %s %s", crc32cOf(data), alg, typ, v)
				}
				assertNoUploads(t, f)
				// And it reads back, verified.
				back, err := s.Get(t.Context(), p)
				if err != nil || back != string(data) {
					t.Errorf("expect the data back, got %d bytes, %v", len(back), err)
				}
			})
		}
	}
}

func TestPutReaderBoundedBuffers(t *testing.T) {
	for _, conc := range []int{1, 2, 5} {
		t.Run(string(rune('0'+conc)), func(t *testing.T) {
			s, f := newStreamStore(t, StoreOptions{UploadConcurrency: conc})
			var mu sync.Mutex
			peakBufs := 0
			s.onPartBuffers = func(n int) {
				mu.Lock()
				defer mu.Unlock()
				peakBufs = max(peakBufs, n)
			}
			var active, peakActive atomic.Int32
			f.UploadPartFn = func(*s3.UploadPartInput) (*s3.UploadPartOutput, error) {
				n := active.Add(1)
				for {
					old := peakActive.Load()
					if n <= old || peakActive.CompareAndSwap(old, n) {
						break
					}
				}
				time.Sleep(200 * time.Microsecond)
				active.Add(-1)
				return nil, nil
			}
			data := randomBytes(40 * testPartSize)
			if _, _, err := s.PutReader(t.Context(), bytes.NewReader(data)); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if peakBufs > conc+1 {
				t.Errorf("expect at most %d buffers in use, got %d", conc+1, peakBufs)
			}
			if got := int(peakActive.Load()); got > conc {
				t.Errorf("expect at most %d concurrent UploadPart, got %d", conc, got)
			}
			if conc > 1 && peakActive.Load() < 2 {
				t.Errorf("expect parts uploaded concurrently, got at most %d at once", peakActive.Load())
			}
		})
	}
}

// ctxS3 is a sqsxtest.S3 whose UploadPart sees the context.
type ctxS3 struct {
	*sqsxtest.S3
	uploadPart func(context.Context, *s3.UploadPartInput) (*s3.UploadPartOutput, error)
}

func (c ctxS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	if out, err := c.uploadPart(ctx, in); out != nil || err != nil {
		return out, err
	}
	return c.S3.UploadPart(ctx, in, optFns...)
}

func TestPutReaderUploadPartFails(t *testing.T) {
	const conc = 2
	s, f := newStreamStore(t, StoreOptions{UploadConcurrency: conc})
	boom := &smithy.GenericAPIError{Code: "SlowDown", Message: "reduce your request rate"}
	var started atomic.Int32
	s.s3 = ctxS3{f, func(ctx context.Context, in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		started.Add(1)
		switch n := aws.ToInt32(in.PartNumber); {
		case n == 3:
			return nil, boom
		case n > 3:
			// Still in flight when part 3 fails.
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return nil, nil
	}}
	p := Pointer{Bucket: testBucket, Key: "k"}
	_, err := s.PutReaderAt(t.Context(), p, bytes.NewReader(randomBytes(20*testPartSize)))
	if !errors.Is(err, boom) {
		t.Fatalf("expect %v, got %v", boom, err)
	}
	if perr := asPayloadError(t, err); perr.Op != "UploadPart" || perr.Bucket != p.Bucket || perr.Key != p.Key {
		t.Errorf("expect UploadPart %v, got %s %s %s", p, perr.Op, perr.Bucket, perr.Key)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "SlowDown" {
		t.Errorf("expect the API error reachable, got %v", err)
	}
	if f.Log.Count("AbortMultipartUpload") != 1 || f.Log.Count("CompleteMultipartUpload") != 0 {
		t.Errorf("expect one abort and no completion, got %v", f.Log.Calls())
	}
	// Parts 1-3 and those in flight with part 3; none after it failed.
	if n := started.Load(); n > 3+conc-1 {
		t.Errorf("expect the upload to stop soon after the failure, got %d parts started", n)
	}
	assertNoUploads(t, f)
	if f.Len() != 0 {
		t.Errorf("expect no object, got %v", f.Keys())
	}
}

func TestPutReaderReadFails(t *testing.T) {
	boom := errors.New("disk on fire")
	cases := map[string]struct {
		before int
		op     string
		calls  []string
	}{
		"first part":  {before: testPartSize / 2, op: "PutObject"},
		"second part": {before: testPartSize + 3, op: "PutObject"},
		"later part":  {before: 5*testPartSize + 3, op: "UploadPart", calls: []string{"CreateMultipartUpload", "AbortMultipartUpload"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newStreamStore(t, StoreOptions{})
			r := io.MultiReader(bytes.NewReader(randomBytes(c.before)), iotest.ErrReader(boom))
			_, n, err := s.PutReader(t.Context(), r)
			if !errors.Is(err, boom) {
				t.Fatalf("expect %v, got %v", boom, err)
			}
			if n != int64(c.before) {
				t.Errorf("expect %d bytes read, got %d", c.before, n)
			}
			if perr := asPayloadError(t, err); perr.Op != c.op {
				t.Errorf("expect %s, got %s", c.op, perr.Op)
			}
			var calls []string
			for _, op := range f.Log.Calls() {
				if op != "UploadPart" {
					calls = append(calls, op)
				}
			}
			if diff := cmp.Diff(c.calls, calls); diff != "" {
				t.Errorf("calls besides UploadPart (-expect +got):\n%s", diff)
			}
			assertNoUploads(t, f)
			if f.Len() != 0 {
				t.Errorf("expect no object, got %v", f.Keys())
			}
		})
	}
}

// cancelReader cancels a context once it has returned after bytes.
type cancelReader struct {
	r      io.Reader
	after  int
	cancel context.CancelFunc
	n      int
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func TestPutReaderCanceled(t *testing.T) {
	t.Run("while reading", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		r := &cancelReader{r: bytes.NewReader(randomBytes(50 * testPartSize)), after: 10 * testPartSize, cancel: cancel}
		_, _, err := s.PutReader(ctx, r)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
		asPayloadError(t, err)
		if r.n >= 50*testPartSize {
			t.Errorf("expect reading to stop after the cancel, read everything")
		}
		if f.Log.Count("AbortMultipartUpload") != 1 || f.Log.Count("CompleteMultipartUpload") != 0 {
			t.Errorf("expect one abort and no completion, got %v", f.Log.Calls())
		}
		assertNoUploads(t, f)
	})
	t.Run("during a part", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		f.UploadPartFn = func(in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
			if aws.ToInt32(in.PartNumber) == 2 {
				cancel()
				return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "UploadPart", Err: context.Canceled}
			}
			return nil, nil
		}
		_, _, err := s.PutReader(ctx, bytes.NewReader(randomBytes(10*testPartSize)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
		if f.Log.Count("AbortMultipartUpload") != 1 {
			t.Errorf("expect one abort, got %v", f.Log.Calls())
		}
		assertNoUploads(t, f)
	})
	t.Run("before", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, _, err := s.PutReader(ctx, bytes.NewReader(randomBytes(10*testPartSize)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
		asPayloadError(t, err)
		assertNoUploads(t, f)
	})
}

func TestPutReaderCompleteFails(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	boom := &smithy.GenericAPIError{Code: "InternalError", Message: "We encountered an internal error."}
	f.CompleteMultipartUploadFn = func(*s3.CompleteMultipartUploadInput) (*s3.CompleteMultipartUploadOutput, error) {
		return nil, boom
	}
	_, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
	if !errors.Is(err, boom) {
		t.Fatalf("expect %v, got %v", boom, err)
	}
	if perr := asPayloadError(t, err); perr.Op != "CompleteMultipartUpload" {
		t.Errorf("expect CompleteMultipartUpload, got %s", perr.Op)
	}
	if f.Log.Count("AbortMultipartUpload") != 1 {
		t.Errorf("expect one abort, got %v", f.Log.Calls())
	}
	assertNoUploads(t, f)
}

func TestPutReaderAbortFails(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	boom := errors.New("part failed")
	abortErr := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	f.UploadPartFn = func(*s3.UploadPartInput) (*s3.UploadPartOutput, error) { return nil, boom }
	f.AbortMultipartUploadFn = func(*s3.AbortMultipartUploadInput) (*s3.AbortMultipartUploadOutput, error) { return nil, abortErr }
	_, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
	if !errors.Is(err, boom) || !errors.Is(err, abortErr) {
		t.Fatalf("expect both %v and %v, got %v", boom, abortErr, err)
	}
	if !strings.Contains(err.Error(), "AbortMultipartUpload") || !strings.Contains(err.Error(), "upload-1") {
		t.Errorf("expect the failed abort and its upload ID named, got %q", err)
	}
	// The upload is still there: the abort failed.
	if ups := f.MultipartUploads(); len(ups) != 1 {
		t.Errorf("expect the upload left, got %v", ups)
	}
}

func TestPutReaderAbortNoSuchUpload(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	boom := errors.New("complete timed out")
	f.CompleteMultipartUploadFn = func(in *s3.CompleteMultipartUploadInput) (*s3.CompleteMultipartUploadOutput, error) {
		return nil, boom
	}
	f.AbortMultipartUploadFn = func(*s3.AbortMultipartUploadInput) (*s3.AbortMultipartUploadOutput, error) {
		return nil, &s3types.NoSuchUpload{}
	}
	_, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
	var nsu *s3types.NoSuchUpload
	if !errors.Is(err, boom) || errors.As(err, &nsu) {
		t.Errorf("expect %v alone (an upload already gone is no failure to abort), got %v", boom, err)
	}
}

func TestPutReaderTooManyParts(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{UploadConcurrency: 8})
	s.opts.PartSize = 1
	// Without a Len method, the length is unknown and the part size stays.
	_, n, err := s.PutReader(t.Context(), struct{ io.Reader }{bytes.NewReader(make([]byte, MaxParts+1))})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("expect %v, got %v", ErrTooLarge, err)
	}
	if n != MaxParts+1 {
		t.Errorf("expect %d bytes read, got %d", MaxParts+1, n)
	}
	if got := f.Log.Count("UploadPart"); got != MaxParts {
		t.Errorf("expect %d parts, got %d", MaxParts, got)
	}
	assertNoUploads(t, f)

	// With a Len method, the part size grows to fit.
	f.Log.Reset()
	if _, _, err := s.PutReader(t.Context(), bytes.NewReader(make([]byte, MaxParts+1))); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff([]string{"PutObject"}, f.Log.Calls()); diff != "" {
		t.Errorf("calls (-expect +got):\n%s", diff)
	}

	// Exactly MaxParts parts fit.
	f.Log.Reset()
	if _, _, err := s.PutReader(t.Context(), iotest.HalfReader(bytes.NewReader(make([]byte, MaxParts)))); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := f.Log.Count("UploadPart"); got != MaxParts {
		t.Errorf("expect %d parts, got %d", MaxParts, got)
	}
}

func TestPutReaderSettings(t *testing.T) {
	key := "c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLi4uLi4="
	s, f := newStreamStore(t, StoreOptions{
		ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyID: "alias/k",
		ACL: s3types.ObjectCannedACLBucketOwnerFullControl,
		PutObjectOptions: []func(*s3.PutObjectInput){func(in *s3.PutObjectInput) {
			in.Tagging = aws.String("a=b")
			in.StorageClass = s3types.StorageClassStandardIa
			in.Metadata = map[string]string{"m": "v"}
			in.ExpectedBucketOwner = aws.String("111122223333")
			in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = aws.String("AES256"), aws.String(key), aws.String("md5")
			in.ChecksumAlgorithm = s3types.ChecksumAlgorithmSha256 // not copied
		}},
		CreateMultipartUploadOptions: []func(*s3.CreateMultipartUploadInput){func(in *s3.CreateMultipartUploadInput) {
			in.ContentType = aws.String("application/json")
			in.ChecksumType = s3types.ChecksumTypeComposite // overridden
		}},
		S3ClientOptions: []func(*s3.Options){func(o *s3.Options) { o.Region = "eu-west-3" }},
	})
	f.UploadPartFn = func(in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
		if aws.ToInt32(in.PartNumber) == 2 {
			return nil, errors.New("boom")
		}
		return nil, nil
	}
	_, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
	if err == nil {
		t.Fatal("expect an error, got nil")
	}
	create := sqsxtest.Params[*s3.CreateMultipartUploadInput](f.Log)[0]
	type settings struct {
		SSE                                 s3types.ServerSideEncryption
		KMS, Tagging, Owner, SSECAlg, SSECK string
		ACL                                 s3types.ObjectCannedACL
		Class                               s3types.StorageClass
		Metadata                            map[string]string
		ContentType                         string
		Alg                                 s3types.ChecksumAlgorithm
		Type                                s3types.ChecksumType
	}
	want := settings{"aws:kms", "alias/k", "a=b", "111122223333", "AES256", key, "bucket-owner-full-control", "STANDARD_IA",
		map[string]string{"m": "v"}, "application/json", "CRC32C", "FULL_OBJECT"}
	got := settings{create.ServerSideEncryption, aws.ToString(create.SSEKMSKeyId), aws.ToString(create.Tagging),
		aws.ToString(create.ExpectedBucketOwner), aws.ToString(create.SSECustomerAlgorithm), aws.ToString(create.SSECustomerKey),
		create.ACL, create.StorageClass, create.Metadata, aws.ToString(create.ContentType), create.ChecksumAlgorithm, create.ChecksumType}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("CreateMultipartUploadInput (-expect +got):\n%s", diff)
	}
	for _, up := range sqsxtest.Params[*s3.UploadPartInput](f.Log) {
		if aws.ToString(up.ExpectedBucketOwner) != "111122223333" || aws.ToString(up.SSECustomerKey) != key || aws.ToString(up.SSECustomerKeyMD5) != "md5" {
			t.Errorf("expect the owner and SSE-C on every part, got %v %v", aws.ToString(up.ExpectedBucketOwner), aws.ToString(up.SSECustomerKey))
		}
	}
	abort := sqsxtest.Params[*s3.AbortMultipartUploadInput](f.Log)
	if len(abort) != 1 || aws.ToString(abort[0].ExpectedBucketOwner) != "111122223333" {
		t.Errorf("expect the owner on the abort, got %+v", abort)
	}
	for _, rec := range f.Log.Records() {
		if rec.OptFns < 1 || rec.Options.(s3.Options).Region != "eu-west-3" {
			t.Errorf("expect S3ClientOptions on %s, got %d", rec.Op, rec.OptFns)
		}
	}
}

func TestPutReaderChecksumRefused(t *testing.T) {
	t.Run("PutObject BadDigest", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		f.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
			return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject",
				Err: &smithy.GenericAPIError{Code: "BadDigest", Message: "The CRC32C you specified did not match the calculated checksum."}}
		}
		_, _, err := s.PutReader(t.Context(), strings.NewReader("x"))
		if !errors.Is(err, ErrChecksumMismatch) {
			t.Errorf("expect %v, got %v", ErrChecksumMismatch, err)
		}
		if err := s.PutAt(t.Context(), Pointer{testBucket, "k"}, "x"); !errors.Is(err, ErrChecksumMismatch) {
			t.Errorf("expect %v, got %v", ErrChecksumMismatch, err)
		}
	})
	t.Run("part stored with another checksum", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		f.UploadPartFn = func(in *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
			io.Copy(io.Discard, in.Body)
			return &s3.UploadPartOutput{ETag: aws.String(`"x"`), ChecksumCRC32C: aws.String("AAAAAA==")}, nil
		}
		_, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
		if !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("expect %v, got %v", ErrChecksumMismatch, err)
		}
		if perr := asPayloadError(t, err); perr.Op != "UploadPart" {
			t.Errorf("expect UploadPart, got %s", perr.Op)
		}
		assertNoUploads(t, f)
	})
	t.Run("object assembled with another checksum", func(t *testing.T) {
		s, f := newStreamStore(t, StoreOptions{})
		f.CompleteMultipartUploadFn = func(in *s3.CompleteMultipartUploadInput) (*s3.CompleteMultipartUploadOutput, error) {
			f.SetObject(aws.ToString(in.Bucket), aws.ToString(in.Key), []byte("other"))
			return &s3.CompleteMultipartUploadOutput{ChecksumCRC32C: aws.String("AAAAAA==")}, nil
		}
		p, _, err := s.PutReader(t.Context(), bytes.NewReader(randomBytes(3*testPartSize)))
		if !errors.Is(err, ErrChecksumMismatch) {
			t.Fatalf("expect %v, got %v", ErrChecksumMismatch, err)
		}
		if f.Len() != 0 {
			t.Errorf("expect the bad object deleted, got %v (%v)", f.Keys(), p)
		}
	})
}

func TestPutReaderNoBucket(t *testing.T) {
	f := sqsxtest.NewS3(nil)
	s, err := NewStore(f, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PutReader(t.Context(), strings.NewReader("x")); !errors.Is(err, ErrNoBucket) {
		t.Errorf("expect %v, got %v", ErrNoBucket, err)
	}
	if calls := f.Log.Calls(); len(calls) != 0 {
		t.Errorf("expect no call, got %v", calls)
	}
}

func TestPutReaderReusesBuffers(t *testing.T) {
	s, _ := newStreamStore(t, StoreOptions{})
	data := randomBytes(5 * testPartSize)
	for range 3 {
		if _, _, err := s.PutReader(t.Context(), bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	// The pool holds buffers of the store's part size only.
	if bp, ok := s.bufs.Get().(*[]byte); ok && len(*bp) != testPartSize {
		t.Errorf("expect pooled buffers of %d bytes, got %d", testPartSize, len(*bp))
	}
}

func TestOpen(t *testing.T) {
	for _, size := range []int{0, 1, testPartSize + 1, 10 * testPartSize} {
		t.Run(string(rune('0'+size%10)), func(t *testing.T) {
			s, _ := newStreamStore(t, StoreOptions{MaxPayloadSize: 1 << 20})
			data := randomBytes(size)
			p, _, err := s.PutReader(t.Context(), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			rc, n, err := s.Open(t.Context(), p)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			defer rc.Close()
			if n != int64(size) {
				t.Errorf("expect size %d, got %d", size, n)
			}
			if err := iotest.TestReader(rc, data); err != nil {
				t.Errorf("expect the io.Reader contract kept, got %v", err)
			}
		})
	}
}

func TestOpenRefuses(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{MaxStreamSize: 10})
	f.SetObject(testBucket, "big", make([]byte, 11))
	f.SetObject("other-bucket", "k", []byte("secret"))
	cases := map[string]struct {
		p    Pointer
		want error
	}{
		"not allowed": {Pointer{"other-bucket", "k"}, ErrBucketNotAllowed},
		"missing":     {Pointer{testBucket, "missing"}, ErrNotFound},
		"too large":   {Pointer{testBucket, "big"}, ErrTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rc, _, err := s.Open(t.Context(), c.p)
			if !errors.Is(err, c.want) || rc != nil {
				t.Fatalf("expect %v and no body, got %v, %v", c.want, rc, err)
			}
			if perr := asPayloadError(t, err); perr.Op != "GetObject" || perr.Key != c.p.Key {
				t.Errorf("expect GetObject %v, got %s %s", c.p, perr.Op, perr.Key)
			}
		})
	}
	if n := f.Log.Count("GetObject"); n != 2 {
		t.Errorf("expect no GetObject for the bucket not allowed, got %d calls", n)
	}
}

func TestOpenUnknownSizeLimit(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{MaxStreamSize: 100})
	f.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(make([]byte, 1000)))}, nil
	}
	rc, n, err := s.Open(t.Context(), Pointer{testBucket, "k"})
	if err != nil || n != -1 {
		t.Fatalf("expect a body of unknown size, got %d, %v", n, err)
	}
	defer rc.Close()
	got, err := io.ReadAll(rc)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("expect %v, got %v", ErrTooLarge, err)
	}
	if len(got) > 101 {
		t.Errorf("expect at most one byte read past the limit, got %d bytes", len(got))
	}
	asPayloadError(t, err)
}

func TestOpenClose(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	f.SetObject(testBucket, "k", []byte("hello"))
	rc, _, err := s.Open(t.Context(), Pointer{testBucket, "k"})
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if n, err := rc.Read(buf); n != 2 || err != nil {
		t.Fatalf("expect 2 bytes, got %d, %v", n, err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("expect no error, got %v", err)
	}
	if err := rc.Close(); err != nil {
		t.Errorf("expect a second Close to succeed, got %v", err)
	}
	if n, err := rc.Read(buf); n != 0 || err == nil || err == io.EOF {
		t.Errorf("expect a read after Close to fail, got %d, %v", n, err)
	}
}

func TestGetOpenCorrupted(t *testing.T) {
	for name, size := range map[string]int{"single part": 40, "multipart": 7*testPartSize + 3, "one byte": 1} {
		t.Run(name, func(t *testing.T) {
			s, f := newStreamStore(t, StoreOptions{})
			data := randomBytes(size)
			p, _, err := s.PutReader(t.Context(), bytes.NewReader(data))
			if err != nil {
				t.Fatal(err)
			}
			if !f.Corrupt(p.Bucket, p.Key, size/2) {
				t.Fatal("expect the object corrupted")
			}
			if _, err := s.Get(t.Context(), p); !errors.Is(err, ErrChecksumMismatch) {
				t.Errorf("Get: expect %v, got %v", ErrChecksumMismatch, err)
			} else if perr := asPayloadError(t, err); perr.Op != "GetObject" || perr.Key != p.Key {
				t.Errorf("expect GetObject %v, got %s %s", p, perr.Op, perr.Key)
			}
			rc, _, err := s.Open(t.Context(), p)
			if err != nil {
				t.Fatalf("expect the corruption found at the end, not at Open, got %v", err)
			}
			defer rc.Close()
			got, err := io.ReadAll(rc)
			if !errors.Is(err, ErrChecksumMismatch) {
				t.Errorf("Open: expect %v, got %v", ErrChecksumMismatch, err)
			}
			if len(got) != size {
				t.Errorf("expect every byte handed out before the error, got %d of %d", len(got), size)
			}
			if n, err2 := rc.Read(make([]byte, 1)); n != 0 || err2 != err {
				t.Errorf("expect the error again, got %d, %v", n, err2)
			}
		})
	}
}

func TestGetUnverified(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	// Written by a client that sent no checksum.
	f.SetObject(testBucket, "plain", []byte("no checksum"))
	if got, err := s.Get(t.Context(), Pointer{testBucket, "plain"}); err != nil || got != "no checksum" {
		t.Errorf("expect the body, got %q, %v", got, err)
	}
	// A composite checksum cannot be checked against the bytes.
	f.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("parts")), ContentLength: aws.Int64(5),
			ChecksumCRC32C: aws.String("AAAAAA==-3"), ChecksumType: s3types.ChecksumTypeComposite}, nil
	}
	if got, err := s.Get(t.Context(), Pointer{testBucket, "composite"}); err != nil || got != "parts" {
		t.Errorf("expect the body, got %q, %v", got, err)
	}
	for _, in := range sqsxtest.Params[*s3.GetObjectInput](f.Log) {
		if in.ChecksumMode != s3types.ChecksumModeEnabled {
			t.Errorf("expect ChecksumMode ENABLED, got %q", in.ChecksumMode)
		}
	}
}

func TestGetVerifiesEveryAlgorithm(t *testing.T) {
	const body = "payload written by another client"
	sum := func(h hash.Hash) string { h.Write([]byte(body)); return base64.StdEncoding.EncodeToString(h.Sum(nil)) }
	cases := map[string]struct {
		set   func(*s3.GetObjectOutput, string)
		value string
	}{
		"CRC32C":    {func(o *s3.GetObjectOutput, v string) { o.ChecksumCRC32C = &v }, sum(crc32.New(crc32cTable))},
		"CRC32":     {func(o *s3.GetObjectOutput, v string) { o.ChecksumCRC32 = &v }, sum(crc32.NewIEEE())},
		"CRC64NVME": {func(o *s3.GetObjectOutput, v string) { o.ChecksumCRC64NVME = &v }, sum(crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5)))},
		"SHA256":    {func(o *s3.GetObjectOutput, v string) { o.ChecksumSHA256 = &v }, sum(sha256.New())},
		"SHA512":    {func(o *s3.GetObjectOutput, v string) { o.ChecksumSHA512 = &v }, sum(sha512.New())},
		"SHA1":      {func(o *s3.GetObjectOutput, v string) { o.ChecksumSHA1 = &v }, sum(sha1.New())},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newStreamStore(t, StoreOptions{})
			stored := c.value
			f.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				out := &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader(body)), ContentLength: aws.Int64(int64(len(body)))}
				c.set(out, stored)
				return out, nil
			}
			if got, err := s.Get(t.Context(), Pointer{testBucket, "k"}); err != nil || got != body {
				t.Errorf("expect the body verified, got %q, %v", got, err)
			}
			stored = c.value[:len(c.value)-4] + "AAA="
			_, err := s.Get(t.Context(), Pointer{testBucket, "k"})
			if !errors.Is(err, ErrChecksumMismatch) || !strings.Contains(err.Error(), name) {
				t.Errorf("expect %v naming %s, got %v", ErrChecksumMismatch, name, err)
			}
		})
	}
	// The S3 known CRC64NVME of "123456789" pins the table.
	if got := crc64.Checksum([]byte("123456789"), crc64NVMETable); got != 0xae8b14860a799888 {
		t.Errorf("expect the CRC64NVME check value 0xae8b14860a799888, got %#x", got)
	}
	if got := crc32cOf([]byte("123456789")); got != crc32cBase64(0xe3069283) {
		t.Errorf("expect the CRC32C check value, got %s", got)
	}
}

// sdkValidatingBody is a body that ends with err instead of io.EOF, as the
// SDK's checksum validation does on a mismatch.
type sdkValidatingBody struct {
	r   io.Reader
	err error
}

func (b *sdkValidatingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		err = b.err
	}
	return n, err
}

func (b *sdkValidatingBody) Close() error { return nil }

func TestOpenSDKValidationError(t *testing.T) {
	sdkErr := errors.New("checksum did not match: algorithm CRC32C, expect X, actual Y")
	data := []byte("some payload")
	cases := map[string]struct {
		checksum string
		mismatch bool
	}{
		"checksums differ": {checksum: crc32cOf([]byte("other payload")), mismatch: true},
		// Another failure at the end that is not about our checksum.
		"checksums agree": {checksum: crc32cOf(data)},
		"no checksum":     {},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newStreamStore(t, StoreOptions{})
			f.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				out := &s3.GetObjectOutput{Body: &sdkValidatingBody{bytes.NewReader(data), sdkErr}, ContentLength: aws.Int64(int64(len(data)))}
				if c.checksum != "" {
					out.ChecksumCRC32C = aws.String(c.checksum)
				}
				return out, nil
			}
			_, err := s.Get(t.Context(), Pointer{testBucket, "k"})
			if !errors.Is(err, sdkErr) {
				t.Errorf("expect the SDK's error reachable, got %v", err)
			}
			if errors.Is(err, ErrChecksumMismatch) != c.mismatch {
				t.Errorf("expect errors.Is(err, ErrChecksumMismatch) %v, got %v", c.mismatch, err)
			}
			asPayloadError(t, err)
		})
	}
}

func TestOpenShortBody(t *testing.T) {
	s, f := newStreamStore(t, StoreOptions{})
	f.GetObjectFn = func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return &s3.GetObjectOutput{Body: io.NopCloser(strings.NewReader("short")), ContentLength: aws.Int64(10)}, nil
	}
	rc, _, err := s.Open(t.Context(), Pointer{testBucket, "k"})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadAll(rc); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("expect %v, got %v", io.ErrUnexpectedEOF, err)
	}
}

func TestChecksumMismatchDistinct(t *testing.T) {
	for _, other := range []error{ErrNotFound, ErrBucketNotAllowed, ErrInvalidPointer, ErrInvalidReceiptHandle, ErrTooLarge, ErrNoBucket} {
		if errors.Is(ErrChecksumMismatch, other) || errors.Is(other, ErrChecksumMismatch) {
			t.Errorf("expect %v and %v distinct", ErrChecksumMismatch, other)
		}
	}
}
