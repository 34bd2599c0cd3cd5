package sqsxtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The fakes import none of the packages sqsx, snsx and payload, so that the
// tests inside those packages can use them; api_test.go checks that they
// satisfy those packages' interfaces.

// S3 is an in-memory S3 that implements payload.S3API (and so sqsx.S3API).
// Every bucket exists. PutObject stores the body, GetObject returns it (a missing key gives
// *s3types.NoSuchKey), DeleteObject and DeleteObjects remove objects (a missing
// key is not an error, as in S3).
//
// Checksums behave as the SDK and S3 together do: a PutObject or UploadPart
// that names a ChecksumAlgorithm without a value gets the checksum computed
// (as the SDK would), a value that is given is verified (a mismatch fails with
// the error code "BadDigest"), and GetObject with ChecksumMode ENABLED returns
// the stored checksum and its ChecksumType. The fake does not verify what
// GetObject returns: that is the reader's job. CRC32, CRC32C, CRC64NVME, SHA1
// and SHA256 are supported.
//
// Multipart uploads are kept in memory until CompleteMultipartUpload (which
// checks part order, ETags, part checksums, MinPartSize, the full-object or
// composite checksum and MpuObjectSize, as S3 does) or AbortMultipartUpload;
// [S3.MultipartUploads] lists those in progress, so a test can assert that
// none were left behind.
//
// Use NewS3 or New to make one.
type S3 struct {
	// Log records every call. NewS3 sets it.
	Log *Log

	// PutObjectFn, if set, is called for every PutObject. It must not read
	// the input's Body if it returns nil, nil (the fake then stores it).
	PutObjectFn func(*s3.PutObjectInput) (*s3.PutObjectOutput, error)
	// GetObjectFn, if set, is called for every GetObject.
	GetObjectFn func(*s3.GetObjectInput) (*s3.GetObjectOutput, error)
	// DeleteObjectFn, if set, is called for every DeleteObject.
	DeleteObjectFn func(*s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error)
	// DeleteObjectsFn, if set, is called for every DeleteObjects.
	DeleteObjectsFn func(*s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error)
	// CreateMultipartUploadFn, if set, is called for every CreateMultipartUpload.
	CreateMultipartUploadFn func(*s3.CreateMultipartUploadInput) (*s3.CreateMultipartUploadOutput, error)
	// UploadPartFn, if set, is called for every UploadPart. It must not read
	// the input's Body if it returns nil, nil (the fake then stores it).
	UploadPartFn func(*s3.UploadPartInput) (*s3.UploadPartOutput, error)
	// CompleteMultipartUploadFn, if set, is called for every
	// CompleteMultipartUpload.
	CompleteMultipartUploadFn func(*s3.CompleteMultipartUploadInput) (*s3.CompleteMultipartUploadOutput, error)
	// AbortMultipartUploadFn, if set, is called for every AbortMultipartUpload.
	AbortMultipartUploadFn func(*s3.AbortMultipartUploadInput) (*s3.AbortMultipartUploadOutput, error)

	// MinPartSize is the smallest size CompleteMultipartUpload accepts for a
	// part other than the last. Zero means 5 MiB, as in S3.
	MinPartSize int64

	// DeleteErrors maps keys to an S3 error code (e.g. "AccessDenied") that
	// DeleteObjects reports in its output's Errors for that key, leaving the
	// object in place.
	DeleteErrors map[string]string

	mu       sync.Mutex
	objects  map[objectKey][]byte
	sums     map[objectKey]checksum
	meta     map[objectKey]map[string]string
	uploads  map[string]*upload
	uploadID int
}

type objectKey struct{ bucket, key string }

// checksum is a stored checksum: its algorithm, type and base64 value.
type checksum struct {
	alg   s3types.ChecksumAlgorithm
	typ   s3types.ChecksumType
	value string
}

