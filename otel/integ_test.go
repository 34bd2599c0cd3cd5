package sqsxotel_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/snsx"
)

// recorder is a reverse proxy on 127.0.0.1 in front of one local server: it
// records the User-Agent of every request the server is sent.
type recorder struct {
	url    string
	mu     sync.Mutex
	agents []string
}

// newRecorder starts a recorder in front of the server at the endpoint in
// the environment variable endpointVar, stopped when t ends.
func newRecorder(t *testing.T, endpointVar string) *recorder {
	t.Helper()
	target, err := url.Parse(os.Getenv(endpointVar))
	if err != nil || target.Host == "" {
		t.Fatalf("%s=%q: not an endpoint URL", endpointVar, os.Getenv(endpointVar))
	}
	r := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.agents = append(r.agents, req.Header.Get("User-Agent"))
		r.mu.Unlock()
		proxy.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// expectAgents fails t unless every request recorded carries the library's
// user-agent key, and at least one was.
func (r *recorder) expectAgents(t *testing.T, service string) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.agents) == 0 {
		t.Errorf("%s: expect requests recorded, got none", service)
	}
	for _, ua := range r.agents {
		if !strings.Contains(ua, " sqsx/") {
			t.Errorf("%s: expect the sqsx user-agent key in %q", service, ua)
		}
	}
}

// tracedClients are SDK clients for the local servers, traced and measured
// by one pipeline, whose requests are recorded.
type tracedClients struct {
	*testenv.Clients
	sqs          *sqs.Client
	s3           *s3.Client
	sns          *sns.Client
	sqsRec       *recorder
	s3Rec, snRec *recorder
}

func newTracedClients(t *testing.T, p *pipeline) *tracedClients {
	env := testenv.Require(t)
	c := &tracedClients{Clients: env,
		sqsRec: newRecorder(t, "AWS_ENDPOINT_URL_SQS"), s3Rec: newRecorder(t, "AWS_ENDPOINT_URL_S3"), snRec: newRecorder(t, "AWS_ENDPOINT_URL_SNS")}
	c.sqs = sqs.NewFromConfig(env.Config, func(o *sqs.Options) {
		o.TracerProvider, o.MeterProvider, o.BaseEndpoint = p.tp, p.mp, aws.String(c.sqsRec.url)
	})
	c.s3 = s3.NewFromConfig(env.Config, func(o *s3.Options) {
		o.UsePathStyle = true
		o.TracerProvider, o.MeterProvider, o.BaseEndpoint = p.tp, p.mp, aws.String(c.s3Rec.url)
	})
	c.sns = sns.NewFromConfig(env.Config, func(o *sns.Options) {
		o.TracerProvider, o.MeterProvider, o.BaseEndpoint = p.tp, p.mp, aws.String(c.snRec.url)
	})
	return c
}

// TestIntegPropagationSQS sends an offloaded message through a traced
// client built from traced SDK clients, with no providers of its own, and
// receives it: the SDK's spans nest under the library's, the message
// carries the send span's context in AWSTraceHeader, the resolve span
// links to it, and every request carries the user-agent key.
func TestIntegPropagationSQS(t *testing.T) {
	p := newPipeline(t)
	env := newTracedClients(t, p)
	bucket, queue := env.Bucket(t), env.Queue(t, false, nil)
	client, err := sqsx.New(env.sqs, env.s3, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(strings.Repeat("x", large))}); err != nil {
		t.Fatal(err)
	}
	name := "send " + queue[strings.LastIndex(queue, "/")+1:]
	send := p.span(t, name)
	kids := names(p.children(send))
	if !contains(kids, "sqsx.payload.upload") || !contains(kids, "SQS.SendMessage") {
		t.Errorf("expect the upload and the SDK's SendMessage under the send span, got %v", kids)
	}
	if up := p.span(t, "sqsx.payload.upload"); !contains(names(p.children(up)), "S3.PutObject") {
		t.Errorf("expect the SDK's PutObject under the upload span, got %v", names(p.children(up)))
	}

	msgs := testenv.ReceiveAll(t, client, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1}, 1, 20*time.Second)
	header := msgs[0].Attributes["AWSTraceHeader"]
	tid := send.SpanContext().TraceID().String()
	want := "Root=1-" + tid[:8] + "-" + tid[8:] + ";Parent=" + send.SpanContext().SpanID().String() + ";Sampled=1"
	if env.Quirks.DropsMessageSystemAttributes {
		// The server keeps no system attribute: the message arrives without
		// the context, and nothing links to the send.
		want = ""
	}
	if header != want {
		t.Errorf("expect AWSTraceHeader %q, got %q", want, header)
	}
	if len(aws.ToString(msgs[0].Body)) != large {
		t.Errorf("expect the payload resolved, got %d bytes", len(aws.ToString(msgs[0].Body)))
	}
	var linked bool
	for _, s := range p.ended() {
		if s.Name() == "sqsx.resolve" && len(s.Links()) == 1 && s.Links()[0].SpanContext.SpanID() == send.SpanContext().SpanID() {
			linked = true
		}
	}
	if linked != (want != "") {
		t.Errorf("expect a resolve span linked to the send span: %v, got %v", want != "", linked)
	}
	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(queue), ReceiptHandle: msgs[0].ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	env.sqsRec.expectAgents(t, "SQS")
	env.s3Rec.expectAgents(t, "S3")
}

