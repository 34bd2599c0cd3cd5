package sqsxlambda_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
)

// rieVersion pins the AWS Lambda Runtime Interface Emulator: the module has
// no release tags that the module proxy serves, so this is the pseudo-version
// of its commit bef5c4ba774d (2026-10-30).
const rieVersion = "v0.0.0-20261030222936-bef5c4ba774d"

// These tests run the Lambda function in internal/testhandler as Lambda runs
// it: built as a binary and invoked through the Runtime Interface Emulator,
// with SQS events made of messages sent through the local servers, whose
// pointers name objects on the local S3 server.

// TestIntegLambdaEmulator sends a mix of good, failing and unresolvable
// messages to a queue directly and through an SNS topic (one subscription
// with raw delivery, one without), and good and failing messages in two
// groups to a FIFO queue, receives them as Lambda's event source
// mapping would, invokes the function with one event per queue, and checks
// the partial batch responses, what the handler saw, and which payloads are
// left in S3.
func TestIntegLambdaEmulator(t *testing.T) {
	env := testenv.Require(t)
	rie := rieBinary(t)
	bootstrap := buildHandler(t)
	for _, del := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeletePayloads=%v", del), func(t *testing.T) {
			s := newScenario(t, env)
			s.send()
			evs := s.receive()
			logPath := filepath.Join(t.TempDir(), "handler.log")
			url := startRIE(t, rie, bootstrap,
				"SQSX_TEST_BUCKET="+s.bucket,
				"SQSX_TEST_PREFIX="+keyPrefix,
				fmt.Sprintf("SQSX_TEST_DELETE_PAYLOADS=%v", del),
				"SQSX_TEST_LOG="+logPath,
				"AWS_LAMBDA_FUNCTION_TIMEOUT=60",
			)

			wantFailed := map[string][]string{
				"direct":   {"fail-big", "fail-small", "key-not-allowed"},
				"raw":      {"sns-fail", "sns-key-not-allowed"},
				"envelope": {"sns-fail", "sns-key-not-allowed"},
				"fifo":     {"fifo-a2", "fifo-a3"},
			}
			for _, q := range []string{"direct", "raw", "envelope", "fifo"} {
				resp := invoke(t, url, evs[q].event)
				var failed []string
				for _, f := range resp.BatchItemFailures {
					failed = append(failed, evs[q].cases[f.ItemIdentifier])
				}
				slices.Sort(failed)
				if diff := cmp.Diff(wantFailed[q], failed); diff != "" {
					t.Errorf("%s: batchItemFailures by case (-want +got):\n%s", q, diff)
				}
			}

			seen, results := readLog(t, logPath)
			s.checkSeen(evs, seen)
			s.checkResults(evs, results)
			s.checkPayloads(evs, del)
		})
	}
}

const keyPrefix = "lambda/"

// scenario is one run's queues, topic, messages and payloads.
type scenario struct {
	t      *testing.T
	env    *testenv.Clients
	bucket string
	queues map[string]string // "direct", "raw", "envelope" -> URL
	topic  string
	sender *sqsx.Client
	pub    *snsx.Client
	bodies map[string]string // case -> body sent
}