// upload is a multipart upload in progress.
type upload struct {
	bucket, key string
	alg         s3types.ChecksumAlgorithm
	typ         s3types.ChecksumType
	seq         int
	parts       map[int32]uploadedPart
	meta        map[string]string
}

type uploadedPart struct {
	data []byte
	etag string
	sum  string // base64, empty without a checksum algorithm
}

// MultipartUpload describes a multipart upload in progress.
type MultipartUpload struct {
	Bucket, Key, UploadID string
	// Parts is the number of parts uploaded so far.
	Parts int
}

// NewS3 returns an empty S3 that records its calls in log, or in a new Log if
// log is nil.
func NewS3(log *Log) *S3 {
	if log == nil {
		log = &Log{}
	}
	return &S3{Log: log, objects: map[objectKey][]byte{}}
}

// SetObject stores an object directly, without recording a call and without
// a checksum (like an object written by a client that sent none).
func (f *S3) SetObject(bucket, key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setObjectLocked(objectKey{bucket, key}, bytes.Clone(body), checksum{}, nil)
}

func (f *S3) setObjectLocked(k objectKey, body []byte, sum checksum, meta map[string]string) {
	if f.objects == nil {
		f.objects = map[objectKey][]byte{}
	}
	if f.meta == nil {
		f.meta = map[objectKey]map[string]string{}
	}
	if len(meta) == 0 {
		delete(f.meta, k)
	} else {
		f.meta[k] = maps.Clone(meta)
	}
	if f.sums == nil {
		f.sums = map[objectKey]checksum{}
	}
	f.objects[k] = body
	if sum.value == "" {
		delete(f.sums, k)
	} else {
		f.sums[k] = sum
	}
}

// Corrupt flips the lowest bit of the byte at offset in a stored object and
// keeps its stored checksum, as silent corruption at rest would. A negative
// offset counts from the end. It reports whether the object exists and has
// that byte.
func (f *S3) Corrupt(bucket, key string, offset int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[objectKey{bucket, key}]
	if offset < 0 {
		offset += len(b)
	}
	if !ok || offset < 0 || offset >= len(b) {
		return false
	}
	b = bytes.Clone(b)
	b[offset] ^= 1
	f.objects[objectKey{bucket, key}] = b
	return true
}

// Checksum returns the checksum stored with an object: its algorithm, type and
// base64 value, or empty strings if it has none.
func (f *S3) Checksum(bucket, key string) (s3types.ChecksumAlgorithm, s3types.ChecksumType, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.sums[objectKey{bucket, key}]
	return c.alg, c.typ, c.value
}

// Object returns a copy of an object's body and whether it exists.
func (f *S3) Object(bucket, key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.objects[objectKey{bucket, key}]
	return bytes.Clone(b), ok
}

// RemoveObject deletes an object directly, without recording a call.
func (f *S3) RemoveObject(bucket, key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.objects, objectKey{bucket, key})
	delete(f.sums, objectKey{bucket, key})
	delete(f.meta, objectKey{bucket, key})
}

// Metadata returns a copy of an object's user metadata (nil if none).
func (f *S3) Metadata(bucket, key string) map[string]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.meta[objectKey{bucket, key}])
}

// Keys returns "bucket/key" for every stored object, sorted.
func (f *S3) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	keys := make([]string, 0, len(f.objects))
	for k := range f.objects {
		keys = append(keys, k.bucket+"/"+k.key)
	}
	slices.Sort(keys)
	return keys
}

// Len returns the number of stored objects.
func (f *S3) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objects)
}

// PutObject stores the input's Body. It fails if ContentLength is set and
// does not match the bytes read.
func (f *S3) PutObject(ctx context.Context, params *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return call(ctx, f.Log, "S3", "PutObject", params, optFns, f.PutObjectFn, f.putObject)
}

