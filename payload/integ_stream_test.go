package payload_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// countingS3 counts the multipart calls made through it.
type countingS3 struct {
	payload.S3API
	creates, parts, puts atomic.Int32
}

func (c *countingS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	c.creates.Add(1)
	return c.S3API.CreateMultipartUpload(ctx, in, optFns...)
}

func (c *countingS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.parts.Add(1)
	return c.S3API.UploadPart(ctx, in, optFns...)
}

func (c *countingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts.Add(1)
	return c.S3API.PutObject(ctx, in, optFns...)
}

// genReader returns n deterministic pseudo-random bytes, generated as read.
func genReader(seed byte, n int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{seed}), n)
}

func sha256Of(t *testing.T, r io.Reader) ([]byte, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatalf("hashing: %v", err)
	}
	return h.Sum(nil), n
}

// assertNoUploads fails t if bucket has multipart uploads in progress.
func assertNoUploads(t *testing.T, c *testenv.Clients, bucket string) {
	t.Helper()
	out, err := c.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("expect no multipart upload left, got %d", len(out.Uploads))
	}
}

func newIntegStore(t *testing.T, opts payload.StoreOptions) (*payload.Store, *countingS3, *testenv.Clients) {
	t.Helper()
	c := testenv.Require(t)
	opts.Bucket = c.Bucket(t)
	api := &countingS3{S3API: c.S3}
	s, err := payload.NewStore(api, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, api, c
}

func TestIntegStreamRoundTrip(t *testing.T) {
	const size = 100 << 20
	s, api, c := newIntegStore(t, payload.StoreOptions{PartSize: payload.MinPartSize})
	want, _ := sha256Of(t, genReader(1, size))

	p, n, err := s.PutReader(t.Context(), genReader(1, size))
	if err != nil {
		t.Fatalf("PutReader: %v", err)
	}
	if n != size {
		t.Errorf("expect %d bytes stored, got %d", size, n)
	}
	if api.creates.Load() != 1 || api.parts.Load() != size/payload.MinPartSize || api.puts.Load() != 0 {
		t.Errorf("expect one multipart upload of %d parts, got %d creates, %d parts, %d puts",
			size/payload.MinPartSize, api.creates.Load(), api.parts.Load(), api.puts.Load())
	}
	assertNoUploads(t, c, p.Bucket)

	// S3 stored a full-object CRC32C.
	head, err := c.S3.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key), ChecksumMode: s3types.ChecksumModeEnabled})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if aws.ToString(head.ChecksumCRC32C) == "" || head.ChecksumType != s3types.ChecksumTypeFullObject {
		t.Errorf("expect a FULL_OBJECT CRC32C, got %q %q", aws.ToString(head.ChecksumCRC32C), head.ChecksumType)
	}

	rc, size2, err := s.Open(t.Context(), p)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer rc.Close()
	got, read := sha256Of(t, rc)
	if size2 != size || read != size || !bytes.Equal(got, want) {
		t.Errorf("expect %d bytes with sha256 %x, got %d (announced %d) with %x", size, want, read, size2, got)
	}
}

func TestIntegStreamSmall(t *testing.T) {
	s, api, _ := newIntegStore(t, payload.StoreOptions{})
	for _, size := range []int64{0, 1, 1 << 20} {
		p, n, err := s.PutReader(t.Context(), genReader(2, size))
		if err != nil || n != size {
			t.Fatalf("PutReader %d bytes: %d, %v", size, n, err)
		}
		body, err := s.Get(t.Context(), p)
		want, _ := io.ReadAll(genReader(2, size))
		if err != nil || body != string(want) {
			t.Errorf("expect %d bytes back, got %d, %v", size, len(body), err)
		}
	}
	if api.creates.Load() != 0 || api.puts.Load() != 3 {
		t.Errorf("expect three PutObject and no multipart upload, got %d puts, %d creates", api.puts.Load(), api.creates.Load())
	}
}

