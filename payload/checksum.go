package payload

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// UploadChecksumAlgorithm is the checksum algorithm of every object the store
// writes. Multipart uploads use it with the FULL_OBJECT checksum type, so that
// every object, however it was uploaded, carries one checksum of all its bytes.
// See the package documentation, # Integrity.
const UploadChecksumAlgorithm = s3types.ChecksumAlgorithmCrc32c

var (
	crc32cTable = crc32.MakeTable(crc32.Castagnoli)
	// crc64NVMETable is the table of the CRC64NVME checksum S3 uses (the
	// reversed NVMe polynomial, as the SDK defines it).
	crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)
)

// objectChecksum is a full-object checksum S3 returned with an object.
type objectChecksum struct {
	alg   s3types.ChecksumAlgorithm
	value string // base64
}

// verifiableChecksum returns the full-object checksum of out that Open can
// verify, preferring the one the store writes. A composite checksum (of a
// multipart object uploaded without the FULL_OBJECT type: a checksum of the
// part checksums, with "-<parts>" appended) says nothing about the bytes
// without the part boundaries, and is not verified.
func verifiableChecksum(out *s3.GetObjectOutput) (objectChecksum, bool) {
	if out.ChecksumType == s3types.ChecksumTypeComposite {
		return objectChecksum{}, false
	}
	for _, c := range []objectChecksum{
		{s3types.ChecksumAlgorithmCrc32c, aws.ToString(out.ChecksumCRC32C)},
		{s3types.ChecksumAlgorithmCrc64nvme, aws.ToString(out.ChecksumCRC64NVME)},
		{s3types.ChecksumAlgorithmCrc32, aws.ToString(out.ChecksumCRC32)},
		{s3types.ChecksumAlgorithmSha256, aws.ToString(out.ChecksumSHA256)},
		{s3types.ChecksumAlgorithmSha512, aws.ToString(out.ChecksumSHA512)},
		{s3types.ChecksumAlgorithmSha1, aws.ToString(out.ChecksumSHA1)},
	} {
		if c.value != "" && !strings.Contains(c.value, "-") {
			return c, true
		}
	}
	return objectChecksum{}, false
}

// newChecksumHash returns the hash that computes alg, or nil if there is none.
func newChecksumHash(alg s3types.ChecksumAlgorithm) hash.Hash {
	switch alg {
	case s3types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32cTable)
	case s3types.ChecksumAlgorithmCrc64nvme:
		return crc64.New(crc64NVMETable)
	case s3types.ChecksumAlgorithmCrc32:
		return crc32.NewIEEE()
	case s3types.ChecksumAlgorithmSha256:
		return sha256.New()
	case s3types.ChecksumAlgorithmSha512:
		return sha512.New()
	case s3types.ChecksumAlgorithmSha1:
		return sha1.New()
	}
	return nil
}

// crc32cBase64 returns a CRC32C in the form S3 uses: base64 of the big-endian
// bytes.
func crc32cBase64(crc uint32) string {
	return base64.StdEncoding.EncodeToString([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
}

// Open starts reading the payload p points to and returns its body and its
// size in bytes, or -1 if S3 did not send a Content-Length. It refuses a
// pointer as Get does (ErrBucketNotAllowed, ErrNotFound, and ErrTooLarge if
// S3 reports a size over MaxStreamSize), but buffers nothing: the body
// streams from S3 as it is read, so memory stays bounded whatever the size.
//
// The caller must Close the body, also after an error or without reading it
// to the end; closing early abandons the download. The body reads under ctx:
// cancelling ctx makes the next Read fail. It is not safe for concurrent use.
//
// The body follows the io.Reader contract. It returns io.EOF only after the
// whole object has been read, its length matches what S3 announced, and its
// checksum, if S3 stored a full-object checksum with it, matches the bytes
// read (see the package documentation, # Integrity). Any other error is a
// *Error for "GetObject": ErrChecksumMismatch for corrupted bytes (which the
// caller must then discard: they were already handed out), ErrTooLarge when an
// object of unannounced size passes MaxStreamSize, or the cause of a failed
// read.
func (s *Store) Open(ctx context.Context, p Pointer) (io.ReadCloser, int64, error) {
	r, _, err := s.open(ctx, p, s.opts.MaxStreamSize)
	if err != nil {
		return nil, 0, err
	}
	return r, r.size, nil
}

// OpenShared is Open that also reports whether the object carries the
// fan-out marker (FanoutMetadataKey): a payload that several consumers read
// and none may delete. It is known as soon as S3 answers, before the body is
// read.
func (s *Store) OpenShared(ctx context.Context, p Pointer) (body io.ReadCloser, size int64, shared bool, err error) {
	r, md, err := s.open(ctx, p, s.opts.MaxStreamSize)
	if err != nil {
		return nil, 0, false, err
	}
	return r, r.size, isShared(md), nil
}

// open starts a GetObject and returns its body, and the object's user
// metadata. An object over limit bytes (0: no limit) fails with ErrTooLarge.
func (s *Store) open(ctx context.Context, p Pointer, limit int64) (*objectReader, map[string]string, error) {
	if err := s.Check(p); err != nil {
		return nil, nil, s.wrap("GetObject", p, err)
	}
	ctx, done := s.download(ctx, p)
	r, md, err := s.getObject(ctx, p, limit)
	if err != nil {
		done(0, err)
		return nil, nil, err
	}
	r.done = done
	return r, md, nil
}

// getObject is open without its span.
func (s *Store) getObject(ctx context.Context, p Pointer, limit int64) (*objectReader, map[string]string, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(p.Bucket),
		Key:    aws.String(p.Key),
		// Ask S3 for the object's checksums; objectReader verifies them.
		ChecksumMode: s3types.ChecksumModeEnabled,
	}, append(slices.Clip(s.opts.S3ClientOptions), withoutSDKValidation)...)
	if err != nil {
		return nil, nil, s.wrap("GetObject", p, err)
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	if limit > 0 && size > limit {
		out.Body.Close()
		return nil, nil, s.wrap("GetObject", p, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, limit))
	}
	r := &objectReader{s: s, p: p, body: out.Body, size: size, limit: limit}
	if sum, ok := verifiableChecksum(out); ok {
		r.sum, r.h = sum, newChecksumHash(sum.alg)
	}
	return r, out.Metadata, nil
}

