package sqsx

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// The fakes satisfy the interfaces the client takes.
var (
	_ SQSAPI        = (*sqsxtest.SQS)(nil)
	_ S3API         = (*sqsxtest.S3)(nil)
	_ payload.S3API = (*sqsxtest.S3)(nil)
)

const (
	testQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/test-queue"
	testFIFOURL  = "https://sqs.us-east-1.amazonaws.com/123456789012/test-queue.fifo"
	testBucket   = "test-bucket"
)

// testEnv is a Client wired to fakes that share one log.
type testEnv struct {
	sqs    *sqsxtest.SQS
	s3     *sqsxtest.S3
	log    *sqsxtest.Log
	client *Client
}

// newTestEnv returns a Client with Bucket testBucket and then optFns applied.
func newTestEnv(t *testing.T, optFns ...func(*Options)) *testEnv {
	t.Helper()
	sqsFake, s3Fake := sqsxtest.New()
	fns := append([]func(*Options){func(o *Options) { o.Bucket = testBucket }}, optFns...)
	c, err := New(sqsFake, s3Fake, fns...)
	if err != nil {
		t.Fatalf("expect no error from New, got %v", err)
	}
	return &testEnv{sqs: sqsFake, s3: s3Fake, log: sqsFake.Log, client: c}
}

// expectCalls compares the recorded call sequence with want.
func (e *testEnv) expectCalls(t *testing.T, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	got := e.log.Calls()
	if got == nil {
		got = []string{}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("call sequence mismatch (-want +got):\n%s", diff)
	}
}

// expectObjects checks the number of objects in the S3 fake.
func (e *testEnv) expectObjects(t *testing.T, want int) {
	t.Helper()
	if got := e.s3.Len(); got != want {
		t.Errorf("expect %v objects in S3, got %v (%v)", want, got, e.s3.Keys())
	}
}

// awsCmp lets cmp compare SDK structs, which have an unexported marker field.
var awsCmp = cmp.Exporter(func(reflect.Type) bool { return true })

// deepCopy returns an independent copy of v (SDK inputs survive a JSON round
// trip), to check later that v was not modified.
func deepCopy[T any](t *testing.T, v T) T {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var c T
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func expectUnchanged[T any](t *testing.T, before, after T) {
	t.Helper()
	if diff := cmp.Diff(before, after, awsCmp); diff != "" {
		t.Errorf("caller's params were modified (-before +after):\n%s", diff)
	}
}

func stringAttr(v string) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func numberAttr(n int) types.MessageAttributeValue {
	return types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(itoa(n))}
}

func itoa(n int) string { return strconv.Itoa(n) }

// nAttrs returns n small String attributes a0, a1, ...
func nAttrs(n int) map[string]types.MessageAttributeValue {
	m := make(map[string]types.MessageAttributeValue, n)
	for i := range n {
		m["a"+itoa(i)] = stringAttr("v")
	}
	return m
}

// javaPointer is a pointer body as the Java client writes it.
func javaPointer(bucket, key string) string {
	return `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"` + bucket + `","s3Key":"` + key + `"}]`
}

// gate measures how many calls run at once. Each call waits (up to 2s) until
// want calls have been seen at once, then lingers briefly so that any call
// beyond the bound would overlap and be counted.
type gate struct {
	want int

	mu        sync.Mutex
	cur, peak int
}

