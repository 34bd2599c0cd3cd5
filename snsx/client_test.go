package snsx_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

const (
	testBucket = "test-bucket"
	testTopic  = "arn:aws:sns:us-east-1:123456789012:test-topic"
	testFIFO   = "arn:aws:sns:us-east-1:123456789012:test-topic.fifo"
)

// testEnv is a Client wired to SNS and S3 fakes that share one log.
type testEnv struct {
	log    *sqsxtest.Log
	sns    *sqsxtest.SNS
	s3     *sqsxtest.S3
	client *snsx.Client
}

// newTestEnv returns a Client with Bucket testBucket and then optFns applied.
func newTestEnv(t *testing.T, optFns ...func(*snsx.Options)) *testEnv {
	t.Helper()
	log := &sqsxtest.Log{}
	e := &testEnv{log: log, sns: sqsxtest.NewSNS(log), s3: sqsxtest.NewS3(log)}
	fns := append([]func(*snsx.Options){func(o *snsx.Options) { o.Bucket = testBucket }}, optFns...)
	c, err := snsx.New(e.sns, e.s3, fns...)
	if err != nil {
		t.Fatalf("expect no error from New, got %v", err)
	}
	e.client = c
	return e
}

// expectCalls compares the recorded call sequence with want.
func (e *testEnv) expectCalls(t *testing.T, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if diff := cmp.Diff(want, e.log.Calls()); diff != "" {
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

// snsOptFns returns how many per-call option functions each SNS call got.
func (e *testEnv) snsOptFns() []int {
	var n []int
	for _, r := range e.log.Records() {
		if r.Service == "SNS" {
			n = append(n, r.OptFns)
		}
	}
	return n
}

// s3Records returns the recorded S3 calls.
func (e *testEnv) s3Records() []sqsxtest.Call {
	var rec []sqsxtest.Call
	for _, r := range e.log.Records() {
		if r.Service == "S3" {
			rec = append(rec, r)
		}
	}
	return rec
}

// uploads returns the inputs of the PutObject calls.
func (e *testEnv) uploads() []*s3.PutObjectInput {
	return sqsxtest.Params[*s3.PutObjectInput](e.s3.Log)
}

// awsCmp lets cmp compare SDK structs, which have an unexported marker field.
var awsCmp = cmp.Exporter(func(reflect.Type) bool { return true })

func strAttr(v string) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
}

func numAttr(n int) snstypes.MessageAttributeValue {
	return snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(n))}
}

// manyAttrs returns n small String attributes a0, a1, ...
func manyAttrs(n int) map[string]snstypes.MessageAttributeValue {
	m := make(map[string]snstypes.MessageAttributeValue, n)
	for i := range n {
		m["a"+strconv.Itoa(i)] = strAttr("v")
	}
	return m
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
		opt   func(*snsx.Options)
		field string
	}{
		"Threshold above SNS maximum": {func(o *snsx.Options) { o.Threshold = 262145 }, "Threshold"},
		"Threshold negative":          {func(o *snsx.Options) { o.Threshold = -1 }, "Threshold"},
		"AttributeName unknown":       {func(o *snsx.Options) { o.AttributeName = "PayloadSize" }, "AttributeName"},
		"BatchSizeLimit negative":     {func(o *snsx.Options) { o.BatchSizeLimit = -1 }, "BatchSizeLimit"},
		"BatchSizeLimit too large":    {func(o *snsx.Options) { o.BatchSizeLimit = 262145 }, "BatchSizeLimit"},
		"Concurrency negative":        {func(o *snsx.Options) { o.Concurrency = -1 }, "Concurrency"},
		"Bucket uppercase":            {func(o *snsx.Options) { o.Bucket = "Bad_Bucket" }, "Bucket"},
		"Bucket IP address":           {func(o *snsx.Options) { o.Bucket = "192.168.1.1" }, "Bucket"},
		"KeyPrefix with ..":           {func(o *snsx.Options) { o.KeyPrefix = "a/../b" }, "KeyPrefix"},
		"KeyPrefix leading slash":     {func(o *snsx.Options) { o.KeyPrefix = "/a" }, "KeyPrefix"},
		"KeyPrefix bad character":     {func(o *snsx.Options) { o.KeyPrefix = "a b" }, "KeyPrefix"},
		"ACL unknown":                 {func(o *snsx.Options) { o.ACL = "world-writable" }, "ACL"},
		"ServerSideEncryption unknown": {
			func(o *snsx.Options) { o.ServerSideEncryption = "rot13" }, "ServerSideEncryption",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := snsx.New(sqsxtest.NewSNS(nil), sqsxtest.NewS3(nil), func(o *snsx.Options) { o.Bucket = testBucket }, tc.opt)
			if err == nil {
				t.Fatalf("expect an error, got nil")
			}
			if c != nil {
				t.Errorf("expect nil client, got %v", c)
			}
			if !strings.Contains(err.Error(), tc.field+":") {
				t.Errorf("expect error naming %v, got %v", tc.field, err)
			}
		})
	}
}

