package payload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/internal/telemetry"
)

// S3API is an S3 client that can invoke PutObject, GetObject, DeleteObject,
// DeleteObjects and the multipart upload operations CreateMultipartUpload,
// UploadPart, CompleteMultipartUpload and AbortMultipartUpload (used by
// [Store.PutReader]). *s3.Client satisfies it.
type S3API interface {
	PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	DeleteObjects(ctx context.Context, params *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	CreateMultipartUpload(ctx context.Context, params *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, params *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, params *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, params *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// maxDeleteObjects is the most keys one DeleteObjects request may name.
const maxDeleteObjects = 1000

// DefaultMaxPayloadSize is the default StoreOptions.MaxPayloadSize: 64 MiB.
// A receive of 10 messages then holds at most 640 MiB of payloads, where an
// unbounded one lets any sender make a consumer allocate whatever object it
// points to. Larger payloads are for the streaming API, or a raised limit.
const DefaultMaxPayloadSize = 64 << 20

// StoreOptions configures a Store.
type StoreOptions struct {
	// Bucket receives new payloads. It is required to Put and needs no
	// setting to Get, Delete or DeleteAll.
	Bucket string

	// KeyPrefix is prepended to every new key, with no separator added. It
	// must pass ValidateKeyPrefix. Default: none.
	KeyPrefix string

	// KeyFunc returns the part of a new key after KeyPrefix. The result, with
	// the prefix, must pass ValidateKey. Default: a random UUID (version 4),
	// as the reference clients use.
	KeyFunc func(ctx context.Context) (string, error)

	// AllowedBuckets lists the buckets, besides Bucket, whose pointers may be
	// followed (read or deleted). Bucket is always allowed. Default: none.
	//
	// Security: a pointer arrives in a message, so anyone who can send to the
	// queue (or publish to a topic subscribed to it) chooses which object the
	// consumer reads, with the consumer's credentials. Without an allowlist a
	// sender could have the consumer read, and hand back as a message body,
	// any object the consumer's role can read, or delete it. Add a bucket here
	// only if every sender you accept is trusted with it.
	AllowedBuckets []string

	// ServerSideEncryption sets the encryption of new objects: "" (the
	// bucket's default), s3types.ServerSideEncryptionAes256 (SSE-S3) or
	// s3types.ServerSideEncryptionAwsKms (SSE-KMS). Default: "".
	ServerSideEncryption s3types.ServerSideEncryption

	// SSEKMSKeyID is the KMS key for SSE-KMS. Setting it implies SSE-KMS
	// when ServerSideEncryption is "". Default: the AWS managed key.
	SSEKMSKeyID string

	// ACL is the canned ACL of new objects. Default: none (the bucket's
	// object ownership setting applies).
	ACL s3types.ObjectCannedACL

	// AllowedKeyPrefixes lists the key prefixes, in every allowed bucket,
	// that a pointer may name: a pointer whose key starts with none of them
	// is never followed (ErrKeyNotAllowed), and a receipt handle naming such
	// a key deletes nothing. Default (nil): KeyPrefix when it is set, else
	// any key. Set []string{""} to allow any key despite a KeyPrefix.
	//
	// Security: without a prefix, a sender can point a consumer at any
	// object of an allowed bucket (a configuration file, another message's
	// payload): it is read and handed back as the body, and the consumer's
	// DeleteMessage then deletes it. Give payloads a KeyPrefix of their own.
	AllowedKeyPrefixes []string

	// MaxPayloadSize is the largest payload Get reads into memory, in bytes
	// (the string API: ReceiveMessage and the body of a resolved message); a
	// larger one fails with ErrTooLarge before its body is read (or, if S3
	// does not say how large it is, as soon as more is read). It bounds the
	// memory a hostile or mistaken pointer can make a consumer allocate.
	// Default (when 0): DefaultMaxPayloadSize. A negative value means no
	// limit. Open, which streams, has its own limit: MaxStreamSize.
	MaxPayloadSize int64

	// MaxStreamSize is the largest payload Open streams, in bytes; a larger
	// one fails with ErrTooLarge as Get does. Streams hold no payload in
	// memory, so the default (0) is no limit.
	MaxStreamSize int64

	// PartSize is the size of the parts in which PutReader uploads a stream
	// that does not fit in one, in bytes: between MinPartSize and
	// MaxPartSize. PutReader grows it for a stream of known length that
	// would otherwise need more than MaxParts parts. Memory held by one
	// PutReader is at most (UploadConcurrency+1) × PartSize. 0 means
	// DefaultPartSize (8 MiB).
	PartSize int64

	// UploadConcurrency is the number of parts PutReader uploads at once. 0
	// means DefaultUploadConcurrency (3).
	UploadConcurrency int

	// PutObjectOptions are applied, in order, to every PutObjectInput after
	// the store has filled it in: the place for tags, storage class, expected
	// bucket owner and anything else this struct does not name.
	//
	// A stream that PutReader uploads in parts is not sent with PutObject.
	// For it the options are applied to a PutObjectInput that has no body,
	// and the object's settings they make (ACL, cache and content headers,
	// expected bucket owner, expiry, grants, metadata, object lock, request
	// payer, encryption including SSE-C, storage class, tagging, website
	// redirect) are copied to the CreateMultipartUploadInput, and where S3
	// requires them (expected bucket owner, request payer, SSE-C) to every
	// UploadPart, CompleteMultipartUpload and AbortMultipartUpload. The
	// checksum settings are not copied: multipart uploads always use CRC32C
	// full-object checksums (see the package documentation, # Integrity).
	PutObjectOptions []func(*s3.PutObjectInput)

	// CreateMultipartUploadOptions are applied, in order, to every
	// CreateMultipartUploadInput after the store has filled it in (and after
	// what PutObjectOptions set has been copied to it).
	CreateMultipartUploadOptions []func(*s3.CreateMultipartUploadInput)

	// S3ClientOptions are passed to every S3 call.
	S3ClientOptions []func(*s3.Options)

	// TracerProvider traces the store's uploads, downloads and deletions
	// (see docs/observability.md); give the S3 client the same provider
	// (s3.Options.TracerProvider) so that its spans nest under them.
	// Default: the S3 client's, when it is an *s3.Client, else none.
	TracerProvider tracing.TracerProvider

	// MeterProvider measures the store's uploads, downloads, deletions and
	// the objects failed calls leave. Default: the S3 client's, when it is
	// an *s3.Client, else none.
	MeterProvider metrics.MeterProvider
}

// validate returns every problem with o, joined.
func (o *StoreOptions) validate() error {
	var errs []error
	if o.Bucket != "" {
		if err := ValidateBucketName(o.Bucket); err != nil {
			errs = append(errs, fieldError("Bucket", "%w", err))
		}
	}
	if err := ValidateKeyPrefix(o.KeyPrefix); err != nil {
		errs = append(errs, fieldError("KeyPrefix", "%w", err))
	}
	for _, b := range o.AllowedBuckets {
		if err := ValidateBucketName(b); err != nil {
			errs = append(errs, fieldError("AllowedBuckets", "%w", err))
		}
	}
	if o.ServerSideEncryption != "" && !slices.Contains(o.ServerSideEncryption.Values(), o.ServerSideEncryption) {
		errs = append(errs, fieldError("ServerSideEncryption", "unknown value %q (want one of %v)",
			o.ServerSideEncryption, o.ServerSideEncryption.Values()))
	}
	if o.SSEKMSKeyID != "" && o.ServerSideEncryption != "" && !strings.HasPrefix(string(o.ServerSideEncryption), "aws:kms") {
		errs = append(errs, fieldError("SSEKMSKeyID", "needs ServerSideEncryption %q, not %q",
			s3types.ServerSideEncryptionAwsKms, o.ServerSideEncryption))
	}
	if o.ACL != "" && !slices.Contains(o.ACL.Values(), o.ACL) {
		errs = append(errs, fieldError("ACL", "unknown value %q (want one of %v)", o.ACL, o.ACL.Values()))
	}
	for _, pre := range o.AllowedKeyPrefixes {
		if pre == "" {
			continue // any key
		}
		if err := ValidateKeyPrefix(pre); err != nil {
			errs = append(errs, fieldError("AllowedKeyPrefixes", "%w", err))
		}
	}
	if o.MaxStreamSize < 0 {
		errs = append(errs, fieldError("MaxStreamSize", "must not be negative, is %d", o.MaxStreamSize))
	}
	if o.PartSize != 0 && (o.PartSize < MinPartSize || o.PartSize > MaxPartSize) {
		errs = append(errs, fieldError("PartSize", "must be 0 (the default) or between %d and %d, is %d", MinPartSize, MaxPartSize, o.PartSize))
	}
	if o.UploadConcurrency < 0 {
		errs = append(errs, fieldError("UploadConcurrency", "must not be negative, is %d", o.UploadConcurrency))
	}
	return errors.Join(errs...)
}

// Store puts, gets and deletes payload objects in S3. It is safe for
// concurrent use; do not change its options after NewStore.
type Store struct {
	s3      S3API
	opts    StoreOptions
	allowed map[string]bool

	tracer  telemetry.Tracer
	metrics *telemetry.Metrics

	// bufs recycles part buffers of opts.PartSize bytes across uploads.
	bufs sync.Pool

	// onPartBuffers, if set, is called with the number of part buffers in
	// use each time PutReader takes one.
	onPartBuffers func(inUse int)
}

// NewStore returns a Store that uses api. It returns an error naming each
// invalid field of opts.
func NewStore(api S3API, opts StoreOptions) (*Store, error) {
	if api == nil {
		return nil, errors.New("payload: S3 client is nil")
	}
	opts.AllowedBuckets = slices.Clone(opts.AllowedBuckets)
	opts.AllowedKeyPrefixes = slices.Clone(opts.AllowedKeyPrefixes)
	opts.PutObjectOptions = slices.Clone(opts.PutObjectOptions)
	opts.CreateMultipartUploadOptions = slices.Clone(opts.CreateMultipartUploadOptions)
	opts.S3ClientOptions = append(slices.Clone(opts.S3ClientOptions), withUserAgent)
	resolveTelemetry(api, &opts)
	if opts.SSEKMSKeyID != "" && opts.ServerSideEncryption == "" {
		opts.ServerSideEncryption = s3types.ServerSideEncryptionAwsKms
	}
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("payload: invalid StoreOptions: %w", err)
	}
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.UploadConcurrency == 0 {
		opts.UploadConcurrency = DefaultUploadConcurrency
	}
	if opts.AllowedKeyPrefixes == nil && opts.KeyPrefix != "" {
		opts.AllowedKeyPrefixes = []string{opts.KeyPrefix}
	}
	switch {
	case opts.MaxPayloadSize == 0:
		opts.MaxPayloadSize = DefaultMaxPayloadSize
	case opts.MaxPayloadSize < 0:
		opts.MaxPayloadSize = 0 // no limit
	}
	s := &Store{s3: api, opts: opts, allowed: map[string]bool{},
		tracer: telemetry.NewTracer(opts.TracerProvider), metrics: telemetry.NewMetrics(opts.MeterProvider)}
	if opts.Bucket != "" {
		s.allowed[opts.Bucket] = true
	}
	for _, b := range opts.AllowedBuckets {
		s.allowed[b] = true
	}
	return s, nil
}

// Bucket returns the bucket that receives new payloads.
func (s *Store) Bucket() string { return s.opts.Bucket }

// Allowed reports whether pointers into bucket may be followed (for some
// keys: see Check).
func (s *Store) Allowed(bucket string) bool { return s.allowed[bucket] }

// Check reports whether the store may follow p: read it, or delete it. It
// fails with ErrBucketNotAllowed for a bucket outside Bucket and
// AllowedBuckets, and ErrKeyNotAllowed for a key outside AllowedKeyPrefixes.
func (s *Store) Check(p Pointer) error {
	if !s.allowed[p.Bucket] {
		return fmt.Errorf("%w: %q is not in AllowedBuckets", ErrBucketNotAllowed, p.Bucket)
	}
	if s.opts.AllowedKeyPrefixes == nil {
		return nil
	}
	for _, pre := range s.opts.AllowedKeyPrefixes {
		if strings.HasPrefix(p.Key, pre) {
			return nil
		}
	}
	return fmt.Errorf("%w: key %q starts with none of AllowedKeyPrefixes %q", ErrKeyNotAllowed, p.Key, s.opts.AllowedKeyPrefixes)
}

// ErrNoBucket is returned by Put when StoreOptions.Bucket is not set.
var ErrNoBucket = errors.New("no bucket configured for payloads (set Bucket)")

// NewPointer returns a pointer to a new, unused key in the store's bucket.
func (s *Store) NewPointer(ctx context.Context) (Pointer, error) {
	return s.NewPointerIn(ctx, "", "")
}

// NewPointerIn returns a pointer to a new, unused key in bucket, made of
// keyPrefix and a KeyFunc suffix, as NewPointer does for the store's Bucket
// and KeyPrefix, which an empty bucket or keyPrefix stands for. Another
// bucket or prefix must be one the store may follow (see CheckPlacement), so
// that the store can also read and delete what is put there.
func (s *Store) NewPointerIn(ctx context.Context, bucket, keyPrefix string) (Pointer, error) {
	if err := s.CheckPlacement(bucket, keyPrefix); err != nil {
		return Pointer{}, err
	}
	if bucket == "" {
		bucket = s.opts.Bucket
	}
	if keyPrefix == "" {
		keyPrefix = s.opts.KeyPrefix
	}
	if bucket == "" {
		return Pointer{}, ErrNoBucket
	}
	suffix := ""
	if s.opts.KeyFunc != nil {
		var err error
		if suffix, err = s.opts.KeyFunc(ctx); err != nil {
			return Pointer{}, fmt.Errorf("payload: KeyFunc: %w", err)
		}
	} else {
		suffix = NewKey("")
	}
	p := Pointer{Bucket: bucket, Key: keyPrefix + suffix}
	if err := ValidateKey(p.Key); err != nil {
		return Pointer{}, fmt.Errorf("payload: KeyPrefix+KeyFunc gave an invalid key: %w", err)
	}
	return p, nil
}

// CheckPlacement reports whether new payloads may be put in bucket under
// keyPrefix ("" for the store's Bucket or KeyPrefix): the bucket must be
// valid (ValidateBucketName) and allowed (Bucket or AllowedBuckets, else
// ErrBucketNotAllowed), the prefix valid (ValidateKeyPrefix) and within
// AllowedKeyPrefixes (else ErrKeyNotAllowed).
func (s *Store) CheckPlacement(bucket, keyPrefix string) error {
	if bucket != "" {
		if err := ValidateBucketName(bucket); err != nil {
			return err
		}
		if !s.allowed[bucket] {
			return fmt.Errorf("%w: %q is neither Bucket nor in AllowedBuckets", ErrBucketNotAllowed, bucket)
		}
	}
	if keyPrefix == "" {
		return nil
	}
	if err := ValidateKeyPrefix(keyPrefix); err != nil {
		return err
	}
	if bucket == "" {
		bucket = s.opts.Bucket
	}
	if err := s.Check(Pointer{Bucket: bucket, Key: keyPrefix}); errors.Is(err, ErrKeyNotAllowed) {
		return err
	}
	return nil
}

// Put stores body under a new key and returns the pointer to it.
func (s *Store) Put(ctx context.Context, body string) (Pointer, error) {
	p, err := s.NewPointer(ctx)
	if err != nil {
		return Pointer{}, err
	}
	if err := s.PutAt(ctx, p, body); err != nil {
		return Pointer{}, err
	}
	return p, nil
}

// PutAt stores body at p, with a CRC32C checksum that S3 verifies on receipt
// and stores for readers to verify (see the package documentation,
// # Integrity).
func (s *Store) PutAt(ctx context.Context, p Pointer, body string) error {
	// A SectionReader, unlike strings.Reader, has no WriteTo: the SDK's
	// checksum then streams the body instead of copying it whole.
	_, err := s.upload(ctx, p, func(ctx context.Context) (int64, error) {
		n := int64(len(body))
		return n, s.putObject(ctx, p, io.NewSectionReader(strings.NewReader(body), 0, n), n)
	})
	return err
}

// putObject uploads body, of size bytes, at p with one PutObject. The SDK
// computes the CRC32C of body (a seekable stream: in a header over HTTP, in a
// trailer over HTTPS) and S3 rejects the upload if the bytes it received do
// not match.
//
// p is a new key that nothing points to yet. After a failure that may still
// have stored the object (a 5xx, a reset or timeout after the request was
// written), putObject deletes it, so that no orphan is left; if that fails it
// returns a *KeptError naming the object.
func (s *Store) putObject(ctx context.Context, p Pointer, body io.ReadSeeker, size int64) error {
	in := &s3.PutObjectInput{
		Bucket:            aws.String(p.Bucket),
		Key:               aws.String(p.Key),
		Body:              body,
		ContentLength:     aws.Int64(size),
		ChecksumAlgorithm: UploadChecksumAlgorithm,
	}
	s.applyPutOptions(in)
	if err := ctx.Err(); err != nil {
		// Nothing written: nothing to undo.
		return s.wrap("PutObject", p, err)
	}
	var t outcome.Tracker
	_, err := s.s3.PutObject(ctx, in, s.callOptions(&t)...)
	if err == nil {
		return nil
	}
	return s.undoPut(ctx, "PutObject", p, &t, err)
}

// undoPut deletes the object a failed upload at p may have created, unless
// the failure was definite, and returns the error to report.
func (s *Store) undoPut(ctx context.Context, op string, p Pointer, t *outcome.Tracker, err error) error {
	err = s.wrap(op, p, err)
	if t.Definite(err) {
		return err
	}
	return s.deleteLeft(ctx, op, p, err)
}

// deleteLeft deletes the object at p, which a failed upload may have
// created and nothing points to, and returns err, or a *KeptError if the
// deletion failed.
func (s *Store) deleteLeft(ctx context.Context, op string, p Pointer, err error) error {
	if derr := s.deleteDetached(ctx, []Pointer{p}); derr != nil {
		// upload reports it.
		return &KeptError{Op: op, Pointers: []Pointer{p}, Err: err, CleanupErr: derr}
	}
	return err
}

// callOptions returns the S3 options of one call, with t watching its
// attempts.
func (s *Store) callOptions(t *outcome.Tracker) []func(*s3.Options) {
	return append(slices.Clip(s.opts.S3ClientOptions), func(o *s3.Options) {
		o.APIOptions = append(o.APIOptions, t.Install)
	})
}

func (s *Store) applyPutOptions(in *s3.PutObjectInput) {
	if s.opts.ServerSideEncryption != "" {
		in.ServerSideEncryption = s.opts.ServerSideEncryption
	}
	if s.opts.SSEKMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.opts.SSEKMSKeyID)
	}
	if s.opts.ACL != "" {
		in.ACL = s.opts.ACL
	}
	for _, fn := range s.opts.PutObjectOptions {
		fn(in)
	}
}