func (g *gate) pass() {
	g.mu.Lock()
	g.cur++
	g.peak = max(g.peak, g.cur)
	g.mu.Unlock()
	deadline := time.Now().Add(2 * time.Second)
	for {
		g.mu.Lock()
		reached := g.peak >= g.want
		g.mu.Unlock()
		if reached || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(10 * time.Millisecond)
	g.mu.Lock()
	g.cur--
	g.mu.Unlock()
}

func (g *gate) maxSeen() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

func TestNewInvalidOptions(t *testing.T) {
	cases := map[string]struct {
		opt   func(*Options)
		field string
	}{
		"Threshold above SQS maximum": {func(o *Options) { o.Threshold = MaxMessageSize + 1 }, "Threshold"},
		"Threshold negative":          {func(o *Options) { o.Threshold = -1 }, "Threshold"},
		"AttributeName unknown":       {func(o *Options) { o.AttributeName = "PayloadSize" }, "AttributeName"},
		"Concurrency negative":        {func(o *Options) { o.Concurrency = -1 }, "Concurrency"},
		"Unresolved unknown":          {func(o *Options) { o.Unresolved = UnresolvedPolicy(7) }, "Unresolved"},
		"BatchSizeLimit negative":     {func(o *Options) { o.BatchSizeLimit = -1 }, "BatchSizeLimit"},
		"BatchSizeLimit too large":    {func(o *Options) { o.BatchSizeLimit = MaxMessageSize + 1 }, "BatchSizeLimit"},
		"KeyPrefix with ..":           {func(o *Options) { o.KeyPrefix = "a/../b" }, "KeyPrefix"},
		"KeyPrefix leading slash":     {func(o *Options) { o.KeyPrefix = "/a" }, "KeyPrefix"},
		"KeyPrefix bad character":     {func(o *Options) { o.KeyPrefix = "a b" }, "KeyPrefix"},
		"Bucket uppercase":            {func(o *Options) { o.Bucket = "Bad_Bucket" }, "Bucket"},
		"Bucket IP address":           {func(o *Options) { o.Bucket = "192.168.1.1" }, "Bucket"},
		"AllowedBuckets invalid":      {func(o *Options) { o.AllowedBuckets = []string{"ok-bucket", "x"} }, "AllowedBuckets"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sqsFake, s3Fake := sqsxtest.New()
			c, err := New(sqsFake, s3Fake, func(o *Options) { o.Bucket = testBucket }, tc.opt)
			if err == nil {
				t.Fatalf("expect an error, got nil")
			}
			if c != nil {
				t.Errorf("expect nil client, got %v", c)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("expect error naming %v, got %v", tc.field, err)
			}
		})
	}
}

func TestNewNamesEveryInvalidOption(t *testing.T) {
	sqsFake, s3Fake := sqsxtest.New()
	_, err := New(sqsFake, s3Fake, func(o *Options) {
		o.Threshold = -5
		o.AttributeName = "Size"
		o.Concurrency = -2
		o.Unresolved = UnresolvedPolicy(-1)
		o.BatchSizeLimit = -3
		o.KeyPrefix = "../x"
		o.Bucket = "NO"
	})
	if err == nil {
		t.Fatal("expect an error, got nil")
	}
	for _, field := range []string{"Threshold", "AttributeName", "Concurrency", "Unresolved", "BatchSizeLimit", "KeyPrefix", "Bucket"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("expect error naming %v, got %v", field, err)
		}
	}
}

