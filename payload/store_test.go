package payload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

const testBucket = "payload-bucket"

// newTestStore returns a Store over a fresh fakeS3, failing the test on error.
func newTestStore(t *testing.T, opts StoreOptions) (*Store, *fakeS3) {
	t.Helper()
	f := newFakeS3()
	s, err := NewStore(f, opts)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	return s, f
}

// invalidFields returns the field names that a NewStore error lists, in order.
func invalidFields(t *testing.T, err error) []string {
	t.Helper()
	const prefix = "payload: invalid StoreOptions: "
	msg, ok := strings.CutPrefix(err.Error(), prefix)
	if !ok {
		t.Fatalf("expect the error to start with %q, got %q", prefix, err)
	}
	var fields []string
	for line := range strings.SplitSeq(msg, "\n") {
		field, _, _ := strings.Cut(line, ":")
		fields = append(fields, field)
	}
	return fields
}

// joined returns the errors that errors.Join combined into err.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// asPayloadError returns err as a *Error, failing the test if it is not one.
func asPayloadError(t *testing.T, err error) *Error {
	t.Helper()
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("expect a *Error, got %T: %v", err, err)
	}
	return perr
}

func TestNewStoreValidation(t *testing.T) {
	cases := map[string]struct {
		opts    StoreOptions
		fields  []string // nil: valid
		mention string   // a value the error must quote
	}{
		"zero": {},
		"everything valid": {opts: StoreOptions{
			Bucket: testBucket, KeyPrefix: "payloads/2026/", AllowedBuckets: []string{testBucket, "other-bucket"},
			ServerSideEncryption: s3types.ServerSideEncryptionAwsKms, SSEKMSKeyID: "alias/payloads",
			ACL: s3types.ObjectCannedACLBucketOwnerFullControl, MaxPayloadSize: 1 << 20,
		}},
		"AES256":                   {opts: StoreOptions{ServerSideEncryption: s3types.ServerSideEncryptionAes256}},
		"SSEKMSKeyID with dsse":    {opts: StoreOptions{ServerSideEncryption: s3types.ServerSideEncryptionAwsKmsDsse, SSEKMSKeyID: "k"}},
		"longest KeyPrefix":        {opts: StoreOptions{KeyPrefix: strings.Repeat("p", MaxKeyPrefixLength)}},
		"bad Bucket":               {opts: StoreOptions{Bucket: "My_Bucket"}, fields: []string{"Bucket"}, mention: "My_Bucket"},
		"IP Bucket":                {opts: StoreOptions{Bucket: "10.0.0.1"}, fields: []string{"Bucket"}, mention: "10.0.0.1"},
		"bad KeyPrefix":            {opts: StoreOptions{Bucket: testBucket, KeyPrefix: "/payloads/"}, fields: []string{"KeyPrefix"}, mention: "/payloads/"},
		"KeyPrefix too long":       {opts: StoreOptions{KeyPrefix: strings.Repeat("p", MaxKeyPrefixLength+1)}, fields: []string{"KeyPrefix"}},
		"KeyPrefix with dotdot":    {opts: StoreOptions{KeyPrefix: "a/../"}, fields: []string{"KeyPrefix"}},
		"bad AllowedBuckets entry": {opts: StoreOptions{AllowedBuckets: []string{"good-bucket", "Bad"}}, fields: []string{"AllowedBuckets"}, mention: "Bad"},
		"two bad AllowedBuckets":   {opts: StoreOptions{AllowedBuckets: []string{"x", "a..b"}}, fields: []string{"AllowedBuckets", "AllowedBuckets"}, mention: "a..b"},
		"unknown SSE":              {opts: StoreOptions{ServerSideEncryption: "aws:kms2"}, fields: []string{"ServerSideEncryption"}, mention: "aws:kms2"},
		"SSE wrong case":           {opts: StoreOptions{ServerSideEncryption: "aes256"}, fields: []string{"ServerSideEncryption"}},
		"SSEKMSKeyID with AES256": {
			opts:   StoreOptions{ServerSideEncryption: s3types.ServerSideEncryptionAes256, SSEKMSKeyID: "alias/k"},
			fields: []string{"SSEKMSKeyID"}, mention: "AES256",
		},
		"unknown ACL":            {opts: StoreOptions{ACL: "public"}, fields: []string{"ACL"}, mention: "public"},
		"negative MaxStreamSize": {opts: StoreOptions{MaxStreamSize: -1}, fields: []string{"MaxStreamSize"}, mention: "-1"},
		"bad AllowedKeyPrefixes": {opts: StoreOptions{AllowedKeyPrefixes: []string{"ok/", "a b"}}, fields: []string{"AllowedKeyPrefixes"}, mention: "a b"},
		"everything wrong": {
			opts: StoreOptions{
				Bucket: "B", KeyPrefix: ".", AllowedBuckets: []string{"c"}, ServerSideEncryption: "bogus",
				SSEKMSKeyID: "k", ACL: "bogus", MaxStreamSize: -5,
			},
			fields: []string{"Bucket", "KeyPrefix", "AllowedBuckets", "ServerSideEncryption", "SSEKMSKeyID", "ACL", "MaxStreamSize"},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, err := NewStore(newFakeS3(), c.opts)
			if c.fields == nil {
				if err != nil || s == nil {
					t.Fatalf("expect a store, got %v, %v", s, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("expect an error naming %v, got nil", c.fields)
			}
			if s != nil {
				t.Errorf("expect no store, got %v", s)
			}
			if diff := cmp.Diff(c.fields, invalidFields(t, err)); diff != "" {
				t.Errorf("invalid fields (-expect +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("expect the error to mention %q, got %q", c.mention, err)
			}
		})
	}
}

func TestNewStoreNilClient(t *testing.T) {
	s, err := NewStore(nil, StoreOptions{Bucket: testBucket})
	if err == nil || s != nil {
		t.Errorf("expect an error, got %v, %v", s, err)
	}
}

// putSummary is the part of a PutObjectInput the store fills in.
type putSummary struct {
	Bucket, Key, SSEKMSKeyID string
	SSE                      s3types.ServerSideEncryption
	ACL                      s3types.ObjectCannedACL
	ContentLength            int64
}

func summarizePut(in *s3.PutObjectInput) putSummary {
	return putSummary{
		Bucket: aws.ToString(in.Bucket), Key: aws.ToString(in.Key), SSEKMSKeyID: aws.ToString(in.SSEKMSKeyId),
		SSE: in.ServerSideEncryption, ACL: in.ACL, ContentLength: aws.ToInt64(in.ContentLength),
	}
}

// onlyPut returns the single PutObjectInput recorded by f.
func onlyPut(t *testing.T, f *fakeS3) *s3.PutObjectInput {
	t.Helper()
	calls := f.Calls()
	if len(calls) != 1 || calls[0].Op != "PutObject" {
		t.Fatalf("expect one PutObject call, got %v", f.Ops())
	}
	return calls[0].Input.(*s3.PutObjectInput)
}

func TestStorePutFields(t *testing.T) {
	const body = "héllo"
	cases := map[string]struct {
		opts StoreOptions
		want putSummary
	}{
		"defaults": {
			opts: StoreOptions{Bucket: testBucket},
			want: putSummary{Bucket: testBucket, ContentLength: 6},
		},
		"SSE-S3": {
			opts: StoreOptions{Bucket: testBucket, ServerSideEncryption: s3types.ServerSideEncryptionAes256},
			want: putSummary{Bucket: testBucket, SSE: "AES256", ContentLength: 6},
		},
		"SSE-KMS managed key": {
			opts: StoreOptions{Bucket: testBucket, ServerSideEncryption: s3types.ServerSideEncryptionAwsKms},
			want: putSummary{Bucket: testBucket, SSE: "aws:kms", ContentLength: 6},
		},
		"SSEKMSKeyID implies SSE-KMS": {
			opts: StoreOptions{Bucket: testBucket, SSEKMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/abc"},
			want: putSummary{Bucket: testBucket, SSE: "aws:kms", SSEKMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/abc", ContentLength: 6},
		},
		"DSSE with key": {
			opts: StoreOptions{Bucket: testBucket, ServerSideEncryption: s3types.ServerSideEncryptionAwsKmsDsse, SSEKMSKeyID: "alias/k"},
			want: putSummary{Bucket: testBucket, SSE: "aws:kms:dsse", SSEKMSKeyID: "alias/k", ContentLength: 6},
		},
		"ACL": {
			opts: StoreOptions{Bucket: testBucket, ACL: s3types.ObjectCannedACLBucketOwnerFullControl},
			want: putSummary{Bucket: testBucket, ACL: "bucket-owner-full-control", ContentLength: 6},
		},
		"everything": {
			opts: StoreOptions{
				Bucket: testBucket, KeyPrefix: "p/", ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
				SSEKMSKeyID: "alias/k", ACL: s3types.ObjectCannedACLPrivate,
			},
			want: putSummary{Bucket: testBucket, SSE: "aws:kms", SSEKMSKeyID: "alias/k", ACL: "private", ContentLength: 6},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, c.opts)
			p, err := s.Put(t.Context(), body)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			got := summarizePut(onlyPut(t, f))
			c.want.Key = p.Key
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("PutObjectInput (-expect +got):\n%s", diff)
			}
			if p.Bucket != testBucket {
				t.Errorf("expect bucket %q, got %q", testBucket, p.Bucket)
			}
			rest, ok := strings.CutPrefix(p.Key, c.opts.KeyPrefix)
			if !ok {
				t.Fatalf("expect key prefix %q, got %q", c.opts.KeyPrefix, p.Key)
			}
			if u, err := uuid.Parse(rest); err != nil || u.Version() != 4 || u.String() != rest {
				t.Errorf("expect a UUIDv4 after the prefix, got %q (%v)", rest, err)
			}
		})
	}
}

func TestStorePutBody(t *testing.T) {
	cases := map[string]string{
		"empty":      "",
		"ASCII":      "hello world",
		"multi-byte": "日本語 🔑 é\x00\xff",
		"large":      strings.Repeat("0123456789abcdef", 1<<16),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{Bucket: testBucket})
			var sawWriterTo, sawSeeker bool
			var data []byte
			f.putObject = func(_ context.Context, in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
				_, sawWriterTo = in.Body.(io.WriterTo)
				_, sawSeeker = in.Body.(io.Seeker)
				var err error
				data, err = io.ReadAll(in.Body)
				return &s3.PutObjectOutput{}, err
			}
			if _, err := s.Put(t.Context(), body); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if sawWriterTo {
				t.Errorf("expect a Body without WriteTo (the SDK checksum copies the payload through it), got one")
			}
			if !sawSeeker {
				t.Errorf("expect a seekable Body, got none")
			}
			if string(data) != body {
				t.Errorf("expect %d bytes read back equal to the body, got %d bytes", len(body), len(data))
			}
			if got := aws.ToInt64(onlyPut(t, f).ContentLength); got != int64(len(body)) {
				t.Errorf("expect ContentLength %d, got %d", len(body), got)
			}
		})
	}
}