func newScenario(t *testing.T, env *testenv.Clients) *scenario {
	t.Helper()
	s := &scenario{t: t, env: env, bucket: env.Bucket(t), topic: env.Topic(t, false), bodies: map[string]string{}}
	s.queues = map[string]string{
		"direct":   env.Queue(t, false, map[string]string{"VisibilityTimeout": "60"}),
		"raw":      env.Queue(t, false, map[string]string{"VisibilityTimeout": "60"}),
		"envelope": env.Queue(t, false, map[string]string{"VisibilityTimeout": "60"}),
		"fifo":     env.Queue(t, true, map[string]string{"VisibilityTimeout": "60"}),
	}
	env.Subscribe(t, s.topic, s.queues["raw"], true)
	env.Subscribe(t, s.topic, s.queues["envelope"], false)
	var err error
	s.sender, err = sqsx.New(env.SQS, env.S3, func(o *sqsx.Options) {
		o.Bucket, o.KeyPrefix = s.bucket, keyPrefix
	})
	if err != nil {
		t.Fatal(err)
	}
	s.pub, err = snsx.New(env.SNS, env.S3, func(o *snsx.Options) {
		o.Bucket, o.KeyPrefix = s.bucket, keyPrefix
		o.AlwaysThroughS3 = true
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// text returns n bytes of BMP text (fauxqs refuses characters above U+FFFF).
func text(n int, seed string) string {
	s := strings.Repeat(seed+" größe ✓ 日本語 ", n/20+1)
	for len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s + strings.Repeat("x", n-len(s))
}

func caseAttr(name string) map[string]types.MessageAttributeValue {
	return map[string]types.MessageAttributeValue{"case": {DataType: aws.String("String"), StringValue: aws.String(name)}}
}

// send sends each case's message.
func (s *scenario) send() {
	t, ctx := s.t, context.Background()
	direct := s.queues["direct"]
	// Offloaded by sqsx (300 KiB is over the threshold).
	for name, body := range map[string]string{
		"good-big": text(300*1024, "good"),
		"fail-big": "fail " + text(300*1024, "bad"),
		"missing":  text(300*1024, "gone"),
	} {
		s.bodies[name] = body
		if _, err := s.sender.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(direct), MessageBody: aws.String(body), MessageAttributes: caseAttr(name),
		}); err != nil {
			t.Fatalf("SendMessage %s: %v", name, err)
		}
	}
	// Small enough for SQS.
	for name, body := range map[string]string{"good-small": "small body", "fail-small": "fail small"} {
		s.bodies[name] = body
		if _, err := s.sender.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(direct), MessageBody: aws.String(body), MessageAttributes: caseAttr(name),
		}); err != nil {
			t.Fatalf("SendMessage %s: %v", name, err)
		}
	}
	// A hostile pointer to a key outside the payload prefix (which exists).
	if _, err := s.env.S3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String("secrets/config"), Body: strings.NewReader("secret"),
	}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	hostile, err := payload.EncodePointer(payload.Pointer{Bucket: s.bucket, Key: "secrets/config"})
	if err != nil {
		t.Fatal(err)
	}
	attrs := caseAttr("key-not-allowed")
	attrs[sqsx.AttributeName] = types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String("6")}
	if _, err := s.env.SQS.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(direct), MessageBody: aws.String(hostile), MessageAttributes: attrs,
	}); err != nil {
		t.Fatalf("SendMessage key-not-allowed: %v", err)
	}

	// To a FIFO queue, in two message groups; a3 follows a failure in its
	// group.
	for _, m := range []struct{ name, group, body string }{
		{"fifo-a1", "A", text(300*1024, "a1")},
		{"fifo-b1", "B", "b1"},
		{"fifo-a2", "A", "fail a2"},
		{"fifo-b2", "B", text(300*1024, "b2")},
		{"fifo-a3", "A", "a3"},
	} {
		s.bodies[m.name] = m.body
		if _, err := s.sender.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(s.queues["fifo"]), MessageBody: aws.String(m.body), MessageAttributes: caseAttr(m.name),
			MessageGroupId: aws.String(m.group), MessageDeduplicationId: aws.String(m.name),
		}); err != nil {
			t.Fatalf("SendMessage %s: %v", m.name, err)
		}
	}

	// Through SNS, offloaded by snsx: every subscriber gets each.
	for name, body := range map[string]string{
		"sns-good":    text(2048, "sns good"),
		"sns-fail":    "fail " + text(2048, "sns bad"),
		"sns-missing": text(2048, "sns gone"),
	} {
		s.bodies[name] = body
		if _, err := s.pub.Publish(ctx, &sns.PublishInput{
			TopicArn: aws.String(s.topic), Message: aws.String(body), MessageAttributes: snsCaseAttr(name),
		}); err != nil {
			t.Fatalf("Publish %s: %v", name, err)
		}
	}
	snsAttrs := snsCaseAttr("sns-key-not-allowed")
	snsAttrs[sqsx.AttributeName] = snstypes.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String("6")}
	if _, err := s.env.SNS.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(s.topic), Message: aws.String(hostile), MessageAttributes: snsAttrs,
	}); err != nil {
		t.Fatalf("Publish sns-key-not-allowed: %v", err)
	}
}

func snsCaseAttr(name string) map[string]snstypes.MessageAttributeValue {
	return map[string]snstypes.MessageAttributeValue{"case": {DataType: aws.String("String"), StringValue: aws.String(name)}}
}

// queueEvent is the event of one queue's messages, and each record's case
// and payload by message id.
type queueEvent struct {
	event    events.SQSEvent
	cases    map[string]string          // message id -> case
	payloads map[string]payload.Pointer // case -> payload
}

