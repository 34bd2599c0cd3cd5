package sqsxotel_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxlambda"
	"github.com/sqsx/sqsx/sqsxtest"
)

const (
	queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/orders"
	bucket   = "payloads"
	topicARN = "arn:aws:sns:us-east-1:123456789012:events"
	large    = 300 << 10
)

// newClient returns an sqsx.Client over in-memory fakes, traced and
// measured by p.
func newClient(t *testing.T, p *pipeline, optFns ...func(*sqsx.Options)) (*sqsx.Client, *sqsxtest.SQS, *sqsxtest.S3) {
	t.Helper()
	sqsFake, s3Fake := sqsxtest.New()
	fns := append([]func(*sqsx.Options){func(o *sqsx.Options) {
		o.Bucket, o.TracerProvider, o.MeterProvider = bucket, p.tp, p.mp
	}}, optFns...)
	c, err := sqsx.New(sqsFake, s3Fake, fns...)
	if err != nil {
		t.Fatal(err)
	}
	return c, sqsFake, s3Fake
}

func TestSendInline(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p)
	out, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String("hello")})
	if err != nil {
		t.Fatal(err)
	}
	s := p.span(t, "send orders")
	if s.SpanKind() != trace.SpanKindProducer {
		t.Errorf("expect a producer span, got %v", s.SpanKind())
	}
	expectAttrs(t, s, map[string]any{
		"messaging.system": "aws_sqs", "messaging.destination.name": "orders", "messaging.operation.name": "send",
		"messaging.operation.type": "send", "messaging.message.id": aws.ToString(out.MessageId),
		"messaging.message.body.size": int64(5), "sqsx.offloaded": false,
	})
	if len(p.ended()) != 1 {
		t.Errorf("expect only the send span, got %v", names(p.ended()))
	}
	rm := p.collect(t)
	if n := sum(t, rm, "messaging.client.sent.messages", map[string]any{"sqsx.offloaded": false, "messaging.destination.name": "orders"}); n != 1 {
		t.Errorf("expect 1 inline message counted, got %d", n)
	}
}

func TestSendOffloaded(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p)
	_, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("x", large))})
	if err != nil {
		t.Fatal(err)
	}
	send := p.span(t, "send orders")
	upload := p.span(t, "sqsx.payload.upload")
	if upload.Parent().SpanID() != send.SpanContext().SpanID() {
		t.Errorf("expect the upload span under the send span")
	}
	key := attrs(send)["sqsx.payload.key"].AsString()
	expectAttrs(t, send, map[string]any{"sqsx.offloaded": true, "sqsx.payload.bucket": bucket, "sqsx.payload.bytes": int64(large)})
	expectAttrs(t, upload, map[string]any{"sqsx.payload.bucket": bucket, "sqsx.payload.key": key, "sqsx.payload.bytes": int64(large)})
	rm := p.collect(t)
	if n := sum(t, rm, "messaging.client.sent.messages", map[string]any{"sqsx.offloaded": true}); n != 1 {
		t.Errorf("expect 1 offloaded message counted, got %d", n)
	}
	if n := sum(t, rm, "sqsx.payload.uploaded.bytes", map[string]any{"sqsx.payload.bucket": bucket}); n != large {
		t.Errorf("expect %d bytes uploaded, got %d", large, n)
	}
	if n, _ := count(t, rm, "sqsx.payload.upload.duration", nil); n != 1 {
		t.Errorf("expect 1 upload timed, got %d", n)
	}
}

func TestSendBatch(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p)
	_, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("small")},
		{Id: aws.String("b"), MessageBody: aws.String(strings.Repeat("y", large))},
		{Id: aws.String("c"), MessageBody: aws.String("small too")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	send := p.span(t, "send orders")
	expectAttrs(t, send, map[string]any{"messaging.batch.message_count": int64(3), "sqsx.offloaded_count": int64(1), "sqsx.payload.bytes": int64(large)})
	if kids := p.children(send); len(kids) != 1 || kids[0].Name() != "sqsx.payload.upload" {
		t.Errorf("expect one upload under the send span, got %v", names(kids))
	}
	rm := p.collect(t)
	if n := sum(t, rm, "messaging.client.sent.messages", map[string]any{"sqsx.offloaded": false}); n != 2 {
		t.Errorf("expect 2 inline messages counted, got %d", n)
	}
	if n := sum(t, rm, "messaging.client.sent.messages", map[string]any{"sqsx.offloaded": true}); n != 1 {
		t.Errorf("expect 1 offloaded message counted, got %d", n)
	}
}