// cancelAfter cancels a context once n bytes have been read through it.
type cancelAfter struct {
	r      io.Reader
	n      int64
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= int64(n); c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestIntegStreamAborts(t *testing.T) {
	s, api, c := newIntegStore(t, payload.StoreOptions{PartSize: payload.MinPartSize})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("source failed")
		r := io.MultiReader(genReader(3, 23<<20), &failReader{boom})
		_, _, err := s.PutReader(t.Context(), r)
		if !errors.Is(err, boom) {
			t.Fatalf("expect %v, got %v", boom, err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		_, _, err := s.PutReader(ctx, &cancelAfter{r: genReader(4, 60<<20), n: 22 << 20, cancel: cancel})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
	})
	if api.creates.Load() != 2 {
		t.Errorf("expect two multipart uploads started, got %d", api.creates.Load())
	}
	assertNoUploads(t, c, s.Bucket())
	if keys := c.Keys(t, s.Bucket()); len(keys) != 0 {
		t.Errorf("expect no object, got %v", keys)
	}
}

type failReader struct{ err error }

// corruptingS3 returns an S3 client whose requests go through a proxy to the
// backend's S3 that flips the byte at offset off of every GetObject body.
func corruptingS3(t *testing.T, c *testenv.Clients, off int64) *s3.Client {
	t.Helper()
	target, err := url.Parse(os.Getenv("AWS_ENDPOINT_URL_S3"))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method == http.MethodGet && r.StatusCode == http.StatusOK && r.Request.URL.Query().Get("x-id") == "GetObject" {
			r.Body = &flipReader{rc: r.Body, at: off}
		}
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return s3.NewFromConfig(c.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		o.BaseEndpoint = aws.String(srv.URL)
	})
}

// flipReader flips one bit of the byte at offset at of what rc yields.
type flipReader struct {
	rc  io.ReadCloser
	at  int64
	pos int64
}

func (f *flipReader) Read(p []byte) (int, error) {
	n, err := f.rc.Read(p)
	if i := f.at - f.pos; i >= 0 && i < int64(n) {
		p[i] ^= 0x40
	}
	f.pos += int64(n)
	return n, err
}

func (f *flipReader) Close() error { return f.rc.Close() }

func (f *failReader) Read([]byte) (int, error) { return 0, f.err }

// TestIntegCorruption reads objects through a proxy that flips one byte of
// every object body S3 sends, as storage that rotted under an intact stored
// checksum would, and works the same on every backend.
func TestIntegCorruption(t *testing.T) {
	c := testenv.Require(t)
	bucket := c.Bucket(t)
	writer, err := payload.NewStore(c.S3, payload.StoreOptions{Bucket: bucket, PartSize: payload.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]int64{"single part": 1 << 20, "multipart": 12 << 20}
	for name, size := range cases {
		t.Run(name, func(t *testing.T) {
			p, _, err := writer.PutReader(t.Context(), genReader(5, size))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := writer.Get(t.Context(), p); err != nil {
				t.Fatalf("expect the intact object read, got %v", err)
			}
			s, err := payload.NewStore(corruptingS3(t, c, size/3), payload.StoreOptions{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}

			_, err = s.Get(t.Context(), p)
			t.Logf("Get: %v", err)
			if !errors.Is(err, payload.ErrChecksumMismatch) {
				t.Errorf("Get: expect %v, got %v", payload.ErrChecksumMismatch, err)
			}
			var perr *payload.Error
			if !errors.As(err, &perr) || perr.Op != "GetObject" {
				t.Errorf("expect a GetObject *Error, got %v", err)
			}
			rc, _, err := s.Open(t.Context(), p)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer rc.Close()
			n, err := io.Copy(io.Discard, rc)
			if !errors.Is(err, payload.ErrChecksumMismatch) {
				t.Errorf("Open: expect %v, got %v", payload.ErrChecksumMismatch, err)
			}
			if n != size {
				t.Errorf("expect the mismatch found after all %d bytes, got it after %d", size, n)
			}
		})
	}
}
