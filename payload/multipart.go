package payload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx/internal/outcome"
)

// Limits and defaults of streaming uploads (see Store.PutReader).
const (
	// DefaultPartSize is the default StoreOptions.PartSize: 8 MiB.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts, except for the last
	// part of an upload: 5 MiB.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts: 5 GiB.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one multipart upload may have.
	MaxParts = 10000
	// DefaultUploadConcurrency is the default StoreOptions.UploadConcurrency.
	DefaultUploadConcurrency = 3
)

// abortTimeout bounds the AbortMultipartUpload that cleans up after a failed
// or cancelled upload; it runs even when the caller's context is done.
const abortTimeout = 30 * time.Second

// PutReader stores everything r yields under a new key and returns the
// pointer to it and the number of bytes stored. See PutReaderAt.
func (s *Store) PutReader(ctx context.Context, r io.Reader) (Pointer, int64, error) {
	p, err := s.NewPointer(ctx)
	if err != nil {
		return Pointer{}, 0, err
	}
	n, err := s.PutReaderAt(ctx, p, r)
	if err != nil {
		return Pointer{}, n, err
	}
	return p, n, nil
}

// PutReaderAt stores everything r yields, until io.EOF, at p and returns the
// number of bytes read from r (on success, the size of the object).
//
// The length of r need not be known. PutReaderAt reads up to PartSize bytes;
// if r ends there, it stores them with one PutObject, as PutAt does.
// Otherwise it makes an S3 multipart upload: it reads part after part into
// buffers and uploads up to UploadConcurrency parts at once while it reads the
// next, so it holds at most (UploadConcurrency+1) × PartSize bytes however
// long r is. If r has a Len() int method (as *bytes.Reader, *bytes.Buffer and
// *strings.Reader do), its result is taken as the remaining length, and the
// part size grows, if need be, so that MaxParts parts hold it; a stream of
// unknown length may be at most MaxParts × PartSize bytes (78 GiB by default)
// and fails with ErrTooLarge beyond that.
//
// Every part and the whole object carry CRC32C checksums that S3 verifies
// (see the package documentation, # Integrity).
//
// If reading r or any S3 call fails, or ctx is cancelled, PutReaderAt aborts
// the multipart upload, so that no parts are left behind (and billed), and
// returns a *Error. Cancelling ctx takes effect when the Read in progress
// returns: PutReaderAt cannot interrupt a Read that blocks.
func (s *Store) PutReaderAt(ctx context.Context, p Pointer, r io.Reader) (int64, error) {
	return s.upload(ctx, p, func(ctx context.Context) (int64, error) { return s.putReaderAt(ctx, p, r) })
}

// putReaderAt is PutReaderAt without its span.
func (s *Store) putReaderAt(ctx context.Context, p Pointer, r io.Reader) (int64, error) {
	hint := int64(-1)
	if l, ok := r.(interface{ Len() int }); ok {
		hint = int64(l.Len())
	}
	bufs := s.newPartBuffers(s.partSize(hint))
	defer bufs.release()

	first := bufs.get()
	n, err := io.ReadFull(r, first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// r ended within one part.
		err = s.putObject(ctx, p, bytes.NewReader(first[:n]), int64(n))
		bufs.put(first)
		return int64(n), err
	case err != nil:
		bufs.put(first)
		return int64(n), s.wrap("PutObject", p, fmt.Errorf("reading the payload: %w", err))
	}
	// The first part is full; a multipart upload is needed only if r has more.
	second := bufs.get()
	m, err := io.ReadFull(r, second)
	switch {
	case err == io.EOF:
		bufs.put(second)
		err = s.putObject(ctx, p, bytes.NewReader(first), int64(n))
		bufs.put(first)
		return int64(n), err
	case err != nil && err != io.ErrUnexpectedEOF:
		bufs.put(first)
		bufs.put(second)
		return int64(n + m), s.wrap("PutObject", p, fmt.Errorf("reading the payload: %w", err))
	}
	u := &multipartUpload{s: s, p: p, r: r, bufs: bufs, ended: err == io.ErrUnexpectedEOF}
	return u.run(ctx, []part{{buf: first, n: n}, {buf: second, n: m}})
}