func (f *S3) putObject(params *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
	if aws.ToString(params.Bucket) == "" || aws.ToString(params.Key) == "" {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Message: "Bucket and Key are required", Fault: smithy.FaultClient}
	}
	body, err := readBody(params.Body, params.ContentLength)
	if err != nil {
		return nil, err
	}
	alg, value, err := requestChecksum(params.ChecksumAlgorithm, checksumFields{
		params.ChecksumCRC32, params.ChecksumCRC32C, params.ChecksumCRC64NVME, params.ChecksumSHA1, params.ChecksumSHA256,
	}, body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.setObjectLocked(objectKey{*params.Bucket, *params.Key}, body, checksum{alg, s3types.ChecksumTypeFullObject, value}, params.Metadata)
	f.mu.Unlock()
	sum := md5.Sum(body)
	out := &s3.PutObjectOutput{ETag: aws.String(`"` + hex.EncodeToString(sum[:]) + `"`)}
	if value != "" {
		out.ChecksumType = s3types.ChecksumTypeFullObject
		setChecksum(alg, value, [...]**string{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256})
	}
	return out, nil
}

// GetObject returns a stored object with its ContentLength, or
// *s3types.NoSuchKey.
func (f *S3) GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return call(ctx, f.Log, "S3", "GetObject", params, optFns, f.GetObjectFn, f.getObject)
}

func (f *S3) getObject(params *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
	body, ok := f.Object(aws.ToString(params.Bucket), aws.ToString(params.Key))
	if !ok {
		return nil, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	}
	sum := md5.Sum(body)
	out := &s3.GetObjectOutput{
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: aws.Int64(int64(len(body))),
		ETag:          aws.String(`"` + hex.EncodeToString(sum[:]) + `"`),
		Metadata:      f.Metadata(aws.ToString(params.Bucket), aws.ToString(params.Key)),
	}
	if r := aws.ToString(params.Range); r != "" {
		// Only "bytes=first-last", as the store asks; no checksums on a range,
		// as S3 sends none for part of an object.
		var first, last int64
		if _, err := fmt.Sscanf(r, "bytes=%d-%d", &first, &last); err != nil || first > last {
			return nil, &smithy.GenericAPIError{Code: "InvalidArgument", Message: "unsupported Range " + r}
		}
		if first >= int64(len(body)) {
			return nil, &smithy.GenericAPIError{Code: "InvalidRange", Message: "The requested range is not satisfiable"}
		}
		last = min(last, int64(len(body))-1)
		out.Body = io.NopCloser(bytes.NewReader(body[first : last+1]))
		out.ContentLength = aws.Int64(last - first + 1)
		out.ContentRange = aws.String(fmt.Sprintf("bytes %d-%d/%d", first, last, len(body)))
		return out, nil
	}
	if params.ChecksumMode == s3types.ChecksumModeEnabled {
		alg, typ, value := f.Checksum(aws.ToString(params.Bucket), aws.ToString(params.Key))
		if value != "" {
			out.ChecksumType = typ
			setChecksum(alg, value, [...]**string{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256})
		}
	}
	return out, nil
}

// DeleteObject removes an object; a missing object is not an error.
func (f *S3) DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return call(ctx, f.Log, "S3", "DeleteObject", params, optFns, f.DeleteObjectFn, f.deleteObject)
}

func (f *S3) deleteObject(params *s3.DeleteObjectInput) (*s3.DeleteObjectOutput, error) {
	f.RemoveObject(aws.ToString(params.Bucket), aws.ToString(params.Key))
	return &s3.DeleteObjectOutput{}, nil
}

// DeleteObjects removes the named objects, except those whose keys are in
// DeleteErrors, which it reports in the output's Errors. Unless the request is
// Quiet, the others are listed in Deleted.
func (f *S3) DeleteObjects(ctx context.Context, params *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	return call(ctx, f.Log, "S3", "DeleteObjects", params, optFns, f.DeleteObjectsFn, f.deleteObjects)
}