func TestReceiveMixed(t *testing.T) {
	p := newPipeline(t)
	c, sqsFake, _ := newClient(t, p, func(o *sqsx.Options) { o.PropagateTraceparent = true })
	ctx := context.Background()
	for _, body := range []string{"inline", strings.Repeat("z", large)} {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	var sends []trace.SpanContext
	for _, s := range p.ended() {
		if s.Name() == "send orders" {
			sends = append(sends, s.SpanContext())
		}
	}
	// A pointer to nothing: unresolvable.
	sqsFake.Enqueue(queueURL, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"gone"}]`,
		map[string]types.MessageAttributeValue{sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("5")}})

	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 2 {
		t.Fatalf("expect the 2 resolvable messages, got %d", len(out.Messages))
	}
	recv := p.span(t, "receive orders")
	if recv.SpanKind() != trace.SpanKindClient {
		t.Errorf("expect a client span, got %v", recv.SpanKind())
	}
	expectAttrs(t, recv, map[string]any{"messaging.operation.type": "receive", "messaging.batch.message_count": int64(2)})
	kids := p.children(recv)
	if len(kids) != 2 {
		t.Fatalf("expect one resolve span per offloaded message, got %v", names(kids))
	}
	var resolved, failed int
	for _, k := range kids {
		switch attrs(k)["sqsx.resolution"].AsString() {
		case "resolved":
			resolved++
			expectAttrs(t, k, map[string]any{"sqsx.payload.bucket": bucket, "sqsx.payload.bytes": int64(large)})
			if len(k.Links()) != 1 || k.Links()[0].SpanContext.SpanID() != sends[1].SpanID() {
				t.Errorf("expect the resolve span linked to its producer's send span, got %v", k.Links())
			}
			if dl := p.children(k); len(dl) != 1 || dl[0].Name() != "sqsx.payload.download" {
				t.Errorf("expect a download span under the resolve span, got %v", names(dl))
			}
		case "PayloadNotFound":
			failed++
			expectAttrs(t, k, map[string]any{"error.type": "PayloadNotFound", "sqsx.payload.key": "gone"})
			if k.Status().Code != codes.Error {
				t.Errorf("expect the failed resolution's status to be Error, got %v", k.Status())
			}
			if ev := k.Events(); len(ev) != 1 || ev[0].Name != "exception" {
				t.Errorf("expect an exception event, got %v", ev)
			}
		}
	}
	if resolved != 1 || failed != 1 {
		t.Errorf("expect 1 resolved and 1 failed resolution, got %d and %d", resolved, failed)
	}
	rm := p.collect(t)
	if n := sum(t, rm, "sqsx.resolve.failures", map[string]any{"error.type": "PayloadNotFound", "messaging.destination.name": "orders"}); n != 1 {
		t.Errorf("expect 1 resolution failure counted, got %d", n)
	}
	if n := sum(t, rm, "sqsx.payload.downloaded.bytes", nil); n != large {
		t.Errorf("expect %d bytes downloaded, got %d", large, n)
	}
	if n, _ := count(t, rm, "sqsx.payload.download.duration", map[string]any{"error.type": "PayloadNotFound"}); n != 1 {
		t.Errorf("expect the failed download timed with its error.type, got %d", n)
	}
}

func TestReceiveUnresolvedReturn(t *testing.T) {
	p := newPipeline(t)
	c, sqsFake, _ := newClient(t, p, func(o *sqsx.Options) { o.Unresolved = sqsx.UnresolvedReturn })
	sqsFake.Enqueue(queueURL, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"elsewhere","s3Key":"k"}]`,
		map[string]types.MessageAttributeValue{sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("5")}})
	_, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL)})
	var ue *sqsx.UnresolvedError
	if !errors.As(err, &ue) {
		t.Fatalf("expect an *UnresolvedError, got %v", err)
	}
	recv := p.span(t, "receive orders")
	expectAttrs(t, recv, map[string]any{"error.type": sqsx.CodeBucketNotAllowed})
	res := p.span(t, "sqsx.resolve")
	expectAttrs(t, res, map[string]any{"sqsx.resolution": sqsx.CodeBucketNotAllowed, "sqsx.payload.bucket": "elsewhere"})
	if n := sum(t, p.collect(t), "sqsx.resolve.failures", map[string]any{"error.type": sqsx.CodeBucketNotAllowed}); n != 1 {
		t.Errorf("expect 1 resolution failure counted, got %d", n)
	}
}