// Get returns the payload p points to. A pointer into a bucket that is not
// allowed is refused without a request (ErrBucketNotAllowed); a missing object
// gives ErrNotFound; an object larger than MaxPayloadSize gives ErrTooLarge;
// bytes that do not match the object's checksum give ErrChecksumMismatch.
// Get reads the payload as Open does, and holds all of it in memory; use
// Open for payloads that need not be.
func (s *Store) Get(ctx context.Context, p Pointer) (string, error) {
	body, _, err := s.GetShared(ctx, p)
	return body, err
}

// GetShared is Get that also reports whether the object carries the fan-out
// marker (FanoutMetadataKey): a payload that several consumers read and none
// may delete.
func (s *Store) GetShared(ctx context.Context, p Pointer) (body string, shared bool, err error) {
	r, md, err := s.open(ctx, p, s.opts.MaxPayloadSize)
	if err != nil {
		return "", false, err
	}
	defer r.Close()
	// The reader checks the length and the checksum, and its errors are
	// already *Error values.
	b, err := readAll(r)
	if err != nil {
		return "", false, err
	}
	// b is never written again: the string shares its bytes.
	return unsafe.String(unsafe.SliceData(b), len(b)), isShared(md), nil
}

// readAll reads r to its end. When S3 announced the size, the bytes go
// straight into one buffer of that size (one copy, no growth); otherwise r
// enforces its limit as the buffer grows.
func readAll(r *objectReader) ([]byte, error) {
	if r.size < 0 {
		return io.ReadAll(r)
	}
	b := make([]byte, r.size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, err
	}
	// The end of the body is where the reader verifies the length and the
	// checksum.
	var one [1]byte
	for {
		n, err := r.Read(one[:])
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, err
		case n > 0:
			// The reader fails a body longer than announced; this is
			// only a guard.
			return nil, r.s.wrap("GetObject", r.p, fmt.Errorf("read more than the %d bytes S3 announced", r.size))
		}
		// 0 bytes and no error: io.Reader allows it; read again.
	}
}

