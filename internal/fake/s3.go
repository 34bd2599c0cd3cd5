package fake

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// The fakes import neither package sqsx nor package payload, so that the
// tests inside those packages can use them; client_test.go in the root
// package checks that they satisfy sqsx.SQSAPI and payload.S3API.

// S3 is an in-memory S3 that implements payload.S3API (and so sqsx.S3API). Every bucket exists.
// PutObject stores the body, GetObject returns it (a missing key gives
// *s3types.NoSuchKey), DeleteObject and DeleteObjects remove objects (a missing
// key is not an error, as in S3).
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

	// DeleteErrors maps keys to an S3 error code (e.g. "AccessDenied") that
	// DeleteObjects reports in its output's Errors for that key, leaving the
	// object in place.
	DeleteErrors map[string]string

	mu      sync.Mutex
	objects map[objectKey][]byte
}

type objectKey struct{ bucket, key string }

// NewS3 returns an empty S3 that records its calls in log, or in a new Log if
// log is nil.
func NewS3(log *Log) *S3 {
	if log == nil {
		log = &Log{}
	}
	return &S3{Log: log, objects: map[objectKey][]byte{}}
}

func (f *S3) record(op string, params any, optFns []func(*s3.Options)) {
	var o s3.Options
	for _, fn := range optFns {
		fn(&o)
	}
	f.Log.add(Call{Op: op, Params: params, OptFns: len(optFns), Options: o})
}

func s3Error(op string, err error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: op, Err: err}
}

// SetObject stores an object directly, without recording a call.
func (f *S3) SetObject(bucket, key string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.objects == nil {
		f.objects = map[objectKey][]byte{}
	}
	f.objects[objectKey{bucket, key}] = bytes.Clone(body)
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
	const op = "PutObject"
	f.record(op, params, optFns)
	if err := ctx.Err(); err != nil {
		return nil, s3Error(op, err)
	}
	if f.PutObjectFn != nil {
		if out, err := f.PutObjectFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil || aws.ToString(params.Bucket) == "" || aws.ToString(params.Key) == "" {
		return nil, s3Error(op, &smithy.GenericAPIError{Code: "InvalidRequest", Message: "Bucket and Key are required", Fault: smithy.FaultClient})
	}
	var body []byte
	if params.Body != nil {
		var err error
		if body, err = io.ReadAll(params.Body); err != nil {
			return nil, s3Error(op, err)
		}
	}
	if params.ContentLength != nil && *params.ContentLength != int64(len(body)) {
		return nil, s3Error(op, &smithy.GenericAPIError{Code: "IncompleteBody",
			Message: fmt.Sprintf("ContentLength is %d, body has %d bytes", *params.ContentLength, len(body)), Fault: smithy.FaultClient})
	}
	f.SetObject(*params.Bucket, *params.Key, body)
	sum := md5.Sum(body)
	return &s3.PutObjectOutput{ETag: aws.String(`"` + hex.EncodeToString(sum[:]) + `"`)}, nil
}

// GetObject returns a stored object with its ContentLength, or
// *s3types.NoSuchKey.
func (f *S3) GetObject(ctx context.Context, params *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	const op = "GetObject"
	f.record(op, params, optFns)
	if err := ctx.Err(); err != nil {
		return nil, s3Error(op, err)
	}
	if f.GetObjectFn != nil {
		if out, err := f.GetObjectFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil {
		return nil, s3Error(op, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")})
	}
	body, ok := f.Object(aws.ToString(params.Bucket), aws.ToString(params.Key))
	if !ok {
		return nil, s3Error(op, &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")})
	}
	sum := md5.Sum(body)
	return &s3.GetObjectOutput{
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: aws.Int64(int64(len(body))),
		ETag:          aws.String(`"` + hex.EncodeToString(sum[:]) + `"`),
	}, nil
}

// DeleteObject removes an object; a missing object is not an error.
func (f *S3) DeleteObject(ctx context.Context, params *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	const op = "DeleteObject"
	f.record(op, params, optFns)
	if err := ctx.Err(); err != nil {
		return nil, s3Error(op, err)
	}
	if f.DeleteObjectFn != nil {
		if out, err := f.DeleteObjectFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params != nil {
		f.RemoveObject(aws.ToString(params.Bucket), aws.ToString(params.Key))
	}
	return &s3.DeleteObjectOutput{}, nil
}

// DeleteObjects removes the named objects, except those whose keys are in
// DeleteErrors, which it reports in the output's Errors. Unless the request is
// Quiet, the others are listed in Deleted.
func (f *S3) DeleteObjects(ctx context.Context, params *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	const op = "DeleteObjects"
	f.record(op, params, optFns)
	if err := ctx.Err(); err != nil {
		return nil, s3Error(op, err)
	}
	if f.DeleteObjectsFn != nil {
		if out, err := f.DeleteObjectsFn(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil || params.Delete == nil || len(params.Delete.Objects) == 0 || len(params.Delete.Objects) > 1000 {
		return nil, s3Error(op, &smithy.GenericAPIError{Code: "MalformedXML", Message: "1 to 1000 objects are required", Fault: smithy.FaultClient})
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