func (f *S3) deleteObjects(params *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) {
	if params.Delete == nil || len(params.Delete.Objects) == 0 || len(params.Delete.Objects) > 1000 {
		return nil, &smithy.GenericAPIError{Code: "MalformedXML", Message: "1 to 1000 objects are required", Fault: smithy.FaultClient}
	}
	bucket := aws.ToString(params.Bucket)
	quiet := aws.ToBool(params.Delete.Quiet)
	out := &s3.DeleteObjectsOutput{}
	for _, o := range params.Delete.Objects {
		key := aws.ToString(o.Key)
		if code, ok := f.DeleteErrors[key]; ok {
			out.Errors = append(out.Errors, s3types.Error{Key: aws.String(key), Code: aws.String(code), Message: aws.String(code)})
			continue
		}
		f.RemoveObject(bucket, key)
		if !quiet {
			out.Deleted = append(out.Deleted, s3types.DeletedObject{Key: aws.String(key)})
		}
	}
	return out, nil
}

// checksumAlgorithms are the algorithms the fake supports, in the order of
// the fields of checksumFields.
var checksumAlgorithms = [...]s3types.ChecksumAlgorithm{
	s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmCrc32c, s3types.ChecksumAlgorithmCrc64nvme,
	s3types.ChecksumAlgorithmSha1, s3types.ChecksumAlgorithmSha256,
}

// checksumFields are the checksum values of an input, in the order of
// checksumAlgorithms.
type checksumFields [len(checksumAlgorithms)]*string

// setChecksum sets the output field of alg to value.
func setChecksum(alg s3types.ChecksumAlgorithm, value string, dst [len(checksumAlgorithms)]**string) {
	if i := slices.Index(checksumAlgorithms[:], alg); i >= 0 {
		*dst[i] = aws.String(value)
	}
}

// newHash returns the hash of alg, or nil if the fake does not support it.
func newHash(alg s3types.ChecksumAlgorithm) hash.Hash {
	switch alg {
	case s3types.ChecksumAlgorithmCrc32:
		return crc32.NewIEEE()
	case s3types.ChecksumAlgorithmCrc32c:
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case s3types.ChecksumAlgorithmCrc64nvme:
		return crc64.New(crc64.MakeTable(0x9a6c9329ac4bc9b5))
	case s3types.ChecksumAlgorithmSha1:
		return sha1.New()
	case s3types.ChecksumAlgorithmSha256:
		return sha256.New()
	}
	return nil
}

// checksumOf returns the base64 checksum of data with alg.
func checksumOf(alg s3types.ChecksumAlgorithm, data []byte) string {
	h := newHash(alg)
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func badDigest(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "BadDigest", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

// requestChecksum returns the checksum to store for a request body, as the
// SDK and S3 together produce it: a given value is verified, an algorithm
// without a value gets one computed, and neither means none.
func requestChecksum(named s3types.ChecksumAlgorithm, given checksumFields, body []byte) (s3types.ChecksumAlgorithm, string, error) {
	for i, v := range given {
		if v == nil {
			continue
		}
		alg := checksumAlgorithms[i]
		if named != "" && named != alg {
			return "", "", &smithy.GenericAPIError{Code: "InvalidRequest", Fault: smithy.FaultClient,
				Message: fmt.Sprintf("ChecksumAlgorithm %s with a %s value", named, alg)}
		}
		if got := checksumOf(alg, body); got != *v {
			return "", "", badDigest("The %s you specified did not match the calculated checksum (%s).", alg, got)
		}
		return alg, *v, nil
	}
	if named == "" {
		return "", "", nil
	}
	if newHash(named) == nil {
		return "", "", &smithy.GenericAPIError{Code: "InvalidRequest", Message: "unsupported checksum algorithm " + string(named), Fault: smithy.FaultClient}
	}
	return named, checksumOf(named, body), nil
}

// MultipartUploads returns the multipart uploads in progress (neither
// completed nor aborted), oldest first.
func (f *S3) MultipartUploads() []MultipartUpload {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.uploads))
	for id := range f.uploads {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return f.uploads[a].seq - f.uploads[b].seq })
	out := make([]MultipartUpload, 0, len(ids))
	for _, id := range ids {
		u := f.uploads[id]
		out = append(out, MultipartUpload{Bucket: u.bucket, Key: u.key, UploadID: id, Parts: len(u.parts)})
	}
	return out
}