func TestStorePutObjectOptionsAfterStoreFields(t *testing.T) {
	var seen []string
	opts := StoreOptions{
		Bucket: testBucket, SSEKMSKeyID: "alias/k", ACL: s3types.ObjectCannedACLPrivate,
		PutObjectOptions: []func(*s3.PutObjectInput){
			func(in *s3.PutObjectInput) {
				seen = append(seen, fmt.Sprintf("1 %s %s %s %d", in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId), in.ACL, aws.ToInt64(in.ContentLength)))
				in.ACL = s3types.ObjectCannedACLBucketOwnerFullControl
				in.StorageClass = s3types.StorageClassStandardIa
				in.Tagging = aws.String("a=1")
			},
			func(in *s3.PutObjectInput) {
				seen = append(seen, fmt.Sprintf("2 %s %s", in.ACL, aws.ToString(in.Tagging)))
				in.Tagging = aws.String(aws.ToString(in.Tagging) + "&b=2")
				in.ExpectedBucketOwner = aws.String("111122223333")
			},
		},
	}
	s, f := newTestStore(t, opts)
	p, err := s.Put(t.Context(), "body")
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	wantSeen := []string{"1 aws:kms alias/k private 4", "2 bucket-owner-full-control a=1"}
	if diff := cmp.Diff(wantSeen, seen); diff != "" {
		t.Errorf("what the options saw (-expect +got):\n%s", diff)
	}
	in := onlyPut(t, f)
	got := []string{string(in.ACL), string(in.StorageClass), aws.ToString(in.Tagging), aws.ToString(in.ExpectedBucketOwner), aws.ToString(in.Key)}
	want := []string{"bucket-owner-full-control", "STANDARD_IA", "a=1&b=2", "111122223333", p.Key}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("final PutObjectInput (-expect +got):\n%s", diff)
	}
}