// sdkValidationID is the ID of the SDK's middleware that validates a
// response's checksum as its body is read (service/internal/checksum).
const sdkValidationID = "AWSChecksum:ValidateOutputPayloadChecksum"

// withoutSDKValidation removes the SDK's validation of the GetObject
// response's checksum: objectReader computes the same hash, for every
// algorithm S3 may return (the SDK skips some), and reports a mismatch as
// ErrChecksumMismatch; one pass over the bytes is enough. Should the SDK
// rename the middleware, nothing is removed and both validate.
func withoutSDKValidation(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		stack.Deserialize.Remove(sdkValidationID)
		return nil
	})
}

// objectReader is the body Open returns. It counts and hashes what it reads
// and checks the length and the checksum at the end.
type objectReader struct {
	s     *Store
	p     Pointer
	body  io.ReadCloser
	size  int64 // -1 if unknown
	limit int64 // 0: none; enforced here when size is unknown
	n     int64 // bytes read
	sum   objectChecksum
	h     hash.Hash // nil: nothing to verify
	err   error     // sticky: io.EOF or a *Error
	// done, if set, ends the download span with the bytes read and the
	// read's outcome; called once, at the end of the body or on Close.
	done func(n int64, err error)
}

// end calls done once.
func (r *objectReader) end(err error) {
	if r.done != nil {
		if err == io.EOF {
			err = nil
		}
		r.done(r.n, err)
		r.done = nil
	}
}

func (r *objectReader) Read(b []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.size < 0 && r.limit > 0 && int64(len(b)) > r.limit-r.n+1 {
		// Read at most one byte past the limit.
		b = b[:r.limit-r.n+1]
	}
	n, err := r.body.Read(b)
	r.n += int64(n)
	if r.h != nil {
		r.h.Write(b[:n])
	}
	switch {
	case r.size >= 0 && r.n > r.size:
		err = fmt.Errorf("read more than the %d bytes S3 announced", r.size)
	case r.size < 0 && r.limit > 0 && r.n > r.limit:
		err = fmt.Errorf("%w: more than %d bytes", ErrTooLarge, r.limit)
	case err == io.EOF || err != nil && r.size >= 0 && r.n == r.size:
		// The end of the object. The SDK's own validation replaces io.EOF
		// with an error when the checksum does not match, so an error at
		// the full length is checked as well.
		err = r.finish(err)
	}
	if err == nil {
		return n, nil
	}
	if err != io.EOF {
		err = r.s.wrap("GetObject", r.p, err)
	}
	r.err = err
	r.end(err)
	return n, err
}

// finish checks the length and checksum of what was read, given the error
// the body returned at its end, and returns io.EOF if all is well.
func (r *objectReader) finish(bodyErr error) error {
	if r.size >= 0 && r.n < r.size {
		return fmt.Errorf("read %d bytes, S3 announced %d: %w", r.n, r.size, io.ErrUnexpectedEOF)
	}
	if r.h != nil {
		got := base64.StdEncoding.EncodeToString(r.h.Sum(nil))
		if got != r.sum.value {
			err := fmt.Errorf("%w: the %s of the %d bytes read is %s, S3 stored %s",
				ErrChecksumMismatch, r.sum.alg, r.n, got, r.sum.value)
			if bodyErr != io.EOF {
				err = fmt.Errorf("%w (%w)", err, bodyErr)
			}
			return err
		}
	}
	return bodyErr
}

// Close closes the body; reading it after Close fails.
func (r *objectReader) Close() error {
	if r.body == nil {
		return nil
	}
	err := r.body.Close()
	r.body = nil
	r.end(nil) // closed before its end: what was read was read
	if r.err == nil {
		r.err = r.s.wrap("GetObject", r.p, fmt.Errorf("read after Close: %w", os.ErrClosed))
	}
	if err != nil {
		return r.s.wrap("GetObject", r.p, err)
	}
	return nil
}