func noSuchUpload(id string) error {
	return &s3types.NoSuchUpload{Message: aws.String("The specified upload does not exist: " + id)}
}

// CreateMultipartUpload starts a multipart upload. A ChecksumAlgorithm
// without a ChecksumType gets COMPOSITE, except CRC64NVME, which gets
// FULL_OBJECT, as in S3.
func (f *S3) CreateMultipartUpload(ctx context.Context, params *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return call(ctx, f.Log, "S3", "CreateMultipartUpload", params, optFns, f.CreateMultipartUploadFn, f.createMultipartUpload)
}

func (f *S3) createMultipartUpload(params *s3.CreateMultipartUploadInput) (*s3.CreateMultipartUploadOutput, error) {
	if aws.ToString(params.Bucket) == "" || aws.ToString(params.Key) == "" {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Message: "Bucket and Key are required", Fault: smithy.FaultClient}
	}
	alg, typ := params.ChecksumAlgorithm, params.ChecksumType
	if alg != "" && newHash(alg) == nil {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Message: "unsupported checksum algorithm " + string(alg), Fault: smithy.FaultClient}
	}
	if typ != "" && alg == "" {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Message: "ChecksumType needs a ChecksumAlgorithm", Fault: smithy.FaultClient}
	}
	if alg != "" && typ == "" {
		typ = s3types.ChecksumTypeComposite
		if alg == s3types.ChecksumAlgorithmCrc64nvme {
			typ = s3types.ChecksumTypeFullObject
		}
	}
	fullOK := alg == s3types.ChecksumAlgorithmCrc32 || alg == s3types.ChecksumAlgorithmCrc32c || alg == s3types.ChecksumAlgorithmCrc64nvme
	if typ == s3types.ChecksumTypeFullObject && !fullOK || typ == s3types.ChecksumTypeComposite && alg == s3types.ChecksumAlgorithmCrc64nvme {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Message: fmt.Sprintf("checksum type %s is not supported with %s", typ, alg), Fault: smithy.FaultClient}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uploads == nil {
		f.uploads = map[string]*upload{}
	}
	f.uploadID++
	id := "upload-" + strconv.Itoa(f.uploadID)
	f.uploads[id] = &upload{bucket: *params.Bucket, key: *params.Key, alg: alg, typ: typ, seq: f.uploadID, parts: map[int32]uploadedPart{}, meta: maps.Clone(params.Metadata)}
	return &s3.CreateMultipartUploadOutput{
		Bucket: params.Bucket, Key: params.Key, UploadId: aws.String(id),
		ChecksumAlgorithm: alg, ChecksumType: typ,
	}, nil
}

// lookupUpload returns the upload id names, if it is for bucket and key.
func (f *S3) lookupUpload(bucket, key, id string) (*upload, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.uploads[id]
	if !ok || u.bucket != bucket || u.key != key {
		return nil, false
	}
	return u, true
}

// UploadPart stores one part of a multipart upload, replacing an earlier
// part with the same number. It checks ContentLength and the part checksum.
func (f *S3) UploadPart(ctx context.Context, params *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return call(ctx, f.Log, "S3", "UploadPart", params, optFns, f.UploadPartFn, f.uploadPart)
}