// receive receives every message as Lambda's event source mapping would,
// turns each queue's into an event, and deletes the payloads of the
// "missing" cases, as processing an earlier copy of them would have.
func (s *scenario) receive() map[string]queueEvent {
	t, ctx := s.t, context.Background()
	want := map[string]int{"direct": 6, "raw": 4, "envelope": 4, "fifo": 5}
	out := map[string]queueEvent{}
	for q, n := range want {
		arn, err := s.env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(s.queues[q]), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
		})
		if err != nil {
			t.Fatalf("GetQueueAttributes: %v", err)
		}
		in := &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(s.queues[q]), MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
			VisibilityTimeout:           60,
		}
		var msgs []types.Message
		if q == "fifo" {
			msgs = s.receiveFIFO(in, n)
		} else {
			msgs = s.receiveDistinct(in, n)
		}
		qe := queueEvent{cases: map[string]string{}, payloads: map[string]payload.Pointer{}}
		for _, m := range msgs {
			name, ptr := s.describe(m)
			qe.cases[aws.ToString(m.MessageId)] = name
			if ptr != nil {
				qe.payloads[name] = *ptr
			}
			qe.event.Records = append(qe.event.Records, record(m, arn.Attributes[string(types.QueueAttributeNameQueueArn)]))
		}
		out[q] = qe
	}
	for q, name := range map[string]string{"direct": "missing", "raw": "sns-missing"} {
		p := out[q].payloads[name]
		if _, err := s.env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)}); err != nil {
			t.Fatalf("DeleteObject %s: %v", p, err)
		}
	}
	return out
}

// receiveDistinct receives until it has n distinct messages. The messages
// only make the event's records, so a short visibility timeout is used: a
// receive whose answer the local server drops (it happens now and then) hides
// its messages only briefly, and one received twice is counted once.
func (s *scenario) receiveDistinct(in *sqs.ReceiveMessageInput, n int) []types.Message {
	s.t.Helper()
	req := *in
	req.VisibilityTimeout = 2
	seen := map[string]bool{}
	var msgs []types.Message
	for deadline := time.Now().Add(30 * time.Second); len(msgs) < n && time.Now().Before(deadline); {
		req.MaxNumberOfMessages = 10
		req.WaitTimeSeconds = 1
		out, err := s.env.SQS.ReceiveMessage(context.Background(), &req)
		if err != nil {
			continue // the SDK already retried; the next receive may succeed
		}
		for _, m := range out.Messages {
			if id := aws.ToString(m.MessageId); !seen[id] {
				seen[id] = true
				msgs = append(msgs, m)
			}
		}
	}
	if len(msgs) < n {
		s.t.Fatalf("received %d distinct messages within 30s, want %d", len(msgs), n)
	}
	return msgs
}

// receiveFIFO receives n messages from a FIFO queue, in order within each
// message group. The local servers return at most one message of a group
// per receive, where SQS (and so Lambda) may return several, and hold back
// the group's next message while one is in flight, so each message is
// deleted as soon as it is received. The function never uses a record's
// receipt handle, so the records are still those SQS delivered.
func (s *scenario) receiveFIFO(in *sqs.ReceiveMessageInput, n int) []types.Message {
	t, ctx := s.t, context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var got []types.Message
	for len(got) < n && time.Now().Before(deadline) {
		req := *in
		req.MaxNumberOfMessages, req.WaitTimeSeconds = 10, 1
		out, err := s.env.SQS.ReceiveMessage(ctx, &req)
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		for _, m := range out.Messages {
			if _, err := s.env.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: in.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("DeleteMessage: %v", err)
			}
		}
		got = append(got, out.Messages...)
	}
	if len(got) != n {
		t.Fatalf("received %d messages from the FIFO queue within 30s, want %d", len(got), n)
	}
	return got
}

// describe returns the case of a message as received by a plain SQS client
// (from its attributes or its SNS envelope's) and the payload it points to.
func (s *scenario) describe(m types.Message) (string, *payload.Pointer) {
	body := aws.ToString(m.Body)
	name := aws.ToString(m.MessageAttributes["case"].StringValue)
	if name == "" {
		var env struct {
			Message           string
			MessageAttributes map[string]struct{ Value string }
		}
		if err := json.Unmarshal([]byte(body), &env); err != nil {
			s.t.Fatalf("message %s: no case attribute and no SNS envelope: %.200q", aws.ToString(m.MessageId), body)
		}
		name, body = env.MessageAttributes["case"].Value, env.Message
	}
	if p, err := payload.DecodePointer(body); err == nil {
		return name, &p
	}
	return name, nil
}