type ctxKey struct{}

func TestStoreS3ClientOptions(t *testing.T) {
	ops := map[string]func(context.Context, *Store, Pointer) error{
		"Put": func(ctx context.Context, s *Store, _ Pointer) error { _, err := s.Put(ctx, "x"); return err },
		"PutAt": func(ctx context.Context, s *Store, p Pointer) error {
			return s.PutAt(ctx, p, "x")
		},
		"Get":       func(ctx context.Context, s *Store, p Pointer) error { _, err := s.Get(ctx, p); return err },
		"Delete":    func(ctx context.Context, s *Store, p Pointer) error { return s.Delete(ctx, p) },
		"DeleteAll": func(ctx context.Context, s *Store, p Pointer) error { return s.DeleteAll(ctx, []Pointer{p}) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{
				Bucket: testBucket,
				S3ClientOptions: []func(*s3.Options){
					func(o *s3.Options) { o.Region = "first" },
					func(o *s3.Options) { o.Region += "-second"; o.UsePathStyle = true },
				},
			})
			p := Pointer{Bucket: testBucket, Key: "k"}
			f.setObject(p.Bucket, p.Key, "x")
			if err := op(t.Context(), s, p); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			calls := f.Calls()
			if len(calls) != 1 {
				t.Fatalf("expect 1 call, got %v", f.Ops())
			}
			var o s3.Options
			for _, fn := range calls[0].OptFns {
				fn(&o)
			}
			if o.Region != "first-second" || !o.UsePathStyle {
				t.Errorf("expect Region first-second and UsePathStyle, got %q, %v", o.Region, o.UsePathStyle)
			}
		})
	}
}