func (f *S3) uploadPart(params *s3.UploadPartInput) (*s3.UploadPartOutput, error) {
	u, ok := f.lookupUpload(aws.ToString(params.Bucket), aws.ToString(params.Key), aws.ToString(params.UploadId))
	if !ok {
		return nil, noSuchUpload(aws.ToString(params.UploadId))
	}
	n := aws.ToInt32(params.PartNumber)
	if n < 1 || n > 10000 {
		return nil, &smithy.GenericAPIError{Code: "InvalidArgument", Message: fmt.Sprintf("Part number must be an integer between 1 and 10000, is %d", n), Fault: smithy.FaultClient}
	}
	body, err := readBody(params.Body, params.ContentLength)
	if err != nil {
		return nil, err
	}
	// S3 requires the part checksum of an upload created with an algorithm;
	// the SDK computes it when the input names the algorithm.
	alg, value, err := requestChecksum(params.ChecksumAlgorithm, checksumFields{
		params.ChecksumCRC32, params.ChecksumCRC32C, params.ChecksumCRC64NVME, params.ChecksumSHA1, params.ChecksumSHA256,
	}, body)
	if err != nil {
		return nil, err
	}
	if u.alg != "" && alg != u.alg {
		return nil, &smithy.GenericAPIError{Code: "InvalidRequest", Fault: smithy.FaultClient,
			Message: fmt.Sprintf("the upload was created with %s, the part has %q", u.alg, alg)}
	}
	sum := md5.Sum(body)
	etag := `"` + hex.EncodeToString(sum[:]) + `"`
	f.mu.Lock()
	u.parts[n] = uploadedPart{data: body, etag: etag, sum: value}
	f.mu.Unlock()
	out := &s3.UploadPartOutput{ETag: aws.String(etag)}
	if value != "" {
		setChecksum(alg, value, [...]**string{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256})
	}
	return out, nil
}

// CompleteMultipartUpload assembles the listed parts into the object, with
// the checks S3 makes, and ends the upload.
func (f *S3) CompleteMultipartUpload(ctx context.Context, params *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return call(ctx, f.Log, "S3", "CompleteMultipartUpload", params, optFns, f.CompleteMultipartUploadFn, f.completeMultipartUpload)
}