func TestNewValidLimits(t *testing.T) {
	cases := map[string]func(*snsx.Options){
		"Threshold at SNS maximum":      func(o *snsx.Options) { o.Threshold = 262144 },
		"Threshold 1":                   func(o *snsx.Options) { o.Threshold = 1 },
		"BatchSizeLimit at SNS maximum": func(o *snsx.Options) { o.BatchSizeLimit = 262144 },
		"legacy AttributeName":          func(o *snsx.Options) { o.AttributeName = payload.LegacyAttributeName },
		"current AttributeName":         func(o *snsx.Options) { o.AttributeName = payload.AttributeName },
		"Concurrency 1":                 func(o *snsx.Options) { o.Concurrency = 1 },
		"no Bucket":                     func(o *snsx.Options) { o.Bucket = "" },
		"KeyPrefix":                     func(o *snsx.Options) { o.KeyPrefix = "payloads/sns-" },
	}
	for name, opt := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := snsx.New(sqsxtest.NewSNS(nil), sqsxtest.NewS3(nil), func(o *snsx.Options) { o.Bucket = testBucket }, opt); err != nil {
				t.Errorf("expect no error, got %v", err)
			}
		})
	}
}

func TestNewNamesEveryInvalidOption(t *testing.T) {
	_, err := snsx.New(sqsxtest.NewSNS(nil), sqsxtest.NewS3(nil), func(o *snsx.Options) {
		o.Threshold = -5
		o.AttributeName = "Size"
		o.BatchSizeLimit = -3
		o.Concurrency = -2
		o.KeyPrefix = "../x"
		o.Bucket = "NO"
	})
	if err == nil {
		t.Fatal("expect an error, got nil")
	}
	if !strings.HasPrefix(err.Error(), "snsx: invalid Options") {
		t.Errorf("expect the error to start with %q, got %v", "snsx: invalid Options", err)
	}
	for _, field := range []string{"Threshold", "AttributeName", "BatchSizeLimit", "Concurrency", "KeyPrefix", "Bucket"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("expect error naming %v, got %v", field, err)
		}
	}
}