// record returns m as a record of a Lambda SQS event.
func record(m types.Message, queueARN string) events.SQSMessage {
	r := events.SQSMessage{
		MessageId:              aws.ToString(m.MessageId),
		ReceiptHandle:          aws.ToString(m.ReceiptHandle),
		Body:                   aws.ToString(m.Body),
		Md5OfBody:              aws.ToString(m.MD5OfBody),
		Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
		Attributes:             m.Attributes,
		MessageAttributes:      map[string]events.SQSMessageAttribute{},
		EventSourceARN:         queueARN,
		EventSource:            "aws:sqs",
		AWSRegion:              "us-east-1",
	}
	for name, a := range m.MessageAttributes {
		r.MessageAttributes[name] = events.SQSMessageAttribute{
			StringValue: a.StringValue, BinaryValue: a.BinaryValue, DataType: aws.ToString(a.DataType),
			StringListValues: []string{}, BinaryListValues: [][]byte{},
		}
	}
	return r
}

// checkSeen checks that the handler got every record that resolved, with its
// payload as body and without the reserved attribute, and no other.
func (s *scenario) checkSeen(evs map[string]queueEvent, seen map[string]seenRecord) {
	t := s.t
	handled := map[string]bool{"good-big": true, "fail-big": true, "good-small": true, "fail-small": true, "sns-good": true, "sns-fail": true,
		"fifo-a1": true, "fifo-a2": true, "fifo-b1": true, "fifo-b2": true}
	for q, qe := range evs {
		for id, name := range qe.cases {
			got, ok := seen[id]
			if ok != handled[name] {
				t.Errorf("%s %s: expect handled %v, got %v", q, name, handled[name], ok)
				continue
			}
			if !ok {
				continue
			}
			if _, ok := got.Attributes[sqsx.AttributeName]; ok {
				t.Errorf("%s %s: expect the reserved attribute removed, got %v", q, name, got.Attributes)
			}
			body := s.bodies[name]
			if q == "envelope" {
				// The envelope is kept, with Message replaced: the payload
				// is in it.
				if got.BodySize <= len(body) {
					t.Errorf("%s %s: expect an envelope around the %d-byte payload, got %d bytes", q, name, len(body), got.BodySize)
				}
				continue
			}
			sum := sha256.Sum256([]byte(body))
			if got.BodySHA256 != hex.EncodeToString(sum[:]) || got.BodySize != len(body) {
				t.Errorf("%s %s: expect the %d-byte body sent, got %d bytes", q, name, len(body), got.BodySize)
			}
			_, direct := qe.payloads[name]
			direct = direct && (q == "direct" || q == "fifo")
			if names := strings.Contains(got.ReceiptHandle, payload.BucketMarker); names != direct {
				t.Errorf("%s %s: expect the receipt handle to name the payload: %v, got %q", q, name, direct, got.ReceiptHandle)
			}
		}
	}
}

// checkResults checks each record's outcome as the function reported it.
func (s *scenario) checkResults(evs map[string]queueEvent, results map[string]resultRecord) {
	want := map[string]resultRecord{
		"good-big":            {Outcome: "succeeded"},
		"good-small":          {Outcome: "succeeded"},
		"fail-big":            {Outcome: "failed"},
		"fail-small":          {Outcome: "failed"},
		"missing":             {Outcome: "dropped", Code: sqsx.CodePayloadNotFound},
		"key-not-allowed":     {Outcome: "unresolved", Code: sqsx.CodeKeyNotAllowed},
		"sns-good":            {Outcome: "succeeded"},
		"sns-fail":            {Outcome: "failed"},
		"sns-missing":         {Outcome: "dropped", Code: sqsx.CodePayloadNotFound},
		"sns-key-not-allowed": {Outcome: "unresolved", Code: sqsx.CodeKeyNotAllowed},
		"fifo-a1":             {Outcome: "succeeded"},
		"fifo-a2":             {Outcome: "failed"},
		"fifo-a3":             {Outcome: "skipped"},
		"fifo-b1":             {Outcome: "succeeded"},
		"fifo-b2":             {Outcome: "succeeded"},
	}
	for q, qe := range evs {
		for id, name := range qe.cases {
			got := results[id]
			got.MessageID = ""
			if got != want[name] {
				s.t.Errorf("%s %s: expect %+v, got %+v", q, name, want[name], got)
			}
		}
	}
}