func TestDelete(t *testing.T) {
	p := newPipeline(t)
	c, _, s3Fake := newClient(t, p)
	ctx := context.Background()
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("x", large))}); err != nil {
		t.Fatal(err)
	}
	var handles []*string
	for range 2 {
		if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("x", large))}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 3 {
		t.Fatalf("expect 3 messages, got %v, %v", out, err)
	}
	for _, m := range out.Messages {
		handles = append(handles, m.ReceiptHandle)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: handles[0]}); err != nil {
		t.Fatal(err)
	}
	del := p.span(t, "delete orders")
	expectAttrs(t, del, map[string]any{"messaging.operation.type": "settle", "sqsx.operation": "DeleteMessage"})
	if kids := p.children(del); len(kids) != 1 || kids[0].Name() != "sqsx.payload.delete" {
		t.Errorf("expect a payload delete span under the delete span, got %v", names(kids))
	}

	// A payload whose deletion fails after its message's is an orphan.
	s3Fake.DeleteObjectsFn = func(*s3.DeleteObjectsInput) (*s3.DeleteObjectsOutput, error) { return nil, errors.New("S3 is down") }
	_, err = c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("1"), ReceiptHandle: handles[1]}, {Id: aws.String("2"), ReceiptHandle: handles[2]},
	}})
	if err == nil {
		t.Fatal("expect the payloads' deletion to fail")
	}
	rm := p.collect(t)
	if n := sum(t, rm, "sqsx.payload.deleted", nil); n != 1 {
		t.Errorf("expect 1 payload deleted, got %d", n)
	}
	if n := sum(t, rm, "sqsx.payload.orphans", map[string]any{"sqsx.operation": "DeleteMessageBatch", "sqsx.ambiguous": false}); n != 2 {
		t.Errorf("expect 2 orphans counted, got %d", n)
	}
}

func TestPublish(t *testing.T) {
	p := newPipeline(t)
	snsFake := sqsxtest.NewSNS(nil)
	c, err := snsx.New(snsFake, sqsxtest.NewS3(nil), func(o *snsx.Options) {
		o.Bucket, o.TracerProvider, o.MeterProvider, o.PropagateTraceparent = bucket, p.tp, p.mp, true
	})
	if err != nil {
		t.Fatal(err)
	}
	in := &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(strings.Repeat("p", large))}
	if _, err := c.Publish(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if in.MessageAttributes != nil {
		t.Errorf("expect the caller's input unchanged, got attributes %v", in.MessageAttributes)
	}
	pub := p.span(t, "publish events")
	expectAttrs(t, pub, map[string]any{"messaging.system": "aws_sns", "messaging.operation.name": "publish", "sqsx.offloaded": true})
	if kids := p.children(pub); len(kids) != 1 || kids[0].Name() != "sqsx.payload.upload" {
		t.Errorf("expect an upload under the publish span, got %v", names(kids))
	}
	if n := sum(t, p.collect(t), "messaging.client.sent.messages", map[string]any{"messaging.system": "aws_sns", "sqsx.offloaded": true}); n != 1 {
		t.Errorf("expect 1 offloaded publish counted, got %d", n)
	}
}