func TestNewNilClients(t *testing.T) {
	cases := map[string]struct {
		sns  snsx.SNSAPI
		s3   payload.S3API
		want string
	}{
		"nil SNS client": {nil, sqsxtest.NewS3(nil), "SNS client is nil"},
		"nil S3 client":  {sqsxtest.NewSNS(nil), nil, "S3 client is nil"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := snsx.New(tc.sns, tc.s3, func(o *snsx.Options) { o.Bucket = testBucket })
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("expect error containing %q, got %v", tc.want, err)
			}
			if c != nil {
				t.Errorf("expect nil client, got %v", c)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	consts := map[string]struct{ got, want int }{
		"DefaultThreshold":      {snsx.DefaultThreshold, 262144},
		"MaxMessageSize":        {snsx.MaxMessageSize, 262144},
		"DefaultBatchSizeLimit": {snsx.DefaultBatchSizeLimit, 262144},
		"DefaultConcurrency":    {snsx.DefaultConcurrency, 10},
		"MaxAttributes":         {snsx.MaxAttributes, 10},
	}
	for name, c := range consts {
		if c.got != c.want {
			t.Errorf("%v: expect %v, got %v", name, c.want, c.got)
		}
	}
	if got := snsx.FanoutMetadataKey; got != "sqsx-fanout" {
		t.Errorf("expect FanoutMetadataKey %q, got %q", "sqsx-fanout", got)
	}
	if got := payload.FanoutMetadataKey; got != snsx.FanoutMetadataKey {
		t.Errorf("expect payload.FanoutMetadataKey %q, got %q", snsx.FanoutMetadataKey, got)
	}
	e := newTestEnv(t)
	if got := e.client.Store().Bucket(); got != testBucket {
		t.Errorf("expect store bucket %v, got %v", testBucket, got)
	}
	// The default threshold, attribute name and batch limit are exercised
	// by TestPublishThreshold, TestPublishWireFormat and
	// TestPublishBatchFitsBatchLimit against a client made with no options.
}

// TestNewFanoutMarker checks that uploads carry the fan-out marker unless
// DeletableByConsumers is set, and that the caller's own metadata is kept.
func TestNewFanoutMarker(t *testing.T) {
	addTeam := func(in *s3.PutObjectInput) {
		// Adds to whatever metadata is there, as an option should.
		if in.Metadata == nil {
			in.Metadata = map[string]string{}
		}
		in.Metadata["team"] = "blue"
	}
	cases := map[string]struct {
		opt  func(*snsx.Options)
		want map[string]string
	}{
		"default":              {func(*snsx.Options) {}, map[string]string{"sqsx-fanout": "true"}},
		"DeletableByConsumers": {func(o *snsx.Options) { o.DeletableByConsumers = true }, nil},
		"caller's metadata kept": {
			func(o *snsx.Options) { o.PutObjectOptions = []func(*s3.PutObjectInput){addTeam} },
			map[string]string{"sqsx-fanout": "true", "team": "blue"},
		},
		"caller's metadata without marker": {
			func(o *snsx.Options) {
				o.DeletableByConsumers = true
				o.PutObjectOptions = []func(*s3.PutObjectInput){addTeam}
			},
			map[string]string{"team": "blue"},
		},
		"other store settings kept": {
			func(o *snsx.Options) {
				o.ServerSideEncryption = s3types.ServerSideEncryptionAes256
				o.PutObjectOptions = []func(*s3.PutObjectInput){func(in *s3.PutObjectInput) { in.StorageClass = s3types.StorageClassStandardIa }}
			},
			map[string]string{"sqsx-fanout": "true"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tc.opt)
			if _, err := e.client.Publish(context.Background(), &sns.PublishInput{
				TopicArn: aws.String(testTopic), Message: aws.String(strings.Repeat("m", 262145)),
			}); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			puts := e.uploads()
			if len(puts) != 1 {
				t.Fatalf("expect 1 upload, got %v", len(puts))
			}
			if diff := cmp.Diff(tc.want, puts[0].Metadata); diff != "" {
				t.Errorf("metadata mismatch (-want +got):\n%s", diff)
			}
			if got := e.s3.Metadata(testBucket, aws.ToString(puts[0].Key)); !cmp.Equal(got, tc.want) {
				t.Errorf("expect stored metadata %v, got %v", tc.want, got)
			}
			if name == "other store settings kept" {
				if puts[0].ServerSideEncryption != s3types.ServerSideEncryptionAes256 || puts[0].StorageClass != s3types.StorageClassStandardIa {
					t.Errorf("expect SSE and storage class kept, got %v %v", puts[0].ServerSideEncryption, puts[0].StorageClass)
				}
			}
		})
	}
}

// TestNewDoesNotModifyOptionsSlice checks that adding the marker does not
// write into the caller's PutObjectOptions slice.
func TestNewDoesNotModifyOptionsSlice(t *testing.T) {
	mine := make([]func(*s3.PutObjectInput), 1, 4)
	mine[0] = func(*s3.PutObjectInput) {}
	backing := mine[:cap(mine)]
	newTestEnv(t, func(o *snsx.Options) { o.PutObjectOptions = mine })
	if len(mine) != 1 || backing[1] != nil {
		t.Errorf("expect the caller's slice untouched, got len %v and a function written past it", len(mine))
	}
}

// wrappedOps are the operations Client implements itself.
var wrappedOps = []string{"Publish", "PublishBatch"}

var (
	ctxType    = reflect.TypeFor[context.Context]()
	optFnsType = reflect.TypeFor[[]func(*sns.Options)]()
)

// passThroughOps returns the SDK operations Client forwards.
func passThroughOps() []string {
	var ops []string
	sdk := reflect.TypeFor[*sns.Client]()
	for i := range sdk.NumMethod() {
		m := sdk.Method(i)
		t := m.Type
		isOp := t.NumIn() == 4 && t.In(1) == ctxType && t.In(2).Kind() == reflect.Pointer &&
			t.In(3) == optFnsType && t.IsVariadic() && t.NumOut() == 2
		if isOp && !slices.Contains(wrappedOps, m.Name) {
			ops = append(ops, m.Name)
		}
	}
	return ops
}

// TestDropInMethodSet checks that *snsx.Client has every method of
// *sns.Client with the same signature.
func TestDropInMethodSet(t *testing.T) {
	sdk := reflect.TypeFor[*sns.Client]()
	ours := reflect.TypeFor[*snsx.Client]()
	if sdk.NumMethod() < 30 {
		t.Fatalf("expect the SDK client to have many methods, got %v", sdk.NumMethod())
	}
	for i := range sdk.NumMethod() {
		want := sdk.Method(i)
		t.Run(want.Name, func(t *testing.T) {
			got, ok := ours.MethodByName(want.Name)
			if !ok {
				t.Fatalf("expect *snsx.Client to have method %v, got none", want.Name)
			}
			// Compare without the receiver.
			if got.Type.NumIn() != want.Type.NumIn() || got.Type.NumOut() != want.Type.NumOut() ||
				got.Type.IsVariadic() != want.Type.IsVariadic() {
				t.Fatalf("expect signature %v, got %v", want.Type, got.Type)
			}
			for j := 1; j < want.Type.NumIn(); j++ {
				if got.Type.In(j) != want.Type.In(j) {
					t.Errorf("parameter %v: expect %v, got %v", j, want.Type.In(j), got.Type.In(j))
				}
			}
			for j := range want.Type.NumOut() {
				if got.Type.Out(j) != want.Type.Out(j) {
					t.Errorf("result %v: expect %v, got %v", j, want.Type.Out(j), got.Type.Out(j))
				}
			}
		})
	}
}

// TestPassThroughUnsupported calls every pass-through operation on a Client
// whose SNS client has only Publish and PublishBatch.
func TestPassThroughUnsupported(t *testing.T) {
	e := newTestEnv(t)
	ops := passThroughOps()
	if !slices.Contains(ops, "CreateTopic") || !slices.Contains(ops, "Subscribe") || slices.Contains(ops, "Publish") {
		t.Fatalf("expect pass-through operations to be found, got %v", ops)
	}
	cv := reflect.ValueOf(e.client)
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			m := cv.MethodByName(op)
			params := reflect.New(m.Type().In(1).Elem())
			res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), params})
			err, _ := res[1].Interface().(error)
			var uoe *sqsx.UnsupportedOperationError
			if !errors.As(err, &uoe) {
				t.Fatalf("expect *sqsx.UnsupportedOperationError, got %T %v", err, err)
			}
			if uoe.Op != op {
				t.Errorf("expect Op %v, got %v", op, uoe.Op)
			}
			if !res[0].IsNil() {
				t.Errorf("expect nil output, got %v", res[0])
			}
		})
	}
	e.expectCalls(t)
	if got := e.client.Options(); got.Region != "" {
		t.Errorf("expect zero Options for a client without them, got region %q", got.Region)
	}
}

