//go:build interop

package interop

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// text returns a body of exactly n bytes: tag, then multi-byte UTF-8 text,
// padded with ASCII. Inline bodies use only characters of the Basic
// Multilingual Plane (fauxqs rejects the others in message bodies; real SQS
// accepts them); wide bodies, always offloaded, add 4-byte characters.
func text(tag string, n int, wide bool) string {
	unit := "größe ✓ 日本語 "
	if wide {
		unit = "größe ✓ 日本語 🚀 "
	}
	s := tag + ": " + strings.Repeat(unit, n/len(unit)+1)
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + strings.Repeat("x", n-len(s))
}

func str(s string) *string { return &s }

// attrs are the message attributes of the "attributes" cells.
func attrs(binary bool) map[string]Attribute {
	a := map[string]Attribute{
		"s": {Type: "String", String: str("héllo ✓ 日本")},
		"n": {Type: "Number", String: str("-12.5")},
	}
	if binary {
		a["b"] = Attribute{Type: "Binary", Binary: []byte{0, 1, 2, 0xfe, 0xff}}
	}
	return a
}

// newCell creates the queue and bucket of a cell and says what its producer
// sends and how its consumer receives.
func newCell(t *testing.T, env *testenv.Clients, producer, consumer, kind string) *cell {
	t.Helper()
	c := &cell{producer: producer, consumer: consumer, kind: kind, fifo: kind == "fifo", bucket: env.Bucket(t)}
	c.queue = env.Queue(t, c.fifo, nil)
	c.consumerJob = Job{DeadlineSeconds: 45}
	switch kind {
	case "large":
		c.sent = []Message{{Body: text("large", 300<<10, true)}}
	case "wire":
		c.sent = []Message{{Body: text("wire", 280000, true)}}
	case "small":
		c.sent = []Message{{Body: text("small", 1000, false)}}
	case "batch":
		c.batch = true
		// Five inline and five offloaded, one of them a byte over the
		// threshold; the inline ones together stay far below SQS's
		// batch limit, which the reference clients do not check.
		for i, n := range []int{10, threshold + 1, 100, 300 << 10, 1000, 270000, 5000, 400 << 10, 20000, 600 << 10} {
			c.sent = append(c.sent, Message{Body: text(fmt.Sprint("batch ", i), n, n > threshold)})
		}
	case "attributes":
		c.consumerJob.AttributeNames = []string{"All"}
		c.sent = []Message{
			{Body: text("attrs small binary", 200, false), Attributes: attrs(true)},
			{Body: text("attrs large binary", 300<<10, true), Attributes: attrs(true)},
			{Body: text("attrs small", 200, false), Attributes: attrs(false)},
			{Body: text("attrs large", 300<<10, true), Attributes: attrs(false)},
		}
	case "fifo":
		// Group g1 gets an inline then an offloaded message, g2 one
		// offloaded message; the last send repeats d2's deduplication id
		// and must be dropped.
		c.consumerJob.DeleteEach = true
		c.consumerJob.Count = 3
		c.sent = []Message{
			{Body: text("fifo d1", 500, false), GroupID: str("g1"), DedupID: str("d1")},
			{Body: text("fifo d2", 300<<10, true), GroupID: str("g1"), DedupID: str("d2")},
			{Body: text("fifo d3", 280000, true), GroupID: str("g2"), DedupID: str("d3")},
			{Body: text("fifo duplicate of d2", 290000, true), GroupID: str("g1"), DedupID: str("d2")},
		}
	case "delete":
		c.consumerJob.VisibilityCheck = true
		c.consumerJob.RedeliverSeconds = 5
		c.sent = []Message{{Body: text("delete", 300<<10, true)}}
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	return c
}

// newSNSCell creates a topic whose SQS subscription has raw message
// delivery, for the Java SNS client to publish to and sqsx to consume from.
func newSNSCell(t *testing.T, env *testenv.Clients) *cell {
	t.Helper()
	ctx := context.Background()
	c := &cell{producer: "java-sns", consumer: "sqsx", kind: "sns", bucket: env.Bucket(t)}
	c.queue = env.Queue(t, false, nil)
	topic, err := env.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(testenv.Name("sqsx-topic"))})
	if err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	t.Cleanup(func() { env.SNS.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic.TopicArn}) })
	qa, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(c.queue), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	if _, err := env.SNS.Subscribe(ctx, &sns.SubscribeInput{
		TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(qa.Attributes["QueueArn"]),
		Attributes: map[string]string{"RawMessageDelivery": "true"},
	}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	c.sent = []Message{
		{Body: text("sns large", 300<<10, true), Attributes: attrs(false)},
		{Body: text("sns small", 300, false), Attributes: attrs(false)},
	}
	c.consumerJob = Job{TopicARN: aws.ToString(topic.TopicArn), AttributeNames: []string{"All"}, DeadlineSeconds: 45}
	return c
}