// consume runs a consumer of c on queue until it has handled n messages.
func consume(t *testing.T, c *sqsx.Client, queue string, n int, optFns ...func(*consumer.Options)) {
	t.Helper()
	cons, err := consumer.New(c, append([]func(*consumer.Options){func(o *consumer.Options) {
		o.WaitTime = time.Second
	}}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]bool{}
	err = cons.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
		mu.Lock()
		defer mu.Unlock()
		seen[m.ID] = true
		if len(seen) == n {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("expect %d messages handled, got %d", n, len(seen))
	}
}

// TestConsumer runs a consumer over two messages, one offloaded: each
// handler run has a process span whose parent is its producer's send span,
// and the consumer's metrics are recorded.
func TestConsumer(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p, func(o *sqsx.Options) { o.PropagateTraceparent = true })
	ctx := context.Background()
	sends := map[string]trace.SpanContext{}
	for _, body := range []string{"small", strings.Repeat("c", large)} {
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)})
		if err != nil {
			t.Fatal(err)
		}
		ended := p.ended()
		sends[aws.ToString(out.MessageId)] = ended[len(ended)-1].SpanContext()
	}
	consume(t, c, queueURL, 2)

	var processed int
	for _, s := range p.ended() {
		if s.Name() != "process orders" {
			continue
		}
		processed++
		id := attrs(s)["messaging.message.id"].AsString()
		if s.SpanKind() != trace.SpanKindConsumer {
			t.Errorf("expect a consumer span, got %v", s.SpanKind())
		}
		if want := sends[id]; s.Parent().SpanID() != want.SpanID() || s.SpanContext().TraceID() != want.TraceID() {
			t.Errorf("message %s: expect the process span a child of its send span %v, got parent %v", id, want.SpanID(), s.Parent().SpanID())
		}
		if len(s.Links()) != 1 {
			t.Errorf("expect a link to the producer, got %v", s.Links())
		}
		expectAttrs(t, s, map[string]any{"messaging.operation.type": "process", "messaging.destination.name": "orders"})
	}
	if processed != 2 {
		t.Errorf("expect 2 process spans, got %d", processed)
	}
	rm := p.collect(t)
	if n, _ := count(t, rm, "messaging.process.duration", map[string]any{"messaging.destination.name": "orders"}); n != 2 {
		t.Errorf("expect 2 handler runs timed, got %d", n)
	}
	if n, total := count(t, rm, "sqsx.consumer.ack.batch.size", nil); n == 0 || total != 2 {
		t.Errorf("expect acknowledgement batches of 2 messages in all, got %d batches of %v", n, total)
	}
	if n, _ := count(t, rm, "sqsx.consumer.message.age", nil); n != 2 {
		t.Errorf("expect the age of 2 messages, got %d", n)
	}
}

// TestConsumerHeld collects the consumer's in-flight metrics while its
// handler holds an offloaded message: one message, and its payload's bytes.
func TestConsumerHeld(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p)
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("h", large))}); err != nil {
		t.Fatal(err)
	}
	cons, err := consumer.New(c, func(o *consumer.Options) { o.WaitTime = time.Second })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inHandler, done := make(chan struct{}), make(chan struct{})
	runErr := make(chan error, 1)
	go func() {
		runErr <- cons.Run(ctx, queueURL, func(ctx context.Context, m *consumer.Message) error {
			close(inHandler)
			<-done
			return nil
		})
	}()
	select {
	case <-inHandler:
	case <-ctx.Done():
		t.Fatal("the handler was not called")
	}
	rm := p.collect(t)
	close(done)
	if n := sum(t, rm, "sqsx.consumer.messages.in_flight", map[string]any{"messaging.destination.name": "orders"}); n != 1 {
		t.Errorf("expect 1 message held while its handler runs, got %d", n)
	}
	if n := sum(t, rm, "sqsx.consumer.bytes.in_flight", nil); n != large {
		t.Errorf("expect the %d bytes of its payload held, got %d", large, n)
	}
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
}

// TestLambdaContinuesTrace: the Lambda helper's process span of a record
// continues the trace its AWSTraceHeader names.
func TestLambdaContinuesTrace(t *testing.T) {
	p := newPipeline(t)
	c, _, _ := newClient(t, p)
	h, err := sqsxlambda.New(c, func(ctx context.Context, r *events.SQSMessage) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	_, err = h(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{
		MessageId: "m1", ReceiptHandle: "h1", Body: "hi", EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:123456789012:orders",
		Attributes:     map[string]string{"AWSTraceHeader": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	s := p.span(t, "process orders")
	if s.SpanContext().TraceID().String() != "5759e988bd862e3fe1be46a994272793" || s.Parent().SpanID().String() != "53995c3f42cd8ad8" {
		t.Errorf("expect the producer's trace continued, got trace %v, parent %v", s.SpanContext().TraceID(), s.Parent().SpanID())
	}
	expectAttrs(t, s, map[string]any{"messaging.message.id": "m1", "sqsx.outcome": "succeeded"})
}