func TestStoreKeyFunc(t *testing.T) {
	errKeyFunc := errors.New("no key today")
	cases := map[string]struct {
		prefix  string
		result  string
		err     error
		wantKey string // "" when Put must fail
	}{
		"plain":                 {result: "custom-key", wantKey: "custom-key"},
		"with prefix":           {prefix: "p/", result: "2026/abc", wantKey: "p/2026/abc"},
		"empty result + prefix": {prefix: "p/", result: "", wantKey: "p/"},
		"longest":               {prefix: "p/", result: strings.Repeat("k", MaxKeyLength-2), wantKey: "p/" + strings.Repeat("k", MaxKeyLength-2)},
		"error":                 {result: "k", err: errKeyFunc},
		"empty":                 {result: ""},
		"leading slash":         {result: "/abs"},
		"dotdot segment":        {prefix: "p/", result: "../secret"},
		"dot segment":           {prefix: "p", result: "/./x"},
		"control char":          {result: "a\x00b"},
		"invalid UTF-8":         {result: "\xff"},
		"too long":              {prefix: "p/", result: strings.Repeat("k", MaxKeyLength-1)},
		"marker":                {result: "a" + KeyMarker + "b"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var gotCtxValue any
			s, f := newTestStore(t, StoreOptions{
				Bucket:    testBucket,
				KeyPrefix: c.prefix,
				KeyFunc: func(ctx context.Context) (string, error) {
					gotCtxValue = ctx.Value(ctxKey{})
					return c.result, c.err
				},
			})
			ctx := context.WithValue(t.Context(), ctxKey{}, "v")
			p, err := s.Put(ctx, "body")
			if gotCtxValue != "v" {
				t.Errorf("expect KeyFunc to get the caller's context, got value %v", gotCtxValue)
			}
			if c.wantKey == "" {
				if err == nil {
					t.Fatalf("expect an error, got pointer %v", p)
				}
				if c.err != nil && !errors.Is(err, c.err) {
					t.Errorf("expect %v, got %v", c.err, err)
				}
				if ops := f.Ops(); len(ops) != 0 {
					t.Errorf("expect no S3 call, got %v", ops)
				}
				if p != (Pointer{}) {
					t.Errorf("expect the zero Pointer, got %#v", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if want := (Pointer{Bucket: testBucket, Key: c.wantKey}); p != want {
				t.Errorf("expect %v, got %v", want, p)
			}
			if got := aws.ToString(onlyPut(t, f).Key); got != c.wantKey {
				t.Errorf("expect key %q, got %q", c.wantKey, got)
			}
		})
	}
}

func TestStorePutNoBucket(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{AllowedBuckets: []string{"some-bucket"}})
	if _, err := s.Put(t.Context(), "x"); !errors.Is(err, ErrNoBucket) {
		t.Errorf("expect %v, got %v", ErrNoBucket, err)
	}
	if _, err := s.NewPointer(t.Context()); !errors.Is(err, ErrNoBucket) {
		t.Errorf("expect %v, got %v", ErrNoBucket, err)
	}
	if ops := f.Ops(); len(ops) != 0 {
		t.Errorf("expect no S3 call, got %v", ops)
	}
	if s.Bucket() != "" {
		t.Errorf("expect no bucket, got %q", s.Bucket())
	}
}

func TestStorePutError(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{Bucket: testBucket})
	// A client fault: S3 definitely refused the object, nothing to undo.
	apiErr := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied", Fault: smithy.FaultClient}
	f.putObject = func(context.Context, *s3.PutObjectInput) (*s3.PutObjectOutput, error) { return nil, apiErr }
	p, err := s.Put(t.Context(), "x")
	if err == nil {
		t.Fatalf("expect an error, got pointer %v", p)
	}
	perr := asPayloadError(t, err)
	key := aws.ToString(onlyPut(t, f).Key)
	if perr.Op != "PutObject" || perr.Bucket != testBucket || perr.Key != key {
		t.Errorf("expect PutObject %s %s, got %s %s %s", testBucket, key, perr.Op, perr.Bucket, perr.Key)
	}
	var gotAPI smithy.APIError
	if !errors.As(err, &gotAPI) || gotAPI.ErrorCode() != "AccessDenied" {
		t.Errorf("expect the API error to be reachable, got %v", err)
	}
	if errors.Is(err, ErrNotFound) {
		t.Errorf("expect not %v, got %v", ErrNotFound, err)
	}
}