func TestNewNilClients(t *testing.T) {
	sqsFake, s3Fake := sqsxtest.New()
	cases := map[string]struct {
		sqs  SQSAPI
		s3   S3API
		want string
	}{
		"nil SQS client": {nil, s3Fake, "SQS client is nil"},
		"nil S3 client":  {sqsFake, nil, "S3 client is nil"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := New(tc.sqs, tc.s3, func(o *Options) { o.Bucket = testBucket })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("expect error containing %q, got %v", tc.want, err)
			}
			if c != nil {
				t.Errorf("expect nil client, got %v", c)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	if DefaultThreshold != 262144 {
		t.Errorf("expect DefaultThreshold 262144, got %v", DefaultThreshold)
	}
	if DefaultConcurrency != 10 {
		t.Errorf("expect DefaultConcurrency 10, got %v", DefaultConcurrency)
	}
	if DefaultBatchSizeLimit != 1048576 {
		t.Errorf("expect DefaultBatchSizeLimit 1048576, got %v", DefaultBatchSizeLimit)
	}
	e := newTestEnv(t)
	o := e.client.opts
	if o.Threshold != 262144 {
		t.Errorf("expect Threshold 262144, got %v", o.Threshold)
	}
	if o.AttributeName != "ExtendedPayloadSize" {
		t.Errorf("expect AttributeName ExtendedPayloadSize, got %v", o.AttributeName)
	}
	if o.Concurrency != 10 {
		t.Errorf("expect Concurrency 10, got %v", o.Concurrency)
	}
	if o.BatchSizeLimit != 1048576 {
		t.Errorf("expect BatchSizeLimit 1048576, got %v", o.BatchSizeLimit)
	}
	if o.Unresolved != UnresolvedIsolate {
		t.Errorf("expect Unresolved %v, got %v", UnresolvedIsolate, o.Unresolved)
	}
	if o.Logger == nil {
		t.Errorf("expect a default Logger, got nil")
	}
	if got := e.client.Store().Bucket(); got != testBucket {
		t.Errorf("expect store bucket %v, got %v", testBucket, got)
	}
	// The default allowlist is just Bucket.
	if !e.client.Store().Allowed(testBucket) || e.client.Store().Allowed("other-bucket") {
		t.Errorf("expect only %v allowed", testBucket)
	}
}

func TestNewWithoutBucketIsValid(t *testing.T) {
	sqsFake, s3Fake := sqsxtest.New()
	if _, err := New(sqsFake, s3Fake); err != nil {
		t.Fatalf("expect no error (Bucket is only needed to offload), got %v", err)
	}
}

func TestNewCopiesAllowedBuckets(t *testing.T) {
	allowed := []string{"bucket-a", "bucket-b"}
	e := newTestEnv(t, func(o *Options) { o.AllowedBuckets = allowed })
	allowed[0] = "bucket-x"
	if !e.client.Store().Allowed("bucket-a") || e.client.Store().Allowed("bucket-x") {
		t.Errorf("expect the allowlist fixed at New, got it changed with the caller's slice")
	}
}

func TestPayloadNotFoundPolicyString(t *testing.T) {
	cases := map[UnresolvedPolicy]string{
		UnresolvedFail:       "fail",
		UnresolvedDelete:     "delete",
		UnresolvedReturn:     "return",
		UnresolvedPolicy(42): "UnresolvedPolicy(42)",
	}
	for p, want := range cases {
		if got := p.String(); got != want {
			t.Errorf("expect %v, got %v", want, got)
		}
	}
}

func TestErrorsUnwrap(t *testing.T) {
	ie := &InputError{Op: "SendMessage", Field: "MessageBody", Err: ErrEmptyBody}
	if !errors.Is(ie, ErrEmptyBody) {
		t.Errorf("expect InputError to unwrap to ErrEmptyBody")
	}
	if got, want := ie.Error(), "sqsx: SendMessage: MessageBody: empty message body"; got != want {
		t.Errorf("expect %q, got %q", want, got)
	}
	ue := &UnresolvedError{Messages: []UnresolvedMessage{
		{MessageID: "m1", Err: &PayloadError{Op: "GetObject", Bucket: "b", Key: "k", Err: ErrPayloadNotFound}},
		{MessageID: "m2", Err: ErrInvalidPointer},
	}}
	if !errors.Is(ue, ErrPayloadNotFound) || !errors.Is(ue, ErrInvalidPointer) || errors.Is(ue, ErrBucketNotAllowed) {
		t.Errorf("expect UnresolvedError to unwrap to each message's error, got %v", ue)
	}
	if !strings.Contains(ue.Error(), "m1") || !strings.Contains(ue.Error(), "m2") {
		t.Errorf("expect the message ids in %q", ue.Error())
	}
	uo := &UnsupportedOperationError{Op: "CreateQueue"}
	if !strings.Contains(uo.Error(), "CreateQueue") {
		t.Errorf("expect the operation in %q", uo.Error())
	}
}