// Delete removes the object p points to. Deleting a missing object succeeds.
func (s *Store) Delete(ctx context.Context, p Pointer) error {
	if err := s.Check(p); err != nil {
		return s.wrap("DeleteObject", p, err)
	}
	ctx, done := s.deleteSpan(ctx, "DeleteObject", 1)
	_, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String(p.Bucket),
		Key:    aws.String(p.Key),
	}, s.opts.S3ClientOptions...)
	if err != nil {
		err = s.wrap("DeleteObject", p, err)
		done(p.Bucket, 0, err)
		return err
	}
	done(p.Bucket, 1, nil)
	return nil
}

// DeleteAll removes the objects ps point to with as few DeleteObjects
// requests as possible: one per bucket and 1000 keys. It tries every object
// and returns the failures joined, each a *Error naming its object.
func (s *Store) DeleteAll(ctx context.Context, ps []Pointer) error {
	var errs []error
	byBucket := map[string][]s3types.ObjectIdentifier{}
	var buckets []string
	for _, p := range ps {
		if err := s.Check(p); err != nil {
			errs = append(errs, s.wrap("DeleteObjects", p, err))
			continue
		}
		if _, ok := byBucket[p.Bucket]; !ok {
			buckets = append(buckets, p.Bucket)
		}
		byBucket[p.Bucket] = append(byBucket[p.Bucket], s3types.ObjectIdentifier{Key: aws.String(p.Key)})
	}
	for _, bucket := range buckets {
		for chunk := range slices.Chunk(byBucket[bucket], maxDeleteObjects) {
			errs = append(errs, s.deleteObjects(ctx, bucket, chunk)...)
		}
	}
	return errors.Join(errs...)
}