// partSize returns the part size for a stream of size bytes (-1: unknown).
func (s *Store) partSize(size int64) int64 {
	ps := s.opts.PartSize
	if size > ps*MaxParts {
		// The smallest whole number of MiB that MaxParts parts can hold.
		ps = ((size+MaxParts-1)/MaxParts + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return min(ps, MaxPartSize)
}

// part is a buffer holding the next n bytes of the stream.
type part struct {
	buf []byte
	n   int
}

// multipartUpload is one streaming upload in parts.
type multipartUpload struct {
	s     *Store
	p     Pointer
	r     io.Reader
	bufs  *partBuffers
	ended bool // r returned EOF

	id       string
	settings partSettings

	mu        sync.Mutex
	completed []s3types.CompletedPart
}

// partSettings are the settings S3 requires on every request of a multipart
// upload, not only on CreateMultipartUpload.
type partSettings struct {
	expectedBucketOwner                                     *string
	requestPayer                                            s3types.RequestPayer
	sseCustomerAlgorithm, sseCustomerKey, sseCustomerKeyMD5 *string
}

func (u *multipartUpload) run(ctx context.Context, pending []part) (total int64, retErr error) {
	s, p := u.s, u.p
	in := s.createMultipartUploadInput(p)
	u.settings = partSettings{in.ExpectedBucketOwner, in.RequestPayer, in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5}
	var created outcome.Tracker
	out, err := s.s3.CreateMultipartUpload(ctx, in, s.callOptions(&created)...)
	if err != nil {
		for _, pt := range pending {
			u.bufs.put(pt.buf)
		}
		err = s.wrap("CreateMultipartUpload", p, err)
		if created.Definite(err) {
			return 0, err
		}
		// An upload may have been created whose id was lost with the answer.
		return 0, u.abortOthers(ctx, err)
	}
	u.id = aws.ToString(out.UploadId)
	if created.Uncertain() > 1 {
		// An earlier attempt may have created an upload too, which nothing
		// would complete or abort.
		defer func() { retErr = u.abortOthers(ctx, retErr) }()
	}

	// cancel stops the part uploads when reading r fails.
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(gctx)
	g.SetLimit(s.opts.UploadConcurrency)

	var full uint32 // CRC32C of everything read
	var readErr error
	num := int32(0)
	for {
		if len(pending) == 0 {
			if u.ended {
				break
			}
			if err := gctx.Err(); err != nil {
				break // A part failed, or ctx is done.
			}
			buf := u.bufs.get()
			n, err := io.ReadFull(u.r, buf)
			if err == io.EOF {
				u.bufs.put(buf)
				break
			}
			if err != nil && err != io.ErrUnexpectedEOF {
				u.bufs.put(buf)
				total += int64(n)
				readErr = fmt.Errorf("reading the payload: %w", err)
				cancel()
				break
			}
			u.ended = err == io.ErrUnexpectedEOF
			pending = append(pending, part{buf: buf, n: n})
		}
		pt := pending[0]
		pending = pending[1:]
		num++
		total += int64(pt.n)
		if num > MaxParts {
			for _, pt := range append(pending, pt) {
				u.bufs.put(pt.buf)
			}
			readErr = fmt.Errorf("%w: the stream is longer than %d parts of %d bytes (raise PartSize)",
				ErrTooLarge, MaxParts, u.bufs.size)
			cancel()
			break
		}
		data := pt.buf[:pt.n]
		crc := crc32.Checksum(data, crc32cTable)
		full = crc32.Update(full, crc32cTable, data)
		number := num
		g.Go(func() error {
			defer u.bufs.put(pt.buf)
			return u.uploadPart(gctx, number, data, crc)
		})
	}
	waitErr := g.Wait()

	var cause error
	switch {
	case readErr != nil:
		cause = s.wrap("UploadPart", p, readErr)
	case waitErr != nil:
		cause = waitErr
	case ctx.Err() != nil:
		cause = s.wrap("UploadPart", p, ctx.Err())
	}
	if cause != nil {
		return total, u.abort(ctx, cause)
	}
	var completed outcome.Tracker
	if err := u.complete(ctx, total, full, &completed); err != nil {
		err = u.abort(ctx, err)
		if !completed.Definite(err) {
			// S3 may have assembled the object before the answer was lost.
			err = s.deleteLeft(ctx, "CompleteMultipartUpload", p, err)
		}
		return total, err
	}
	return total, nil
}

// multipartLister is the S3 call abortOthers needs; *s3.Client has it. It is
// not part of S3API, so that an S3API without it keeps working (and leaves
// such uploads to the lifecycle rule).
type multipartLister interface {
	ListMultipartUploads(ctx context.Context, params *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

// abortOthers aborts the incomplete uploads of u's key other than u's own,
// which an attempt of CreateMultipartUpload whose answer was lost may have
// started, and returns err, or err with a *KeptError if some may remain. The
// key is new, so every other upload of it is ours.
func (u *multipartUpload) abortOthers(ctx context.Context, err error) error {
	left := func(cause error) error {
		return errors.Join(err, &KeptError{Op: "CreateMultipartUpload", Pointers: []Pointer{u.p}, Err: cause,
			CleanupErr: errors.New("an incomplete multipart upload may remain; the lifecycle rule's AbortIncompleteMultipartUpload removes it")})
	}
	lister, ok := u.s.s3.(multipartLister)
	if !ok {
		return left(errors.New("the S3 client cannot list multipart uploads"))
	}
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	out, lerr := lister.ListMultipartUploads(actx, &s3.ListMultipartUploadsInput{
		Bucket:              aws.String(u.p.Bucket),
		Prefix:              aws.String(u.p.Key),
		ExpectedBucketOwner: u.settings.expectedBucketOwner,
		RequestPayer:        u.settings.requestPayer,
	}, u.s.opts.S3ClientOptions...)
	if lerr != nil {
		return left(u.s.wrap("ListMultipartUploads", u.p, lerr))
	}
	var errs []error
	for _, up := range out.Uploads {
		id := aws.ToString(up.UploadId)
		if aws.ToString(up.Key) != u.p.Key || id == u.id {
			continue
		}
		other := &multipartUpload{s: u.s, p: u.p, id: id, settings: u.settings}
		if aerr := other.abort(actx, nil); aerr != nil {
			errs = append(errs, aerr)
		}
	}
	if len(errs) > 0 {
		return left(errors.Join(errs...))
	}
	return err
}

// uploadPart uploads one part. The SDK computes its CRC32C (crc, which the
// caller computed too) and S3 rejects the part if the bytes it received do
// not match.
func (u *multipartUpload) uploadPart(ctx context.Context, number int32, data []byte, crc uint32) error {
	out, err := u.s.s3.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:               aws.String(u.p.Bucket),
		Key:                  aws.String(u.p.Key),
		UploadId:             aws.String(u.id),
		PartNumber:           aws.Int32(number),
		Body:                 bytes.NewReader(data),
		ContentLength:        aws.Int64(int64(len(data))),
		ChecksumAlgorithm:    UploadChecksumAlgorithm,
		ExpectedBucketOwner:  u.settings.expectedBucketOwner,
		RequestPayer:         u.settings.requestPayer,
		SSECustomerAlgorithm: u.settings.sseCustomerAlgorithm,
		SSECustomerKey:       u.settings.sseCustomerKey,
		SSECustomerKeyMD5:    u.settings.sseCustomerKeyMD5,
	}, u.s.opts.S3ClientOptions...)
	if err != nil {
		return u.s.wrap("UploadPart", u.p, fmt.Errorf("part %d of upload %s: %w", number, u.id, err))
	}
	want := crc32cBase64(crc)
	if got := aws.ToString(out.ChecksumCRC32C); got != "" && got != want {
		return u.s.wrap("UploadPart", u.p, fmt.Errorf("%w: part %d of upload %s: S3 stored CRC32C %s, the part has %s",
			ErrChecksumMismatch, number, u.id, got, want))
	}
	u.mu.Lock()
	u.completed = append(u.completed, s3types.CompletedPart{
		PartNumber:     aws.Int32(number),
		ETag:           out.ETag,
		ChecksumCRC32C: aws.String(want),
	})
	u.mu.Unlock()
	return nil
}

// complete assembles the uploaded parts. S3 checks the full-object CRC32C
// of what it assembled against full, and the size against total.
func (u *multipartUpload) complete(ctx context.Context, total int64, full uint32, t *outcome.Tracker) error {
	slices.SortFunc(u.completed, func(a, b s3types.CompletedPart) int {
		return int(aws.ToInt32(a.PartNumber) - aws.ToInt32(b.PartNumber))
	})
	want := crc32cBase64(full)
	out, err := u.s.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:               aws.String(u.p.Bucket),
		Key:                  aws.String(u.p.Key),
		UploadId:             aws.String(u.id),
		MultipartUpload:      &s3types.CompletedMultipartUpload{Parts: u.completed},
		ChecksumCRC32C:       aws.String(want),
		ChecksumType:         s3types.ChecksumTypeFullObject,
		MpuObjectSize:        aws.Int64(total),
		ExpectedBucketOwner:  u.settings.expectedBucketOwner,
		RequestPayer:         u.settings.requestPayer,
		SSECustomerAlgorithm: u.settings.sseCustomerAlgorithm,
		SSECustomerKey:       u.settings.sseCustomerKey,
		SSECustomerKeyMD5:    u.settings.sseCustomerKeyMD5,
	}, u.s.callOptions(t)...)
	if err != nil {
		return u.s.wrap("CompleteMultipartUpload", u.p, fmt.Errorf("upload %s: %w", u.id, err))
	}
	if got := aws.ToString(out.ChecksumCRC32C); got != "" && got != want {
		// S3 made an object of other bytes than were sent. Remove it.
		err := fmt.Errorf("%w: upload %s: S3 assembled an object with CRC32C %s, the stream has %s", ErrChecksumMismatch, u.id, got, want)
		if derr := u.s.Delete(context.WithoutCancel(ctx), u.p); derr != nil {
			err = errors.Join(err, derr)
		}
		return u.s.wrap("CompleteMultipartUpload", u.p, err)
	}
	return nil
}