// objects returns the contents of a bucket: key -> content.
func objects(ctx context.Context, t *testing.T, env *testenv.Clients, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, k := range env.Keys(t, bucket) {
		o, err := env.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
		if err != nil {
			t.Fatalf("GetObject %s/%s: %v", bucket, k, err)
		}
		b, err := io.ReadAll(o.Body)
		o.Body.Close()
		if err != nil {
			t.Fatalf("GetObject %s/%s: %v", bucket, k, err)
		}
		out[k] = string(b)
	}
	return out
}

// queueDepth returns the number of messages in a queue, visible or not.
func queueDepth(ctx context.Context, env *testenv.Clients, queue string) (int, error) {
	out, err := env.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queue),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
	} {
		v, err := strconv.Atoi(out.Attributes[string(name)])
		if err != nil {
			return 0, fmt.Errorf("queue attribute %s: %v", name, err)
		}
		n += v
	}
	return n, nil
}

// countSent is the number of distinct messages a consumer should receive.
func countSent(r Result) int {
	n := 0
	for _, m := range r.Messages {
		if m.Error == "" {
			n++
		}
	}
	return n
}

// size is a message's size as every peer computes it for the threshold.
func size(m Message) int {
	n := len(m.Body)
	for name, a := range m.Attributes {
		n += len(name) + len(a.Type) + len(aws.ToString(a.String)) + len(a.Binary)
	}
	return n
}

func offloaded(m Message) bool { return size(m) > threshold }

// pyBinaryFails: the Python client cannot send a message with a Binary
// attribute (limitation P1).
func pyBinaryFails(c *cell, m Message) bool {
	if c.producer != "python" {
		return false
	}
	for _, a := range m.Attributes {
		if a.Binary != nil {
			return true
		}
	}
	return false
}

// unresolved: a default Python consumer that does not ask for all message
// attributes does not see the legacy attribute that the default Java
// producer writes, and hands back the pointer (limitation P2).
func unresolved(c *cell, m Message) bool {
	return c.consumer == "python" && c.producer == "java-default" && offloaded(m) &&
		!slices.Contains(c.consumerJob.AttributeNames, "All")
}

// badHandle: the Python consumer cuts the original receipt handle out of its
// rewritten one at the last '-', which breaks on handles that contain '-'
// (fauxqs's do; moto's do not), so its DeleteMessage and
// ChangeMessageVisibility of a resolved message miss it (limitation P3).
func badHandle(c *cell, m Message) bool {
	if c.consumer != "python" || !offloaded(m) || unresolved(c, m) {
		return false
	}
	for _, g := range c.consumed.Messages {
		if g.MessageID == m.MessageID {
			h, err := payload.ParseReceiptHandle(g.ReceiptHandle)
			return err == nil && strings.Contains(h.Original, "-")
		}
	}
	return false
}

// javaPointer is the pointer body as Java and sqsx write it.
func javaPointer(bucket, key string) string {
	return fmt.Sprintf(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":%q,"s3Key":%q}]`, bucket, key)
}

// short shows a body in a failure message.
func short(s string) string {
	if len(s) <= 80 {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:60], len(s))
}

// checkProduced checks the producer's result and the bucket after producing,
// and returns the messages the consumer should get, each with its message id.
func checkProduced(t *testing.T, c *cell) []Message {
	t.Helper()
	if c.produced.Error != "" {
		t.Fatalf("producer %s failed: %s", c.producer, c.produced.Error)
	}
	if len(c.produced.Messages) != len(c.sent) {
		t.Fatalf("expect %d producer results, got %d", len(c.sent), len(c.produced.Messages))
	}
	var want []Message
	var payloads []string
	for i, m := range c.sent {
		r := c.produced.Messages[i]
		if pyBinaryFails(c, m) {
			if !strings.Contains(r.Error, pyBinaryError) {
				t.Errorf("message %d: expect the Python client to fail with %q (limitation P1), got %+v", i, pyBinaryError, r)
			}
			continue
		}
		if r.Error != "" || r.MessageID == "" {
			t.Fatalf("message %d: expect it sent, got error %q", i, r.Error)
		}
		if offloaded(m) {
			payloads = append(payloads, m.Body)
		}
		if c.kind == "fifo" && i == 3 {
			continue // the duplicate, never delivered
		}
		m.MessageID = r.MessageID
		want = append(want, m)
	}
	got := slices.Collect(maps.Values(c.objects))
	slices.Sort(got)
	slices.Sort(payloads)
	if !slices.Equal(got, payloads) {
		t.Fatalf("expect the bucket to hold exactly the %d offloaded bodies, got %d objects (%d match)",
			len(payloads), len(got), len(intersect(got, payloads)))
	}
	return want
}