func (f *S3) completeMultipartUpload(params *s3.CompleteMultipartUploadInput) (*s3.CompleteMultipartUploadOutput, error) {
	id := aws.ToString(params.UploadId)
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.uploads[id]
	if !ok || u.bucket != aws.ToString(params.Bucket) || u.key != aws.ToString(params.Key) {
		return nil, noSuchUpload(id)
	}
	invalid := func(code, format string, args ...any) error {
		return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
	}
	if params.ChecksumType != "" && params.ChecksumType != u.typ {
		return nil, invalid("InvalidRequest", "ChecksumType %s, the upload was created with %q", params.ChecksumType, u.typ)
	}
	if params.MultipartUpload == nil || len(params.MultipartUpload.Parts) == 0 {
		return nil, invalid("MalformedXML", "at least one part is required")
	}
	minPart := f.MinPartSize
	if minPart == 0 {
		minPart = 5 << 20
	}
	listed := params.MultipartUpload.Parts
	var data []byte
	var partSums []byte
	etags := md5.New()
	prev := int32(0)
	for i, cp := range listed {
		n := aws.ToInt32(cp.PartNumber)
		if n <= prev {
			return nil, invalid("InvalidPartOrder", "parts must be listed in ascending order")
		}
		prev = n
		p, ok := u.parts[n]
		if !ok || strings.Trim(aws.ToString(cp.ETag), `"`) != strings.Trim(p.etag, `"`) {
			return nil, invalid("InvalidPart", "part %d was not uploaded or its ETag does not match", n)
		}
		if i < len(listed)-1 && int64(len(p.data)) < minPart {
			return nil, invalid("EntityTooSmall", "part %d is %d bytes, less than %d", n, len(p.data), minPart)
		}
		if u.alg != "" {
			given := checksumFields{cp.ChecksumCRC32, cp.ChecksumCRC32C, cp.ChecksumCRC64NVME, cp.ChecksumSHA1, cp.ChecksumSHA256}
			v := given[slices.Index(checksumAlgorithms[:], u.alg)]
			if v == nil || *v != p.sum {
				return nil, invalid("InvalidPart", "part %d: the %s checksum is missing or does not match", n, u.alg)
			}
			raw, _ := base64.StdEncoding.DecodeString(p.sum)
			partSums = append(partSums, raw...)
		}
		data = append(data, p.data...)
		sum, _ := hex.DecodeString(strings.Trim(p.etag, `"`))
		etags.Write(sum)
	}
	if params.MpuObjectSize != nil && *params.MpuObjectSize != int64(len(data)) {
		return nil, invalid("InvalidRequest", "MpuObjectSize is %d, the parts hold %d bytes", *params.MpuObjectSize, len(data))
	}
	var sum checksum
	if u.alg != "" {
		sum = checksum{alg: u.alg, typ: u.typ}
		given := checksumFields{params.ChecksumCRC32, params.ChecksumCRC32C, params.ChecksumCRC64NVME, params.ChecksumSHA1, params.ChecksumSHA256}
		want := given[slices.Index(checksumAlgorithms[:], u.alg)]
		if u.typ == s3types.ChecksumTypeFullObject {
			sum.value = checksumOf(u.alg, data)
			if want != nil && *want != sum.value {
				return nil, badDigest("The full-object %s you specified did not match the calculated checksum (%s).", u.alg, sum.value)
			}
		} else {
			sum.value = checksumOf(u.alg, partSums) + "-" + strconv.Itoa(len(listed))
			if want != nil && strings.TrimSuffix(*want, "-"+strconv.Itoa(len(listed))) != strings.TrimSuffix(sum.value, "-"+strconv.Itoa(len(listed))) {
				return nil, badDigest("The composite %s you specified did not match the calculated checksum (%s).", u.alg, sum.value)
			}
		}
	}
	f.setObjectLocked(objectKey{u.bucket, u.key}, data, sum, u.meta)
	delete(f.uploads, id)
	out := &s3.CompleteMultipartUploadOutput{
		Bucket: params.Bucket, Key: params.Key,
		ETag: aws.String(fmt.Sprintf(`"%x-%d"`, etags.Sum(nil), len(listed))),
	}
	if sum.value != "" {
		out.ChecksumType = sum.typ
		setChecksum(sum.alg, sum.value, [...]**string{&out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumCRC64NVME, &out.ChecksumSHA1, &out.ChecksumSHA256})
	}
	return out, nil
}

// AbortMultipartUpload discards a multipart upload and its parts; an unknown
// upload gives *s3types.NoSuchUpload.
func (f *S3) AbortMultipartUpload(ctx context.Context, params *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return call(ctx, f.Log, "S3", "AbortMultipartUpload", params, optFns, f.AbortMultipartUploadFn, f.abortMultipartUpload)
}

func (f *S3) abortMultipartUpload(params *s3.AbortMultipartUploadInput) (*s3.AbortMultipartUploadOutput, error) {
	id := aws.ToString(params.UploadId)
	f.mu.Lock()
	defer f.mu.Unlock()
	u, ok := f.uploads[id]
	if !ok || u.bucket != aws.ToString(params.Bucket) || u.key != aws.ToString(params.Key) {
		return nil, noSuchUpload(id)
	}
	delete(f.uploads, id)
	return &s3.AbortMultipartUploadOutput{}, nil
}

// readBody reads the body of a PutObject or UploadPart; a ContentLength
// that the body does not match is IncompleteBody, as S3 answers.
func readBody(r io.Reader, contentLength *int64) ([]byte, error) {
	var body []byte
	if r != nil {
		var err error
		if body, err = io.ReadAll(r); err != nil {
			return nil, err
		}
	}
	if contentLength != nil && *contentLength != int64(len(body)) {
		return nil, &smithy.GenericAPIError{Code: "IncompleteBody",
			Message: fmt.Sprintf("ContentLength is %d, body has %d bytes", *contentLength, len(body)), Fault: smithy.FaultClient}
	}
	return body, nil
}