// abort aborts the upload after cause, even if ctx is done, and returns cause
// with any failure to abort joined to it.
func (u *multipartUpload) abort(ctx context.Context, cause error) error {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	_, err := u.s.s3.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
		Bucket:              aws.String(u.p.Bucket),
		Key:                 aws.String(u.p.Key),
		UploadId:            aws.String(u.id),
		ExpectedBucketOwner: u.settings.expectedBucketOwner,
		RequestPayer:        u.settings.requestPayer,
	}, u.s.opts.S3ClientOptions...)
	var nsu *s3types.NoSuchUpload
	if err == nil || errors.As(err, &nsu) {
		// NoSuchUpload: already gone (completed or aborted), nothing left.
		return cause
	}
	return errors.Join(cause, &Error{Op: "AbortMultipartUpload", Bucket: u.p.Bucket, Key: u.p.Key,
		Err: fmt.Errorf("upload %s, whose parts may remain until a lifecycle rule aborts it: %w", u.id, err)})
}

// createMultipartUploadInput returns the input that starts a multipart upload
// at p with the settings a PutObject at p would have.
func (s *Store) createMultipartUploadInput(p Pointer) *s3.CreateMultipartUploadInput {
	t := &s3.PutObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)}
	s.applyPutOptions(t)
	in := &s3.CreateMultipartUploadInput{
		Bucket:                    aws.String(p.Bucket),
		Key:                       aws.String(p.Key),
		ACL:                       t.ACL,
		BucketKeyEnabled:          t.BucketKeyEnabled,
		CacheControl:              t.CacheControl,
		ContentDisposition:        t.ContentDisposition,
		ContentEncoding:           t.ContentEncoding,
		ContentLanguage:           t.ContentLanguage,
		ContentType:               t.ContentType,
		ExpectedBucketOwner:       t.ExpectedBucketOwner,
		Expires:                   t.Expires,
		GrantFullControl:          t.GrantFullControl,
		GrantRead:                 t.GrantRead,
		GrantReadACP:              t.GrantReadACP,
		GrantWriteACP:             t.GrantWriteACP,
		Metadata:                  t.Metadata,
		ObjectLockLegalHoldStatus: t.ObjectLockLegalHoldStatus,
		ObjectLockMode:            t.ObjectLockMode,
		ObjectLockRetainUntilDate: t.ObjectLockRetainUntilDate,
		RequestPayer:              t.RequestPayer,
		SSECustomerAlgorithm:      t.SSECustomerAlgorithm,
		SSECustomerKey:            t.SSECustomerKey,
		SSECustomerKeyMD5:         t.SSECustomerKeyMD5,
		SSEKMSEncryptionContext:   t.SSEKMSEncryptionContext,
		SSEKMSKeyId:               t.SSEKMSKeyId,
		ServerSideEncryption:      t.ServerSideEncryption,
		StorageClass:              t.StorageClass,
		Tagging:                   t.Tagging,
		WebsiteRedirectLocation:   t.WebsiteRedirectLocation,
	}
	for _, fn := range s.opts.CreateMultipartUploadOptions {
		fn(in)
	}
	// Set last: the parts and the completion depend on them.
	in.ChecksumAlgorithm = UploadChecksumAlgorithm
	in.ChecksumType = s3types.ChecksumTypeFullObject
	return in
}