func TestStoreAllowedBuckets(t *testing.T) {
	cases := map[string]struct {
		opts    StoreOptions
		allowed []string
		denied  []string
	}{
		"default is Bucket":       {StoreOptions{Bucket: testBucket}, []string{testBucket}, []string{"other-bucket", ""}},
		"no Bucket, none":         {StoreOptions{}, nil, []string{testBucket, ""}},
		"explicit list":           {StoreOptions{AllowedBuckets: []string{"a-bucket", "b-bucket"}}, []string{"a-bucket", "b-bucket"}, []string{testBucket}},
		"explicit adds to Bucket": {StoreOptions{Bucket: testBucket, AllowedBuckets: []string{"other-bucket"}}, []string{"other-bucket", testBucket}, []string{"third-bucket"}},
		"explicit with Bucket":    {StoreOptions{Bucket: testBucket, AllowedBuckets: []string{testBucket, "other-bucket"}}, []string{testBucket, "other-bucket"}, []string{"third-bucket"}},
		"case matters":            {StoreOptions{Bucket: testBucket}, []string{testBucket}, []string{strings.ToUpper(testBucket)}},
		"prefix is not a match":   {StoreOptions{Bucket: testBucket}, nil, []string{testBucket + "x", "payload"}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, c.opts)
			for _, b := range c.allowed {
				if !s.Allowed(b) {
					t.Errorf("expect %q allowed, got denied", b)
				}
			}
			for _, b := range c.denied {
				if s.Allowed(b) {
					t.Errorf("expect %q denied, got allowed", b)
				}
				p := Pointer{Bucket: b, Key: "k"}
				f.setObject(b, "k", "secret")
				body, err := s.Get(t.Context(), p)
				if !errors.Is(err, ErrBucketNotAllowed) {
					t.Errorf("Get: expect %v, got %q, %v", ErrBucketNotAllowed, body, err)
				}
				if perr := asPayloadError(t, err); perr.Op != "GetObject" || perr.Bucket != b || perr.Key != "k" {
					t.Errorf("expect GetObject %s k, got %s %s %s", b, perr.Op, perr.Bucket, perr.Key)
				}
				err = s.Delete(t.Context(), p)
				if !errors.Is(err, ErrBucketNotAllowed) {
					t.Errorf("Delete: expect %v, got %v", ErrBucketNotAllowed, err)
				}
				if perr := asPayloadError(t, err); perr.Op != "DeleteObject" {
					t.Errorf("expect DeleteObject, got %s", perr.Op)
				}
				if ops := f.Ops(); len(ops) != 0 {
					t.Errorf("expect no S3 call for a denied bucket, got %v", ops)
				}
			}
		})
	}
}

func TestNewStoreCopiesOptions(t *testing.T) {
	allowed := []string{"a-bucket"}
	var called []string
	putOpts := []func(*s3.PutObjectInput){func(*s3.PutObjectInput) { called = append(called, "original") }}
	s, _ := newTestStore(t, StoreOptions{Bucket: testBucket, AllowedBuckets: allowed, PutObjectOptions: putOpts})
	allowed[0] = "evil-bucket"
	putOpts[0] = func(*s3.PutObjectInput) { called = append(called, "replaced") }
	if !s.Allowed("a-bucket") || s.Allowed("evil-bucket") {
		t.Errorf("expect the store to keep its own AllowedBuckets, got a-bucket=%v evil-bucket=%v",
			s.Allowed("a-bucket"), s.Allowed("evil-bucket"))
	}
	if _, err := s.Put(t.Context(), "x"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"original"}, called); diff != "" {
		t.Errorf("PutObjectOptions called (-expect +got):\n%s", diff)
	}
}

func TestStorePutGetDelete(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{Bucket: testBucket, KeyPrefix: "p/"})
	const body = "a payload 日本 \x00 end"
	p, err := s.Put(t.Context(), body)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	var bodies []*fakeBody
	f.getObject = func(ctx context.Context, in *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		data, _ := f.object(aws.ToString(in.Bucket), aws.ToString(in.Key))
		b := newFakeBody(data)
		bodies = append(bodies, b)
		return &s3.GetObjectOutput{Body: b, ContentLength: aws.Int64(int64(len(data)))}, nil
	}
	got, err := s.Get(t.Context(), p)
	if err != nil || got != body {
		t.Fatalf("expect %q, got %q, %v", body, got, err)
	}
	if _, closed := bodies[0].state(); !closed {
		t.Errorf("expect the body closed, got open")
	}
	if err := s.Delete(t.Context(), p); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if _, ok := f.object(p.Bucket, p.Key); ok {
		t.Errorf("expect %v deleted, got it still there", p)
	}
	// S3 reports success for a missing key, and so does Delete.
	if err := s.Delete(t.Context(), p); err != nil {
		t.Errorf("expect no error, got %v", err)
	}
	want := []string{"PutObject", "GetObject", "DeleteObject", "DeleteObject"}
	if diff := cmp.Diff(want, f.Ops()); diff != "" {
		t.Errorf("calls (-expect +got):\n%s", diff)
	}
	for _, c := range f.Calls() {
		if c.Bucket != p.Bucket || !slices.Equal(c.Keys, []string{p.Key}) {
			t.Errorf("expect %s on %v, got %s %v", c.Op, p, c.Bucket, c.Keys)
		}
	}
}