// deleteObjects deletes the objects of chunk from bucket with one
// DeleteObjects and returns the failures, each a *Error naming its object.
func (s *Store) deleteObjects(ctx context.Context, bucket string, chunk []s3types.ObjectIdentifier) []error {
	ctx, done := s.deleteSpan(ctx, "DeleteObjects", len(chunk))
	out, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
		Bucket: aws.String(bucket),
		Delete: &s3types.Delete{Objects: chunk, Quiet: aws.Bool(true)},
	}, s.opts.S3ClientOptions...)
	var errs []error
	if err != nil {
		for _, o := range chunk {
			errs = append(errs, s.wrap("DeleteObjects", Pointer{bucket, aws.ToString(o.Key)}, err))
		}
		done(bucket, 0, err)
		return errs
	}
	for _, e := range out.Errors {
		if aws.ToString(e.Code) == "NoSuchKey" {
			continue // Already gone, which is what a delete wants.
		}
		errs = append(errs, s.wrap("DeleteObjects", Pointer{bucket, aws.ToString(e.Key)},
			&smithy.GenericAPIError{Code: aws.ToString(e.Code), Message: aws.ToString(e.Message)}))
	}
	done(bucket, len(chunk)-len(errs), errors.Join(errs...))
	return errs
}

// wrap returns err as a *Error, adding ErrNotFound when a read finds no
// object or bucket (for a write or a delete, a missing bucket is a
// configuration problem, not a missing payload) and ErrChecksumMismatch when
// S3 refused the bytes sent (BadDigest). Context errors are wrapped too, so
// errors.Is still finds context.Canceled.
func (s *Store) wrap(op string, p Pointer, err error) error {
	if op == "GetObject" && isNotFound(err) {
		err = fmt.Errorf("%w: %w", ErrNotFound, err)
	}
	if isBadDigest(err) {
		err = fmt.Errorf("%w: %w", ErrChecksumMismatch, err)
	}
	return &Error{Op: op, Bucket: p.Bucket, Key: p.Key, Err: err}
}

// isBadDigest reports whether S3 refused an upload because the bytes it
// received do not match the checksum sent with them.
func isBadDigest(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "BadDigest"
}

func isNotFound(err error) bool {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == 404 {
		// S3's answer, whatever its body says: a body that could not be
		// parsed (an HTML 404 from a proxy, a corrupted answer) has no code.
		return true
	}
	var nsk *s3types.NoSuchKey
	var nf *s3types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return true
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return true
		}
	}
	return false
}

// fieldError returns an error that starts with the name of the invalid field.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}