var errCaptured = errors.New("captured before sending")

type noHTTP struct{}

func (noHTTP) Do(*http.Request) (*http.Response, error) {
	return nil, errors.New("the test must not reach the network")
}

// TestPassThroughForwardsToSDKClient calls every pass-through operation on a
// Client that wraps a real *sns.Client, with an optFn that adds a middleware
// which captures the input and stops the request.
func TestPassThroughForwardsToSDKClient(t *testing.T) {
	sdk := sns.New(sns.Options{Region: "us-east-1", HTTPClient: noHTTP{}})
	c, err := snsx.New(sdk, sqsxtest.NewS3(nil))
	if err != nil {
		t.Fatal(err)
	}
	cv := reflect.ValueOf(c)
	for _, op := range passThroughOps() {
		t.Run(op, func(t *testing.T) {
			m := cv.MethodByName(op)
			params := reflect.New(m.Type().In(1).Elem())
			var captured any
			capture := func(o *sns.Options) {
				o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
					return s.Initialize.Add(middleware.InitializeMiddlewareFunc("capture",
						func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
							captured = in.Parameters
							return middleware.InitializeOutput{}, middleware.Metadata{}, errCaptured
						}), middleware.Before)
				})
			}
			res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), params, reflect.ValueOf(capture)})
			err, _ := res[1].Interface().(error)
			if !errors.Is(err, errCaptured) {
				t.Fatalf("expect the call to reach the SDK client with the optFn, got %v", err)
			}
			if captured != params.Interface() {
				t.Errorf("expect the very params passed through, got %#v", captured)
			}
		})
	}
	if got := c.Options().Region; got != "us-east-1" {
		t.Errorf("expect Options of the wrapped client, got region %q", got)
	}
}