// checkPayloads checks which payloads are left in S3: all of them but the
// two deleted as "missing", or, with DeletePayloads, also but those of the
// queue messages that succeeded (the SNS payloads are shared).
func (s *scenario) checkPayloads(evs map[string]queueEvent, deleted bool) {
	var got []string
	for _, k := range s.env.Keys(s.t, s.bucket) {
		if strings.HasPrefix(k, keyPrefix) {
			got = append(got, k)
		}
	}
	var want []string
	for _, name := range []string{"good-big", "fail-big"} {
		if name != "good-big" || !deleted {
			want = append(want, evs["direct"].payloads[name].Key)
		}
	}
	for _, name := range []string{"sns-good", "sns-fail"} {
		want = append(want, evs["raw"].payloads[name].Key)
	}
	for _, name := range []string{"fifo-a1", "fifo-b2"} {
		if !deleted {
			want = append(want, evs["fifo"].payloads[name].Key)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		s.t.Errorf("payloads left (-want +got):\n%s", diff)
	}
}

// seenRecord and resultRecord are the lines internal/testhandler logs.
type seenRecord struct {
	MessageID     string            `json:"messageId"`
	BodySize      int               `json:"bodySize"`
	BodySHA256    string            `json:"bodySha256"`
	ReceiptHandle string            `json:"receiptHandle"`
	Attributes    map[string]string `json:"attributes"`
}

type resultRecord struct {
	MessageID string `json:"messageId"`
	Outcome   string `json:"outcome"`
	Code      string `json:"code,omitempty"`
}

func readLog(t *testing.T, path string) (map[string]seenRecord, map[string]resultRecord) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the function wrote no log: %v", err)
	}
	defer f.Close()
	seen, results := map[string]seenRecord{}, map[string]resultRecord{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e struct {
			Seen   *seenRecord   `json:"seen"`
			Result *resultRecord `json:"result"`
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		if e.Seen != nil {
			seen[e.Seen.MessageID] = *e.Seen
		}
		if e.Result != nil {
			results[e.Result.MessageID] = *e.Result
		}
	}
	return seen, results
}

var rieOnce struct {
	sync.Once
	path string
	err  error
}

// rieBinary returns the emulator's binary, installed with go install into
// $SQSX_SERVERS_HOME/bin, or $TMPDIR/sqsx-rie without it, and kept there for
// later runs.
func rieBinary(t *testing.T) string {
	t.Helper()
	rieOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sqsx-rie")
		if home := os.Getenv("SQSX_SERVERS_HOME"); home != "" {
			dir = filepath.Join(home, "bin")
		}
		rieOnce.path = filepath.Join(dir, "aws-lambda-rie-"+rieVersion)
		if _, err := os.Stat(rieOnce.path); err == nil {
			return
		}
		build, err := os.MkdirTemp("", "sqsx-rie-build-")
		if err != nil {
			rieOnce.err = err
			return
		}
		defer os.RemoveAll(build)
		cmd := exec.Command("go", "install", "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@"+rieVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+build, "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			rieOnce.err = fmt.Errorf("go install aws-lambda-rie@%s: %v\n%s", rieVersion, err, out)
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			rieOnce.err = err
			return
		}
		rieOnce.err = os.Rename(filepath.Join(build, "aws-lambda-rie"), rieOnce.path)
	})
	if rieOnce.err != nil {
		t.Fatal(rieOnce.err)
	}
	return rieOnce.path
}

// buildHandler builds internal/testhandler as a Lambda bootstrap binary.
func buildHandler(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-o", out, "github.com/sqsx/sqsx/sqsxlambda/internal/testhandler")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build testhandler: %v\n%s", err, b)
	}
	return out
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// syncBuffer is a bytes.Buffer safe for the emulator's two output streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// startRIE starts the emulator with the function bootstrap, on free
// 127.0.0.1 ports (it would bind 0.0.0.0:8080 otherwise), in a process
// group of its own, which it stops when t ends. It returns the invocation
// URL.
func startRIE(t *testing.T, rie, bootstrap string, env ...string) string {
	t.Helper()
	api, runtimeAPI := freePort(t), freePort(t)
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", "127.0.0.1:"+api,
		"--runtime-api-address", "127.0.0.1:"+runtimeAPI,
		bootstrap)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", rie, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// The group is the emulator and the function it started.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", out.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+api, time.Second)
		if err == nil {
			c.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("the emulator exited:\n%s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on 127.0.0.1:%s within 30s:\n%s", api, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://127.0.0.1:" + api + "/2015-03-31/functions/function/invocations"
}

// invoke posts event to the emulator as its JSON and returns the function's
// response; a function error fails t.
func invoke(t *testing.T, url string, event events.SQSEvent) events.SQSEventResponse {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 90 * time.Second}
	resp, err := client.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("invoking the function: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var fnErr struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if resp.StatusCode != http.StatusOK || (json.Unmarshal(b, &fnErr) == nil && fnErr.ErrorType != "") {
		t.Fatalf("the function failed: HTTP %d: %s", resp.StatusCode, b)
	}
	var out events.SQSEventResponse
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("the response %s is not an SQSEventResponse: %v", b, err)
	}
	return out
}
