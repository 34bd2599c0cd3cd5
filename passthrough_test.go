package sqsx

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/sqsxtest"
)

// wrappedOps are the operations Client implements itself; every other
// operation of *sqs.Client is passed through.
var wrappedOps = []string{
	"SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage",
	"DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch",
}

var (
	ctxType    = reflect.TypeFor[context.Context]()
	optFnsType = reflect.TypeFor[[]func(*sqs.Options)]()
)

// isOperation reports whether m has the shape of an SDK operation:
// (ctx, *XxxInput, ...func(*sqs.Options)) (*XxxOutput, error).
func isOperation(m reflect.Method) bool {
	t := m.Type // receiver first
	return t.NumIn() == 4 && t.In(1) == ctxType && t.In(2).Kind() == reflect.Pointer &&
		t.In(3) == optFnsType && t.IsVariadic() && t.NumOut() == 2
}

// passThroughOps returns the names of the operations Client forwards.
func passThroughOps() []string {
	var ops []string
	sdk := reflect.TypeFor[*sqs.Client]()
	for i := range sdk.NumMethod() {
		m := sdk.Method(i)
		if isOperation(m) && !slices.Contains(wrappedOps, m.Name) {
			ops = append(ops, m.Name)
		}
	}
	return ops
}

// TestDropInMethodSet checks the drop-in guarantee: *Client has every method
// of *sqs.Client with the same signature.
func TestDropInMethodSet(t *testing.T) {
	sdk := reflect.TypeFor[*sqs.Client]()
	ours := reflect.TypeFor[*Client]()
	if sdk.NumMethod() < 20 {
		t.Fatalf("expect the SDK client to have many methods, got %v", sdk.NumMethod())
	}
	for i := range sdk.NumMethod() {
		want := sdk.Method(i)
		t.Run(want.Name, func(t *testing.T) {
			got, ok := ours.MethodByName(want.Name)
			if !ok {
				t.Fatalf("expect *Client to have method %v, got none", want.Name)
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

var errCaptured = errors.New("captured before sending")

type noHTTP struct{}

func (noHTTP) Do(*http.Request) (*http.Response, error) {
	return nil, errors.New("the test must not reach the network")
}

// TestPassThroughForwardsToSDKClient calls every pass-through operation on a
// Client that wraps a real *sqs.Client, with an optFn that adds a middleware
// which captures the input and stops the request. The operation must reach
// the SDK client with the very params and the optFns given.
func TestPassThroughForwardsToSDKClient(t *testing.T) {
	sdk := sqs.New(sqs.Options{Region: "us-east-1", HTTPClient: noHTTP{}})
	c, err := New(sdk, sqsxtest.NewS3(nil))
	if err != nil {
		t.Fatal(err)
	}
	ops := passThroughOps()
	if !slices.Contains(ops, "CreateQueue") || !slices.Contains(ops, "GetQueueAttributes") || slices.Contains(ops, "SendMessage") {
		t.Fatalf("expect pass-through operations to be found, got %v", ops)
	}
	cv := reflect.ValueOf(c)
	for _, op := range ops {
		t.Run(op, func(t *testing.T) {
			m := cv.MethodByName(op)
			params := reflect.New(m.Type().In(1).Elem())
			var captured any
			capture := func(o *sqs.Options) {
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

// queueMaker is an SQS client with CreateQueue and PurgeQueue, on top of
// the plain fake.
type queueMaker struct {
	*sqsxtest.SQS
	calls []any
	fns   int
}

func (q *queueMaker) CreateQueue(ctx context.Context, params *sqs.CreateQueueInput, optFns ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error) {
	q.calls = append(q.calls, params)
	q.fns = len(optFns)
	return &sqs.CreateQueueOutput{QueueUrl: aws.String("https://example.com/" + aws.ToString(params.QueueName))}, nil
}

func (q *queueMaker) PurgeQueue(ctx context.Context, params *sqs.PurgeQueueInput, optFns ...func(*sqs.Options)) (*sqs.PurgeQueueOutput, error) {
	q.calls = append(q.calls, params)
	q.fns = len(optFns)
	return nil, errors.New("purge refused")
}

func TestPassThroughForwardsToFake(t *testing.T) {
	qm := &queueMaker{SQS: sqsxtest.NewSQS(nil)}
	c, err := New(qm, sqsxtest.NewS3(nil))
	if err != nil {
		t.Fatal(err)
	}
	in := &sqs.CreateQueueInput{QueueName: aws.String("q")}
	out, err := c.CreateQueue(context.Background(), in, func(*sqs.Options) {}, func(*sqs.Options) {})
	if err != nil || aws.ToString(out.QueueUrl) != "https://example.com/q" {
		t.Fatalf("expect the wrapped client's output, got %v, %v", out, err)
	}
	if len(qm.calls) != 1 || qm.calls[0] != in || qm.fns != 3 { // both, and the user-agent key
		t.Errorf("expect params and both optFns forwarded, got %v calls, %v optFns", len(qm.calls), qm.fns)
	}
	purge := &sqs.PurgeQueueInput{QueueUrl: aws.String(testQueueURL)}
	if _, err := c.PurgeQueue(context.Background(), purge); err == nil || err.Error() != "purge refused" {
		t.Errorf("expect the wrapped client's error as is, got %v", err)
	}
	if qm.calls[1] != purge || qm.fns != 1 {
		t.Errorf("expect PurgeQueue forwarded")
	}
	var uoe *UnsupportedOperationError
	if _, err := c.TagQueue(context.Background(), &sqs.TagQueueInput{}); !errors.As(err, &uoe) || uoe.Op != "TagQueue" {
		t.Errorf("expect *UnsupportedOperationError for TagQueue, got %v", err)
	}
}

func TestPassThroughUnsupported(t *testing.T) {
	e := newTestEnv(t)
	cv := reflect.ValueOf(e.client)
	for _, op := range passThroughOps() {
		if op == "GetQueueAttributes" {
			continue // part of SQSAPI, so every wrapped client has it
		}
		t.Run(op, func(t *testing.T) {
			m := cv.MethodByName(op)
			params := reflect.New(m.Type().In(1).Elem())
			res := m.Call([]reflect.Value{reflect.ValueOf(context.Background()), params})
			err, _ := res[1].Interface().(error)
			var uoe *UnsupportedOperationError
			if !errors.As(err, &uoe) {
				t.Fatalf("expect *UnsupportedOperationError, got %T %v", err, err)
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

func TestPassThroughGetQueueAttributes(t *testing.T) {
	e := newTestEnv(t)
	e.sqs.SetAttributes(testQueueURL, map[string]string{"MaximumMessageSize": "1048576"})
	in := &sqs.GetQueueAttributesInput{QueueUrl: aws.String(testQueueURL), AttributeNames: []types.QueueAttributeName{"MaximumMessageSize"}}
	out, err := e.client.GetQueueAttributes(context.Background(), in, func(*sqs.Options) {})
	if err != nil || out.Attributes["MaximumMessageSize"] != "1048576" {
		t.Fatalf("expect the attribute, got %v, %v", out, err)
	}
	rec := e.log.Records()
	if len(rec) != 1 || rec[0].Params != in || rec[0].OptFns != 2 { // the caller's and the user-agent key
		t.Errorf("expect the call forwarded unchanged, got %+v", rec)
	}
}