func TestStoreGetNotFound(t *testing.T) {
	nsk := &s3types.NoSuchKey{Message: aws.String("The specified key does not exist.")}
	cases := map[string]struct {
		err      error
		notFound bool
	}{
		"NoSuchKey":              {nsk, true},
		"NoSuchKey in op error":  {&smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: nsk}, true},
		"NotFound":               {&s3types.NotFound{}, true},
		"generic NoSuchBucket":   {&smithy.GenericAPIError{Code: "NoSuchBucket", Message: "The specified bucket does not exist"}, true},
		"generic NoSuchKey":      {&smithy.GenericAPIError{Code: "NoSuchKey"}, true},
		"generic NotFound":       {&smithy.GenericAPIError{Code: "NotFound"}, true},
		"AccessDenied":           {&smithy.GenericAPIError{Code: "AccessDenied"}, false},
		"plain error":            {errors.New("connection reset"), false},
		"unrelated code in text": {errors.New("NoSuchKey"), false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{Bucket: testBucket})
			f.getObject = func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error) { return nil, c.err }
			p := Pointer{Bucket: testBucket, Key: "missing"}
			body, err := s.Get(t.Context(), p)
			if err == nil {
				t.Fatalf("expect an error, got %q", body)
			}
			if errors.Is(err, ErrNotFound) != c.notFound {
				t.Errorf("expect errors.Is(err, ErrNotFound) %v, got %v", c.notFound, err)
			}
			if !errors.Is(err, c.err) {
				t.Errorf("expect the cause %v to be reachable, got %v", c.err, err)
			}
			perr := asPayloadError(t, err)
			if perr.Op != "GetObject" || perr.Bucket != p.Bucket || perr.Key != p.Key {
				t.Errorf("expect GetObject %v, got %s %s %s", p, perr.Op, perr.Bucket, perr.Key)
			}
		})
	}
}

func TestStoreGetNoSuchKeyReachable(t *testing.T) {
	s, _ := newTestStore(t, StoreOptions{Bucket: testBucket})
	_, err := s.Get(t.Context(), Pointer{Bucket: testBucket, Key: "missing"})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("expect %v, got %v", ErrNotFound, err)
	}
	var nsk *s3types.NoSuchKey
	if !errors.As(err, &nsk) {
		t.Errorf("expect a *s3types.NoSuchKey, got %v", err)
	}
}

func TestStoreGetSizeLimit(t *testing.T) {
	cases := map[string]struct {
		limit         int64
		contentLength *int64
		size          int
		tooLarge      bool
	}{
		"known, over the limit":     {limit: 10, contentLength: aws.Int64(11), size: 11, tooLarge: true},
		"known, far over the limit": {limit: 10, contentLength: aws.Int64(1 << 40), size: 11, tooLarge: true},
		"known, at the limit":       {limit: 10, contentLength: aws.Int64(10), size: 10},
		"known, under the limit":    {limit: 10, contentLength: aws.Int64(3), size: 3},
		"known, no limit":           {limit: 0, contentLength: aws.Int64(100000), size: 100000},
		"unknown, over the limit":   {limit: 10, size: 11, tooLarge: true},
		"unknown, far over":         {limit: 1000, size: 1 << 20, tooLarge: true},
		"unknown, at the limit":     {limit: 10, size: 10},
		"unknown, under the limit":  {limit: 10, size: 9},
		"unknown, empty":            {limit: 10, size: 0},
		"unknown, no limit":         {limit: 0, size: 100000},
		"known, empty":              {limit: 10, contentLength: aws.Int64(0), size: 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{Bucket: testBucket, MaxPayloadSize: c.limit})
			data := strings.Repeat("x", c.size)
			body := newFakeBody(data)
			f.getObject = func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				return &s3.GetObjectOutput{Body: body, ContentLength: c.contentLength}, nil
			}
			got, err := s.Get(t.Context(), Pointer{Bucket: testBucket, Key: "k"})
			reads, closed := body.state()
			if !closed {
				t.Errorf("expect the body closed, got open")
			}
			if !c.tooLarge {
				if err != nil || got != data {
					t.Fatalf("expect %d bytes, got %d, %v", len(data), len(got), err)
				}
				return
			}
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("expect %v, got %d bytes, %v", ErrTooLarge, len(got), err)
			}
			if got != "" {
				t.Errorf("expect no body, got %d bytes", len(got))
			}
			asPayloadError(t, err)
			if c.contentLength != nil && reads != 0 {
				t.Errorf("expect the body not read when ContentLength is over the limit, got %d reads", reads)
			}
		})
	}
}

// errReader returns data, then err.
type errReader struct {
	data string
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestStoreGetBadBody(t *testing.T) {
	errRead := errors.New("connection reset by peer")
	cases := map[string]struct {
		contentLength *int64
		body          io.Reader
		cause         error
	}{
		"short body":         {contentLength: aws.Int64(10), body: strings.NewReader("12345")},
		"long body":          {contentLength: aws.Int64(5), body: strings.NewReader("1234567890")},
		"empty, length 1":    {contentLength: aws.Int64(1), body: strings.NewReader("")},
		"read error":         {contentLength: aws.Int64(10), body: &errReader{data: "12345", err: errRead}, cause: errRead},
		"read error unknown": {body: &errReader{data: "12345", err: io.ErrUnexpectedEOF}, cause: io.ErrUnexpectedEOF},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{Bucket: testBucket, MaxPayloadSize: 100})
			f.getObject = func(context.Context, *s3.GetObjectInput) (*s3.GetObjectOutput, error) {
				return &s3.GetObjectOutput{Body: io.NopCloser(c.body), ContentLength: c.contentLength}, nil
			}
			got, err := s.Get(t.Context(), Pointer{Bucket: testBucket, Key: "k"})
			if err == nil {
				t.Fatalf("expect an error, got %q", got)
			}
			if c.cause != nil && !errors.Is(err, c.cause) {
				t.Errorf("expect %v, got %v", c.cause, err)
			}
			if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNotFound) {
				t.Errorf("expect neither %v nor %v, got %v", ErrTooLarge, ErrNotFound, err)
			}
			if perr := asPayloadError(t, err); perr.Op != "GetObject" {
				t.Errorf("expect GetObject, got %s", perr.Op)
			}
		})
	}
}