// TestIntegPropagationSNS publishes through SNS to a raw-delivery SQS
// subscription with PropagateTraceparent: the traceparent attribute arrives
// with the message and names the publish span.
func TestIntegPropagationSNS(t *testing.T) {
	p := newPipeline(t)
	env := newTracedClients(t, p)
	recv, queue, publish := publishThroughSNS(t, p, env)
	if kids := names(p.children(publish)); !contains(kids, "SNS.Publish") {
		t.Errorf("expect the SDK's Publish under the publish span, got %v", kids)
	}
	span := publish.SpanContext()
	msgs := testenv.ReceiveAll(t, recv, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1}, 1, 20*time.Second)
	tp := aws.ToString(msgs[0].MessageAttributes["traceparent"].StringValue)
	if want := "00-" + span.TraceID().String() + "-" + span.SpanID().String() + "-01"; tp != want {
		t.Errorf("expect traceparent %q, got %q (attributes %v)", want, tp, msgs[0].MessageAttributes)
	}
	env.snRec.expectAgents(t, "SNS")
}

// TestIntegCallerTraceHeaderKept checks that a caller's own AWSTraceHeader
// is sent as it is, and its input left unchanged.
func TestIntegCallerTraceHeaderKept(t *testing.T) {
	p := newPipeline(t)
	env := newTracedClients(t, p)
	bucket, queue := env.Bucket(t), env.Queue(t, false, nil)
	client, err := sqsx.New(env.sqs, env.s3, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	const mine = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String("hi"),
		MessageSystemAttributes: map[string]types.MessageSystemAttributeValue{"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(mine)}}}
	if _, err := client.SendMessage(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	if len(in.MessageSystemAttributes) != 1 {
		t.Errorf("expect the caller's input unchanged, got %v", in.MessageSystemAttributes)
	}
	msgs := testenv.ReceiveAll(t, client, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 1}, 1, 20*time.Second)
	if env.Quirks.DropsMessageSystemAttributes {
		if got := msgs[0].Attributes["AWSTraceHeader"]; got != "" {
			t.Errorf("expect the server to drop AWSTraceHeader, as its quirk says, got %q", got)
		}
		return
	}
	if got := msgs[0].Attributes["AWSTraceHeader"]; got != mine {
		t.Errorf("expect the caller's AWSTraceHeader, got %q", got)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// processParent returns the parent of the one process span of the message
// with id, failing t if there is none.
func processParent(t *testing.T, p *pipeline, id string) trace.SpanContext {
	t.Helper()
	for _, s := range p.ended() {
		if strings.HasPrefix(s.Name(), "process ") && attrs(s)["messaging.message.id"].AsString() == id {
			return s.Parent()
		}
	}
	t.Fatalf("expect a process span for message %s, got %v", id, names(p.ended()))
	return trace.SpanContext{}
}

// TestIntegConsumerContinuesTrace: producer -> SQS -> consumer. The
// process span is a child of the send span, through AWSTraceHeader where
// the server keeps it and through the traceparent attribute otherwise.
func TestIntegConsumerContinuesTrace(t *testing.T) {
	p := newPipeline(t)
	env := newTracedClients(t, p)
	bucket, queue := env.Bucket(t), env.Queue(t, false, nil)
	client, err := sqsx.New(env.sqs, env.s3, func(o *sqsx.Options) {
		o.Bucket = bucket
		// Where the server drops AWSTraceHeader, the attribute carries it.
		o.PropagateTraceparent = env.Quirks.DropsMessageSystemAttributes
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(strings.Repeat("x", large))})
	if err != nil {
		t.Fatal(err)
	}
	send := p.span(t, "send "+queue[strings.LastIndex(queue, "/")+1:])
	consume(t, client, queue, 1)
	if got := processParent(t, p, aws.ToString(out.MessageId)); got.SpanID() != send.SpanContext().SpanID() || got.TraceID() != send.SpanContext().TraceID() {
		t.Errorf("expect the process span a child of the send span %v, got %v", send.SpanContext(), got)
	}
}

// TestIntegConsumerContinuesTraceThroughSNS: producer -> SNS -> SQS ->
// consumer, with raw delivery and the traceparent attribute.
func TestIntegConsumerContinuesTraceThroughSNS(t *testing.T) {
	p := newPipeline(t)
	env := newTracedClients(t, p)
	client, queue, span := publishThroughSNS(t, p, env)
	publish := span.SpanContext()
	consume(t, client, queue, 1)
	var found bool
	for _, s := range p.ended() {
		if strings.HasPrefix(s.Name(), "process ") {
			found = true
			if s.Parent().SpanID() != publish.SpanID() || s.SpanContext().TraceID() != publish.TraceID() {
				t.Errorf("expect the process span a child of the publish span %v, got %v", publish, s.Parent())
			}
		}
	}
	if !found {
		t.Errorf("expect a process span, got %v", names(p.ended()))
	}
}

// publishThroughSNS publishes an offloaded message with PropagateTraceparent
// to a new topic with a raw-delivery SQS subscription, and returns a client
// that reads the queue, the queue and the publish span.
func publishThroughSNS(t *testing.T, p *pipeline, env *tracedClients) (*sqsx.Client, string, sdktrace.ReadOnlySpan) {
	t.Helper()
	bucket, queue, topic := env.Bucket(t), env.Queue(t, false, nil), env.Topic(t, false)
	env.Subscribe(t, topic, queue, true)
	pub, err := snsx.New(env.sns, env.s3, func(o *snsx.Options) { o.Bucket, o.PropagateTraceparent = bucket, true })
	if err != nil {
		t.Fatal(err)
	}
	recv, err := sqsx.New(env.sqs, env.s3, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Publish(context.Background(), &sns.PublishInput{TopicArn: aws.String(topic), Message: aws.String(strings.Repeat("s", large))}); err != nil {
		t.Fatal(err)
	}
	for _, s := range p.ended() {
		if strings.HasPrefix(s.Name(), "publish ") {
			return recv, queue, s
		}
	}
	t.Fatalf("expect a publish span, got %v", names(p.ended()))
	return nil, "", nil
}