// topicMaker is an SNS client with CreateTopic too.
type topicMaker struct {
	*sqsxtest.SNS
	got *sns.CreateTopicInput
	fns int
}

func (m *topicMaker) CreateTopic(ctx context.Context, params *sns.CreateTopicInput, optFns ...func(*sns.Options)) (*sns.CreateTopicOutput, error) {
	m.got, m.fns = params, len(optFns)
	return &sns.CreateTopicOutput{TopicArn: aws.String("arn:aws:sns:us-east-1:123456789012:" + aws.ToString(params.Name))}, nil
}

func TestPassThroughForwardsToFake(t *testing.T) {
	tm := &topicMaker{SNS: sqsxtest.NewSNS(nil)}
	c, err := snsx.New(tm, sqsxtest.NewS3(nil))
	if err != nil {
		t.Fatal(err)
	}
	in := &sns.CreateTopicInput{Name: aws.String("t")}
	out, err := c.CreateTopic(context.Background(), in, func(*sns.Options) {}, func(*sns.Options) {})
	if err != nil || aws.ToString(out.TopicArn) != "arn:aws:sns:us-east-1:123456789012:t" {
		t.Fatalf("expect the wrapped client's output, got %v, %v", out, err)
	}
	if tm.got != in || tm.fns != 3 { // both, and the user-agent key
		t.Errorf("expect params and both optFns forwarded, got %v, %v optFns", tm.got, tm.fns)
	}
	var uoe *snsx.UnsupportedOperationError
	if _, err := c.Subscribe(context.Background(), &sns.SubscribeInput{}); !errors.As(err, &uoe) || uoe.Op != "Subscribe" {
		t.Errorf("expect *UnsupportedOperationError for Subscribe, got %v", err)
	}
}