func intersect(a, b []string) []string {
	var out []string
	for _, s := range a {
		if slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// checkMessage compares a received message with what was sent.
func checkMessage(t *testing.T, c *cell, want Message, got Message) {
	t.Helper()
	if unresolved(c, want) {
		key := ""
		for k, v := range c.objects {
			if v == want.Body {
				key = k
			}
		}
		if exp := javaPointer(c.bucket, key); got.Body != exp {
			t.Errorf("message %s: expect the unresolved pointer %s (limitation P2), got %s", want.MessageID, exp, short(got.Body))
		}
		if len(got.Attributes) != 0 {
			t.Errorf("message %s: expect no attributes, got %v", want.MessageID, got.Attributes)
		}
		return
	}
	if got.Body != want.Body {
		t.Errorf("message %s: expect body %s, got %s", want.MessageID, short(want.Body), short(got.Body))
	}
	if !equalAttrs(want.Attributes, got.Attributes) {
		t.Errorf("message %s: expect attributes %s, got %s", want.MessageID, fmtAttrs(want.Attributes), fmtAttrs(got.Attributes))
	}
}

func equalAttrs(a, b map[string]Attribute) bool {
	return maps.EqualFunc(a, b, func(x, y Attribute) bool {
		return x.Type == y.Type && aws.ToString(x.String) == aws.ToString(y.String) &&
			(x.String == nil) == (y.String == nil) && bytes.Equal(x.Binary, y.Binary)
	})
}

func fmtAttrs(m map[string]Attribute) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		a := m[k]
		v := aws.ToString(a.String)
		if a.Binary != nil {
			v = fmt.Sprintf("%x", a.Binary)
		}
		parts = append(parts, fmt.Sprintf("%s=%s:%s", k, a.Type, v))
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// checkCell checks one cell of the matrix.
func checkCell(t *testing.T, c *cell) {
	want := checkProduced(t, c)
	if c.consumed.Error != "" {
		t.Fatalf("consumer %s failed: %s", c.consumer, c.consumed.Error)
	}
	got := map[string]Message{}
	var order []string
	for _, m := range c.consumed.Messages {
		got[m.MessageID] = m
		order = append(order, m.MessageID)
	}
	if len(got) != len(want) {
		t.Fatalf("expect %d messages, got %d", len(want), len(got))
	}
	for _, w := range want {
		g, ok := got[w.MessageID]
		if !ok {
			t.Fatalf("expect message %s, got ids %v", w.MessageID, order)
		}
		checkMessage(t, c, w, g)
		if c.fifo && (aws.ToString(g.GroupID) != aws.ToString(w.GroupID) || aws.ToString(g.DedupID) != aws.ToString(w.DedupID)) {
			t.Errorf("message %s: expect group %s, dedup id %s, got %s, %s", w.MessageID,
				aws.ToString(w.GroupID), aws.ToString(w.DedupID), aws.ToString(g.GroupID), aws.ToString(g.DedupID))
		}
	}
	if c.queueAfterOK != nil {
		t.Fatalf("reading the queue depth: %v", c.queueAfterOK)
	}
	switch c.kind {
	case "fifo":
		if i1, i2 := slices.Index(order, want[0].MessageID), slices.Index(order, want[1].MessageID); i1 > i2 {
			t.Errorf("expect d1 before d2 (group g1), got order %v", order)
		}
		if c.consumed.Extra == nil || *c.consumed.Extra != 0 {
			t.Errorf("expect no further message (the duplicate is dropped), got %v", c.consumed.Extra)
		}
		left := 0
		for _, w := range want {
			if badHandle(c, w) {
				left++
			}
		}
		if c.queueAfter != left {
			t.Errorf("expect %d messages left in the queue after deleting all, got %d", left, c.queueAfter)
		}
	case "delete":
		checkDelete(t, c, want[0])
	}
}

// checkDelete checks a consumer's ChangeMessageVisibility and DeleteMessage
// with its own receipt handles.
func checkDelete(t *testing.T, c *cell, want Message) {
	t.Helper()
	v := c.consumed.Visibility
	if v == nil {
		t.Fatal("expect a visibility check result, got none")
	}
	if v.DeleteError != "" {
		t.Errorf("expect DeleteMessage to succeed, got %s", v.DeleteError)
	}
	if badHandle(c, want) {
		// Limitation P3: both calls send a fragment of the handle. fauxqs
		// refuses the visibility change and silently ignores the delete;
		// the payload is deleted first, so the message stays without it.
		if !strings.Contains(v.ChangeError, fauxqsStaleHandle) {
			t.Errorf("expect ChangeMessageVisibility to fail with %s (limitation P3), got %q", fauxqsStaleHandle, v.ChangeError)
		}
		if v.Redelivered != nil {
			t.Errorf("expect no redelivery (limitation P3), got %s", v.Redelivered.MessageID)
		}
		if len(c.keysAfter) != 0 {
			t.Errorf("expect the payload deleted, got %v", c.keysAfter)
		}
		if c.queueAfter != 1 {
			t.Errorf("expect the message still in the queue (limitation P3), got %d messages", c.queueAfter)
		}
		return
	}
	if v.ChangeError != "" {
		t.Errorf("expect ChangeMessageVisibility to succeed, got %s", v.ChangeError)
	}
	if v.Redelivered == nil {
		t.Errorf("expect the message visible again at once after ChangeMessageVisibility(0), got no redelivery within %d s", c.consumerJob.RedeliverSeconds)
	} else {
		checkMessage(t, c, want, *v.Redelivered)
	}
	if c.queueAfter != 0 {
		t.Errorf("expect an empty queue after DeleteMessage, got %d messages", c.queueAfter)
	}
	wantKeys := 0
	if unresolved(c, want) {
		wantKeys = 1 // limitation P2: the consumer does not know there is a payload
	}
	if len(c.keysAfter) != wantKeys {
		t.Errorf("expect %d objects left in the bucket after DeleteMessage, got %v", wantKeys, c.keysAfter)
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// checkWire checks the raw message and object that a producer writes.
func checkWire(t *testing.T, c *cell, raw types.Message) {
	checkProduced(t, c)
	if raw.MessageId == nil {
		t.Fatal("expect a raw message in the queue, got none")
	}
	if len(c.objects) != 1 {
		t.Fatalf("expect 1 object, got %d", len(c.objects))
	}
	key := slices.Collect(maps.Keys(c.objects))[0]
	if !uuidV4.MatchString(key) {
		t.Errorf("expect a UUID v4 key, got %q", key)
	}
	wantBody, wantAttr := javaPointer(c.bucket, key), sqsx.AttributeName
	switch c.producer {
	case "java-default":
		wantAttr = sqsx.LegacyAttributeName
	case "python":
		wantBody = fmt.Sprintf(`["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": %q, "s3Key": %q}]`, c.bucket, key)
	}
	if aws.ToString(raw.Body) != wantBody {
		t.Errorf("expect body %s, got %s", wantBody, aws.ToString(raw.Body))
	}
	wantSize := strconv.Itoa(len(c.sent[0].Body))
	a, ok := raw.MessageAttributes[wantAttr]
	if !ok || len(raw.MessageAttributes) != 1 || aws.ToString(a.DataType) != "Number" || aws.ToString(a.StringValue) != wantSize {
		t.Errorf("expect only %s=Number:%s, got %v", wantAttr, wantSize, fmtSQSAttrs(raw.MessageAttributes))
	}
}

func fmtSQSAttrs(m map[string]types.MessageAttributeValue) string {
	out := map[string]Attribute{}
	for k, v := range m {
		out[k] = Attribute{Type: aws.ToString(v.DataType), String: v.StringValue, Binary: v.BinaryValue}
	}
	return fmtAttrs(out)
}

// checkSNS checks the Java SNS publisher -> raw delivery -> sqsx cell. SNS
// message ids are not SQS message ids, so messages are matched by body.
func checkSNS(t *testing.T, c *cell) {
	want := checkProduced(t, c)
	if c.consumed.Error != "" {
		t.Fatalf("consumer failed: %s", c.consumed.Error)
	}
	if len(c.consumed.Messages) != len(want) {
		t.Fatalf("expect %d messages, got %d", len(want), len(c.consumed.Messages))
	}
	for _, w := range want {
		i := slices.IndexFunc(c.consumed.Messages, func(m Message) bool { return m.Body == w.Body })
		if i < 0 {
			t.Errorf("expect a message with body %s, got none", short(w.Body))
			continue
		}
		if g := c.consumed.Messages[i]; !equalAttrs(w.Attributes, g.Attributes) {
			t.Errorf("expect attributes %s, got %s", fmtAttrs(w.Attributes), fmtAttrs(g.Attributes))
		}
	}
}