// deleteSummary is what one DeleteObjects call named.
type deleteSummary struct {
	Bucket string
	Count  int
	Quiet  bool
}

func TestStoreDeleteAll(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{AllowedBuckets: []string{"a-bucket", "b-bucket"}})
	var ps []Pointer
	for i := range 2500 {
		ps = append(ps, Pointer{Bucket: "a-bucket", Key: fmt.Sprintf("a/%04d", i)})
		if i < 3 {
			ps = append(ps, Pointer{Bucket: "b-bucket", Key: fmt.Sprintf("b/%d", i)})
		}
		if i == 1000 || i == 2000 {
			ps = append(ps, Pointer{Bucket: "c-bucket", Key: fmt.Sprintf("c/%d", i)})
		}
	}
	for _, p := range ps {
		f.setObject(p.Bucket, p.Key, "x")
	}

	err := s.DeleteAll(t.Context(), ps)

	var got []deleteSummary
	deleted := map[Pointer]int{}
	for _, c := range f.Calls() {
		in, ok := c.Input.(*s3.DeleteObjectsInput)
		if !ok {
			t.Fatalf("expect only DeleteObjects, got %s", c.Op)
		}
		got = append(got, deleteSummary{c.Bucket, len(c.Keys), aws.ToBool(in.Delete.Quiet)})
		for _, k := range c.Keys {
			deleted[Pointer{Bucket: c.Bucket, Key: k}]++
		}
	}
	want := []deleteSummary{{"a-bucket", 1000, true}, {"b-bucket", 3, true}, {"a-bucket", 1000, true}, {"a-bucket", 500, true}}
	slices.SortStableFunc(got, func(x, y deleteSummary) int { return strings.Compare(x.Bucket, y.Bucket) })
	slices.SortStableFunc(want, func(x, y deleteSummary) int { return strings.Compare(x.Bucket, y.Bucket) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DeleteObjects calls (-expect +got):\n%s", diff)
	}
	for _, p := range ps {
		_, left := f.object(p.Bucket, p.Key)
		if p.Bucket == "c-bucket" {
			if deleted[p] != 0 || !left {
				t.Errorf("expect %v untouched, got %d deletes", p, deleted[p])
			}
			continue
		}
		if deleted[p] != 1 || left {
			t.Errorf("expect %v deleted once, got %d deletes (still there: %v)", p, deleted[p], left)
		}
	}

	if !errors.Is(err, ErrBucketNotAllowed) {
		t.Fatalf("expect %v, got %v", ErrBucketNotAllowed, err)
	}
	var denied []Pointer
	for _, e := range joined(err) {
		perr := asPayloadError(t, e)
		if perr.Op != "DeleteObjects" || !errors.Is(perr, ErrBucketNotAllowed) {
			t.Errorf("expect DeleteObjects %v, got %v", ErrBucketNotAllowed, perr)
		}
		denied = append(denied, Pointer{Bucket: perr.Bucket, Key: perr.Key})
	}
	wantDenied := []Pointer{{"c-bucket", "c/1000"}, {"c-bucket", "c/2000"}}
	if diff := cmp.Diff(wantDenied, denied); diff != "" {
		t.Errorf("denied pointers (-expect +got):\n%s", diff)
	}
}

func TestStoreDeleteAllEmpty(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{Bucket: testBucket})
	for _, ps := range [][]Pointer{nil, {}} {
		if err := s.DeleteAll(t.Context(), ps); err != nil {
			t.Errorf("expect no error, got %v", err)
		}
	}
	if ops := f.Ops(); len(ops) != 0 {
		t.Errorf("expect no S3 call, got %v", ops)
	}
}

// deleteFailure is one failure that DeleteAll reported.
type deleteFailure struct {
	Op, Bucket, Key, Code string
	NotFound              bool
}

func deleteFailures(t *testing.T, err error) []deleteFailure {
	t.Helper()
	var out []deleteFailure
	for _, e := range joined(err) {
		perr := asPayloadError(t, e)
		code := ""
		var apiErr smithy.APIError
		if errors.As(perr, &apiErr) {
			code = apiErr.ErrorCode()
		}
		out = append(out, deleteFailure{perr.Op, perr.Bucket, perr.Key, code, errors.Is(perr, ErrNotFound)})
	}
	return out
}