// partBuffers hands out the part buffers of one upload and takes them back.
// Buffers of the store's PartSize are recycled across uploads.
type partBuffers struct {
	s    *Store
	size int64

	mu    sync.Mutex
	free  [][]byte
	inUse int
}

func (s *Store) newPartBuffers(size int64) *partBuffers {
	return &partBuffers{s: s, size: size}
}

// get returns a buffer of b.size bytes.
func (b *partBuffers) get() []byte {
	b.mu.Lock()
	b.inUse++
	if b.s.onPartBuffers != nil {
		b.s.onPartBuffers(b.inUse)
	}
	if n := len(b.free); n > 0 {
		buf := b.free[n-1]
		b.free = b.free[:n-1]
		b.mu.Unlock()
		return buf
	}
	b.mu.Unlock()
	if b.size == b.s.opts.PartSize {
		if bp, ok := b.s.bufs.Get().(*[]byte); ok {
			return *bp
		}
	}
	return make([]byte, b.size)
}

// put takes back a buffer get returned.
func (b *partBuffers) put(buf []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inUse--
	b.free = append(b.free, buf)
}

// release hands the free buffers to the store for later uploads.
func (b *partBuffers) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.size == b.s.opts.PartSize {
		for _, buf := range b.free {
			b.s.bufs.Put(&buf)
		}
	}
	b.free = nil
}