func TestStoreDeleteAllPerKeyErrors(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{AllowedBuckets: []string{"a-bucket", "b-bucket"}})
	f.deleteObjects = func(_ context.Context, in *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) {
		if aws.ToString(in.Bucket) != "a-bucket" {
			return &s3.DeleteObjectsOutput{Deleted: []s3types.DeletedObject{{Key: aws.String("b1")}}}, nil
		}
		return &s3.DeleteObjectsOutput{
			Deleted: []s3types.DeletedObject{{Key: aws.String("a2")}},
			Errors: []s3types.Error{
				{Key: aws.String("a1"), Code: aws.String("AccessDenied"), Message: aws.String("Access Denied")},
				{Key: aws.String("a3"), Code: aws.String("NoSuchKey"), Message: aws.String("gone")},
			},
		}, nil
	}
	ps := []Pointer{{"a-bucket", "a1"}, {"b-bucket", "b1"}, {"a-bucket", "a2"}, {"a-bucket", "a3"}}
	err := s.DeleteAll(t.Context(), ps)
	if err == nil {
		t.Fatal("expect an error, got nil")
	}
	want := []deleteFailure{
		{"DeleteObjects", "a-bucket", "a1", "AccessDenied", false},
		// a3's NoSuchKey is not a failure: the object is gone.
	}
	if diff := cmp.Diff(want, deleteFailures(t, err)); diff != "" {
		t.Errorf("failures (-expect +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), "Access Denied") {
		t.Errorf("expect the message of S3 in the error, got %q", err)
	}
	if diff := cmp.Diff([]string{"DeleteObjects", "DeleteObjects"}, f.Ops()); diff != "" {
		t.Errorf("calls (-expect +got):\n%s", diff)
	}
}

func TestStoreDeleteAllCallFails(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{AllowedBuckets: []string{"a-bucket", "b-bucket"}})
	failure := &smithy.GenericAPIError{Code: "SlowDown", Message: "Please reduce your request rate."}
	f.deleteObjects = func(_ context.Context, in *s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) {
		if aws.ToString(in.Bucket) == "b-bucket" {
			return nil, failure
		}
		return &s3.DeleteObjectsOutput{}, nil
	}
	ps := []Pointer{{"a-bucket", "a1"}, {"b-bucket", "b1"}, {"b-bucket", "b2"}}
	err := s.DeleteAll(t.Context(), ps)
	want := []deleteFailure{
		{"DeleteObjects", "b-bucket", "b1", "SlowDown", false},
		{"DeleteObjects", "b-bucket", "b2", "SlowDown", false},
	}
	if diff := cmp.Diff(want, deleteFailures(t, err)); diff != "" {
		t.Errorf("failures (-expect +got):\n%s", diff)
	}
	if !errors.Is(err, failure) {
		t.Errorf("expect %v, got %v", failure, err)
	}
	if n := len(f.Calls()); n != 2 {
		t.Errorf("expect 2 calls, got %d", n)
	}
}

func TestStoreContextCanceled(t *testing.T) {
	ops := map[string]func(context.Context, *Store, Pointer) error{
		"Put":       func(ctx context.Context, s *Store, _ Pointer) error { _, err := s.Put(ctx, "x"); return err },
		"PutAt":     func(ctx context.Context, s *Store, p Pointer) error { return s.PutAt(ctx, p, "x") },
		"Get":       func(ctx context.Context, s *Store, p Pointer) error { _, err := s.Get(ctx, p); return err },
		"Delete":    func(ctx context.Context, s *Store, p Pointer) error { return s.Delete(ctx, p) },
		"DeleteAll": func(ctx context.Context, s *Store, p Pointer) error { return s.DeleteAll(ctx, []Pointer{p}) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			s, f := newTestStore(t, StoreOptions{Bucket: testBucket})
			p := Pointer{Bucket: testBucket, Key: "k"}
			f.setObject(p.Bucket, p.Key, "x")
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			err := op(ctx, s, p)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("expect %v, got %v", context.Canceled, err)
			}
			asPayloadError(t, err)
			if _, ok := f.object(p.Bucket, p.Key); !ok {
				t.Errorf("expect %v untouched, got it deleted", p)
			}
		})
	}
	t.Run("KeyFunc", func(t *testing.T) {
		s, f := newTestStore(t, StoreOptions{
			Bucket:  testBucket,
			KeyFunc: func(ctx context.Context) (string, error) { return "k", ctx.Err() },
		})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Put(ctx, "x"); !errors.Is(err, context.Canceled) {
			t.Errorf("expect %v, got %v", context.Canceled, err)
		}
		if ops := f.Ops(); len(ops) != 0 {
			t.Errorf("expect no S3 call, got %v", ops)
		}
	})
}

func TestStoreConcurrentUse(t *testing.T) {
	s, f := newTestStore(t, StoreOptions{Bucket: testBucket, MaxPayloadSize: 1 << 20})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Repeat(fmt.Sprint(i), 1000+i)
			p, err := s.Put(t.Context(), body)
			if err != nil {
				errs <- err
				return
			}
			got, err := s.Get(t.Context(), p)
			if err != nil || got != body {
				errs <- fmt.Errorf("expect %d bytes, got %d, %v", len(body), len(got), err)
				return
			}
			errs <- s.DeleteAll(t.Context(), []Pointer{p})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(f.Calls()); n != 48 {
		t.Errorf("expect 48 calls, got %d", n)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.objects) != 0 {
		t.Errorf("expect no objects left, got %d", len(f.objects))
	}
}
