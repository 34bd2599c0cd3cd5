package sqsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// sendEntry returns a batch entry with the given id and body.
func sendEntry(id, body string) types.SendMessageBatchRequestEntry {
	return types.SendMessageBatchRequestEntry{Id: aws.String(id), MessageBody: aws.String(body)}
}

// sentBatch returns the input of the only SendMessageBatch call.
func (e *testEnv) sentBatch(t *testing.T) *sqs.SendMessageBatchInput {
	t.Helper()
	ins := sqsxtest.Params[*sqs.SendMessageBatchInput](e.log)
	if len(ins) != 1 {
		t.Fatalf("expect 1 SendMessageBatch call, got %v", len(ins))
	}
	return ins[0]
}

// offloadedIDs returns the ids of the sent entries that carry a pointer, and
// checks each pointer's object holds want[id].
func (e *testEnv) offloadedIDs(t *testing.T, in *sqs.SendMessageBatchInput, want map[string]string) []string {
	t.Helper()
	var ids []string
	for _, s := range in.Entries {
		id := aws.ToString(s.Id)
		attr, ok := s.MessageAttributes[AttributeName]
		if !ok {
			if got := aws.ToString(s.MessageBody); got != want[id] {
				t.Errorf("entry %v: expect the body sent as it is", id)
			}
			continue
		}
		ids = append(ids, id)
		p, err := payload.DecodePointer(aws.ToString(s.MessageBody))
		if err != nil {
			t.Errorf("entry %v: expect a pointer body, got %v", id, err)
			continue
		}
		obj, ok := e.s3.Object(p.Bucket, p.Key)
		if !ok || string(obj) != want[id] {
			t.Errorf("entry %v: expect its object to hold the body", id)
		}
		if got := aws.ToString(attr.StringValue); got != itoa(len(want[id])) {
			t.Errorf("entry %v: expect size %v, got %v", id, len(want[id]), got)
		}
	}
	slices.Sort(ids)
	return ids
}

func successfulIDs(out *sqs.SendMessageBatchOutput) []string {
	var ids []string
	for _, s := range out.Successful {
		ids = append(ids, aws.ToString(s.Id))
	}
	slices.Sort(ids)
	return ids
}

func wireSize(in *sqs.SendMessageBatchInput) int {
	n := 0
	for _, e := range in.Entries {
		n += len(aws.ToString(e.MessageBody))
		for name, v := range e.MessageAttributes {
			n += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
		}
	}
	return n
}

func TestSendMessageBatchFitsBatchLimit(t *testing.T) {
	cases := map[string]struct {
		size func(i int) int
	}{
		"equal sizes": {
			size: func(int) int { return 200 * 1024 },
		},
		"largest offloaded first": {
			size: func(i int) int { return 200*1024 + (i*7)%10*10 }, // all different, not in order
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL)}
			bodies := map[string]string{}
			type sized struct {
				id   string
				size int
			}
			var bySize []sized
			for i := range 10 {
				id := "m" + itoa(i)
				bodies[id] = strings.Repeat(string(rune('a'+i)), tc.size(i))
				in.Entries = append(in.Entries, sendEntry(id, bodies[id]))
				bySize = append(bySize, sized{id, tc.size(i)})
			}
			out, err := e.client.SendMessageBatch(context.Background(), in)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if len(out.Failed) != 0 || len(out.Successful) != 10 {
				t.Fatalf("expect 10 sent, got %v sent and %v failed: %+v", len(out.Successful), len(out.Failed), out.Failed)
			}
			if got := e.log.Count("PutObject"); got != 5 {
				t.Errorf("expect exactly 5 uploads, got %v", got)
			}
			sent := e.sentBatch(t)
			if n := wireSize(sent); n > 1048576 {
				t.Errorf("expect the batch to fit 1048576 bytes, got %v", n)
			}
			offloaded := e.offloadedIDs(t, sent, bodies)
			if name == "largest offloaded first" {
				slices.SortStableFunc(bySize, func(a, b sized) int { return b.size - a.size })
				var want []string
				for _, s := range bySize[:5] {
					want = append(want, s.id)
				}
				slices.Sort(want)
				if diff := cmp.Diff(want, offloaded); diff != "" {
					t.Errorf("expect the 5 largest offloaded (-want +got):\n%s", diff)
				}
			}
			if got := e.sqs.Len(testQueueURL); got != 10 {
				t.Errorf("expect 10 messages in the queue, got %v", got)
			}
		})
	}
}

func TestSendMessageBatchOffloadsEntriesAboveThreshold(t *testing.T) {
	e := newTestEnv(t)
	bodies := map[string]string{"small": "hello", "large": strings.Repeat("x", 262145), "edge": strings.Repeat("y", 262144)}
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{
		sendEntry("small", bodies["small"]), sendEntry("large", bodies["large"]), sendEntry("edge", bodies["edge"]),
	}}
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff([]string{"edge", "large", "small"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	e.expectCalls(t, "PutObject", "SendMessageBatch")
	if diff := cmp.Diff([]string{"large"}, e.offloadedIDs(t, e.sentBatch(t), bodies)); diff != "" {
		t.Errorf("offloaded mismatch (-want +got):\n%s", diff)
	}
}

func TestSendMessageBatchAlwaysThroughS3(t *testing.T) {
	e := newTestEnv(t, func(o *Options) { o.AlwaysThroughS3 = true })
	bodies := map[string]string{"a": "1", "b": "22"}
	out, err := e.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{sendEntry("a", "1"), sendEntry("b", "22")},
	})
	if err != nil || len(out.Successful) != 2 {
		t.Fatalf("expect 2 sent, got %+v, %v", out, err)
	}
	if diff := cmp.Diff([]string{"a", "b"}, e.offloadedIDs(t, e.sentBatch(t), bodies)); diff != "" {
		t.Errorf("offloaded mismatch (-want +got):\n%s", diff)
	}
}

func TestSendMessageBatchInvalidEntries(t *testing.T) {
	large := strings.Repeat("x", 300000)
	cases := map[string]struct {
		opts func(*Options)
		bad  types.SendMessageBatchRequestEntry
		code string
	}{
		"reserved attribute": {
			bad: types.SendMessageBatchRequestEntry{MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"SQSLargePayloadSize": numberAttr(1)}},
			code: CodeReservedAttribute,
		},
		"empty body": {
			bad:  types.SendMessageBatchRequestEntry{MessageBody: aws.String("")},
			code: CodeEmptyMessageBody,
		},
		"nil body": {
			bad:  types.SendMessageBatchRequestEntry{},
			code: CodeEmptyMessageBody,
		},
		"too many attributes to offload": {
			bad:  types.SendMessageBatchRequestEntry{MessageBody: aws.String(large), MessageAttributes: nAttrs(10)},
			code: CodeTooManyAttributes,
		},
		"attributes too large": {
			opts: func(o *Options) { o.Threshold = 1000 },
			bad: types.SendMessageBatchRequestEntry{MessageBody: aws.String("x"),
				MessageAttributes: map[string]types.MessageAttributeValue{"big": stringAttr(strings.Repeat("v", 1000))}},
			code: CodeAttributesTooLarge,
		},
		"no bucket": {
			opts: func(o *Options) { o.Bucket = "" },
			bad:  types.SendMessageBatchRequestEntry{MessageBody: aws.String(large)},
			code: CodeNoBucket,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var opts []func(*Options)
			if tc.opts != nil {
				opts = append(opts, tc.opts)
			}
			e := newTestEnv(t, opts...)
			bad := tc.bad
			bad.Id = aws.String("bad")
			in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{
				sendEntry("first", "one"), bad, sendEntry("last", "three"),
			}}
			out, err := e.client.SendMessageBatch(context.Background(), in)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if diff := cmp.Diff([]string{"first", "last"}, successfulIDs(out)); diff != "" {
				t.Errorf("successful mismatch (-want +got):\n%s", diff)
			}
			if len(out.Failed) != 1 {
				t.Fatalf("expect 1 failed entry, got %+v", out.Failed)
			}
			f := out.Failed[0]
			if aws.ToString(f.Id) != "bad" || aws.ToString(f.Code) != tc.code || !f.SenderFault || aws.ToString(f.Message) == "" {
				t.Errorf("expect Failed{Id: bad, Code: %v, SenderFault: true, Message}, got {%v %v %v %q}",
					tc.code, aws.ToString(f.Id), aws.ToString(f.Code), f.SenderFault, aws.ToString(f.Message))
			}
			e.expectCalls(t, "SendMessageBatch")
			if got := len(e.sentBatch(t).Entries); got != 2 {
				t.Errorf("expect 2 entries sent, got %v", got)
			}
		})
	}
}

func TestSendMessageBatchAllEntriesInvalid(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{sendEntry("a", ""), sendEntry("b", "")},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Failed) != 2 || len(out.Successful) != 0 {
		t.Errorf("expect 2 failed entries, got %+v", out)
	}
	e.expectCalls(t)
}

// threeLarge returns a batch of three offloaded entries a, b, c with bodies
// of different lengths.
func threeLarge() (*sqs.SendMessageBatchInput, map[string]string) {
	bodies := map[string]string{
		"a": strings.Repeat("a", 300001),
		"b": strings.Repeat("b", 300002),
		"c": strings.Repeat("c", 300003),
	}
	return &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{
		sendEntry("a", bodies["a"]), sendEntry("b", bodies["b"]), sendEntry("c", bodies["c"]),
	}}, bodies
}

func TestSendMessageBatchUploadFailure(t *testing.T) {
	e := newTestEnv(t)
	in, bodies := threeLarge()
	e.s3.PutObjectFn = func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		if aws.ToInt64(in.ContentLength) == int64(len(bodies["b"])) {
			// A definite refusal: nothing stored, nothing to undo.
			return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "upload broke", Fault: smithy.FaultClient}
		}
		return nil, nil
	}
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff([]string{"a", "c"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	if len(out.Failed) != 1 {
		t.Fatalf("expect 1 failed entry, got %+v", out.Failed)
	}
	f := out.Failed[0]
	if aws.ToString(f.Id) != "b" || aws.ToString(f.Code) != CodePayloadUploadFailed || f.SenderFault {
		t.Errorf("expect Failed{Id: b, Code: %v, SenderFault: false}, got {%v %v %v}",
			CodePayloadUploadFailed, aws.ToString(f.Id), aws.ToString(f.Code), f.SenderFault)
	}
	if !strings.Contains(aws.ToString(f.Message), "upload broke") {
		t.Errorf("expect the cause in the message, got %q", aws.ToString(f.Message))
	}
	e.expectCalls(t, "PutObject", "PutObject", "PutObject", "SendMessageBatch")
	e.expectObjects(t, 2)
	if diff := cmp.Diff([]string{"a", "c"}, e.offloadedIDs(t, e.sentBatch(t), bodies)); diff != "" {
		t.Errorf("offloaded mismatch (-want +got):\n%s", diff)
	}
}

func TestSendMessageBatchSQSFailedEntryDeletesPayload(t *testing.T) {
	e := newTestEnv(t)
	in, bodies := threeLarge()
	var bKey string
	e.sqs.SendMessageBatchFn = func(in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		out := &sqs.SendMessageBatchOutput{}
		for _, en := range in.Entries {
			if aws.ToString(en.Id) == "b" {
				p, _ := payload.DecodePointer(aws.ToString(en.MessageBody))
				bKey = p.Key
				out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: en.Id, Code: aws.String("InternalError")})
				continue
			}
			out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: en.Id, MessageId: aws.String("id-" + *en.Id)})
		}
		return out, nil
	}
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "b" || aws.ToString(out.Failed[0].Code) != "InternalError" {
		t.Errorf("expect SQS's failed entry b returned, got %+v", out.Failed)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PutObject", "SendMessageBatch", "DeleteObject")
	e.expectObjects(t, 2)
	if _, ok := e.s3.Object(testBucket, bKey); ok || bKey == "" {
		t.Errorf("expect b's object %q deleted", bKey)
	}
	for _, id := range []string{"a", "c"} {
		kept := false
		for _, k := range e.s3.Keys() {
			obj, _ := e.s3.Object(testBucket, strings.TrimPrefix(k, testBucket+"/"))
			kept = kept || string(obj) == bodies[id]
		}
		if !kept {
			t.Errorf("expect %v's object kept", id)
		}
	}
}

func TestSendMessageBatchSQSErrorDeletesAllPayloads(t *testing.T) {
	e := newTestEnv(t)
	in, _ := threeLarge()
	injected := &types.BatchRequestTooLong{Message: aws.String("too long")}
	e.sqs.SendMessageBatchFn = func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) { return nil, injected }
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if out != nil {
		t.Errorf("expect nil output, got %+v", out)
	}
	var got *types.BatchRequestTooLong
	if !errors.As(err, &got) || got != injected {
		t.Errorf("expect the injected error, got %T %v", err, err)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PutObject", "SendMessageBatch", "DeleteObjects")
	e.expectObjects(t, 0)
}

func TestSendMessageBatchMalformedRequestPassedThrough(t *testing.T) {
	large := strings.Repeat("x", 300000)
	eleven := make([]types.SendMessageBatchRequestEntry, 11)
	for i := range eleven {
		eleven[i] = sendEntry("m"+itoa(i), large)
	}
	cases := map[string]struct {
		in     *sqs.SendMessageBatchInput
		target any
	}{
		"no entries":    {&sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL)}, new(*types.EmptyBatchRequest)},
		"empty entries": {&sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{}}, new(*types.EmptyBatchRequest)},
		"11 entries":    {&sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: eleven}, new(*types.TooManyEntriesInBatchRequest)},
		"duplicate ids": {&sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL), Entries: []types.SendMessageBatchRequestEntry{
			sendEntry("a", large), sendEntry("b", "x"), sendEntry("a", large),
		}}, new(*types.BatchEntryIdsNotDistinct)},
		"nil params": {nil, new(*types.QueueDoesNotExist)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			var before *sqs.SendMessageBatchInput
			if tc.in != nil {
				before = deepCopy(t, tc.in)
			}
			out, err := e.client.SendMessageBatch(context.Background(), tc.in)
			if out != nil || !errors.As(err, tc.target) {
				t.Errorf("expect SQS's %T, got %v, %T %v", tc.target, out, err, err)
			}
			e.expectCalls(t, "SendMessageBatch")
			if got := e.sentBatchOrNil(); got != tc.in {
				t.Errorf("expect the caller's params passed through unchanged")
			}
			if tc.in != nil {
				expectUnchanged(t, before, tc.in)
			}
			e.expectObjects(t, 0)
		})
	}
}

func (e *testEnv) sentBatchOrNil() *sqs.SendMessageBatchInput {
	for _, c := range e.log.Records() {
		if c.Op == "SendMessageBatch" {
			in, _ := c.Params.(*sqs.SendMessageBatchInput)
			return in
		}
	}
	return nil
}

func TestSendMessageBatchDoesNotModifyInput(t *testing.T) {
	e := newTestEnv(t)
	e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": "true"})
	entries := []types.SendMessageBatchRequestEntry{
		{Id: aws.String("big"), MessageBody: aws.String(strings.Repeat("x", 300000)), MessageGroupId: aws.String("g"),
			MessageAttributes: map[string]types.MessageAttributeValue{"a": stringAttr("1")}},
		{Id: aws.String("fill1"), MessageBody: aws.String(strings.Repeat("y", 250000)), MessageGroupId: aws.String("g"),
			MessageAttributes: map[string]types.MessageAttributeValue{"b": stringAttr("2")}},
		{Id: aws.String("fill2"), MessageBody: aws.String(strings.Repeat("y", 250001)), MessageGroupId: aws.String("g")},
		{Id: aws.String("fill3"), MessageBody: aws.String(strings.Repeat("y", 250002)), MessageGroupId: aws.String("g")},
		{Id: aws.String("fill4"), MessageBody: aws.String(strings.Repeat("y", 250003)), MessageGroupId: aws.String("g")},
		{Id: aws.String("fill5"), MessageBody: aws.String(strings.Repeat("y", 250004)), MessageGroupId: aws.String("g")},
		{Id: aws.String("bad"), MessageBody: aws.String(""), MessageGroupId: aws.String("g")},
	}
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testFIFOURL), Entries: entries}
	before := deepCopy(t, in)
	bodyPtr, attrs := entries[0].MessageBody, entries[0].MessageAttributes
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if err != nil || len(out.Successful) != 6 {
		t.Fatalf("expect 6 sent, got %+v, %v", out, err)
	}
	if got := e.log.Count("PutObject"); got != 2 {
		t.Errorf("expect 2 uploads (above threshold, then largest to fit), got %v", got)
	}
	expectUnchanged(t, before, in)
	if in.Entries[0].MessageBody != bodyPtr || len(attrs) != 1 || in.Entries[0].MessageDeduplicationId != nil {
		t.Errorf("expect the caller's entries untouched")
	}
}

func TestSendMessageBatchFIFOContentDeduplication(t *testing.T) {
	e := newTestEnv(t)
	e.sqs.SetAttributes(testFIFOURL, map[string]string{"ContentBasedDeduplication": "true"})
	large := strings.Repeat("x", 300000)
	sum := sha256.Sum256([]byte(large))
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testFIFOURL), Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("big"), MessageBody: aws.String(large), MessageGroupId: aws.String("g")},
		{Id: aws.String("given"), MessageBody: aws.String(large + "!"), MessageGroupId: aws.String("g"), MessageDeduplicationId: aws.String("mine")},
		{Id: aws.String("small"), MessageBody: aws.String("small"), MessageGroupId: aws.String("g")},
	}}
	if _, err := e.client.SendMessageBatch(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	want := map[string]string{"big": hex.EncodeToString(sum[:]), "given": "mine", "small": ""}
	for _, en := range e.sentBatch(t).Entries {
		if got := aws.ToString(en.MessageDeduplicationId); got != want[aws.ToString(en.Id)] {
			t.Errorf("entry %v: expect MessageDeduplicationId %q, got %q", aws.ToString(en.Id), want[aws.ToString(en.Id)], got)
		}
	}
}

func TestSendMessageBatchConcurrency(t *testing.T) {
	cases := map[string]struct {
		concurrency int
		want        int
	}{
		"bounded by Concurrency": {2, 2},
		"one at a time":          {1, 1},
		"default":                {0, DefaultConcurrency},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, func(o *Options) { o.Concurrency = tc.concurrency; o.AlwaysThroughS3 = true })
			g := &gate{want: tc.want}
			e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
				g.pass()
				return nil, nil
			}
			in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(testQueueURL)}
			for i := range 10 {
				in.Entries = append(in.Entries, sendEntry("m"+itoa(i), "body"))
			}
			out, err := e.client.SendMessageBatch(context.Background(), in)
			if err != nil || len(out.Successful) != 10 {
				t.Fatalf("expect 10 sent, got %+v, %v", out, err)
			}
			if got := g.maxSeen(); got != tc.want {
				t.Errorf("expect at most and at best %v uploads at once, got %v", tc.want, got)
			}
		})
	}
}

func TestSendMessageBatchContextCanceled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		in, _ := threeLarge()
		out, err := e.client.SendMessageBatch(ctx, in)
		if out != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("expect nil output and context.Canceled, got %v, %v", out, err)
		}
		e.expectObjects(t, 0)
		if e.log.Count("SendMessageBatch") != 0 {
			t.Errorf("expect no SendMessageBatch call")
		}
	})
	t.Run("during the uploads", func(t *testing.T) {
		e := newTestEnv(t, func(o *Options) { o.Concurrency = 1 })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
			cancel() // the first upload succeeds, the others see the cancelled context
			return nil, nil
		}
		in, _ := threeLarge()
		out, err := e.client.SendMessageBatch(ctx, in)
		if out != nil || !errors.Is(err, context.Canceled) {
			t.Errorf("expect nil output and context.Canceled, got %v, %v", out, err)
		}
		// The later uploads are not tried; the one made is deleted, as no
		// message was sent.
		e.expectCalls(t, "PutObject", "DeleteObject")
		e.expectObjects(t, 0)
	})
	t.Run("during the send", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.sqs.SendMessageBatchFn = func(*sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
			cancel()
			return nil, ctx.Err()
		}
		in, _ := threeLarge()
		_, err := e.client.SendMessageBatch(ctx, in)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("expect context.Canceled, got %v", err)
		}
		// SQS may have taken the batch before the cancellation cut the
		// answer off: the payloads stay, and the error names them.
		var ke *payload.KeptError
		if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 3 {
			t.Errorf("expect a KeptError naming the 3 payloads, got %v", err)
		}
		e.expectCalls(t, "PutObject", "PutObject", "PutObject", "SendMessageBatch")
		e.expectObjects(t, 3)
	})
}

func TestSendMessageBatchOptFnsPassedThrough(t *testing.T) {
	e := newTestEnv(t)
	in, _ := threeLarge()
	_, err := e.client.SendMessageBatch(context.Background(), in, func(o *sqs.Options) { o.Region = "sqs-region" })
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range e.log.Records() {
		if c.Op != "SendMessageBatch" {
			continue
		}
		// The caller's, the library's own that watches the attempts and
		// that keeps a garbled answer from panicking the SDK
		// (dropResultsWithoutID), and the user-agent key.
		if o := c.Options.(sqs.Options); c.OptFns != 4 || o.Region != "sqs-region" {
			t.Errorf("expect the optFn passed through, got %v (region %q)", c.OptFns, o.Region)
		}
	}
}

// TestSendMessageBatchWireSizeChecked: an entry whose attributes leave no room
// for the pointer fails alone, before any upload.
func TestSendMessageBatchWireSizeChecked(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(testQueueURL),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("fat"), MessageBody: aws.String(strings.Repeat("x", 1000)),
				MessageAttributes: map[string]types.MessageAttributeValue{"big": stringAttr(strings.Repeat("v", DefaultThreshold-100))}},
			{Id: aws.String("ok"), MessageBody: aws.String("small")},
		},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Successful) != 1 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != CodeAttributesTooLarge {
		t.Fatalf("expect 1 sent and 1 %s failure, got %+v", CodeAttributesTooLarge, out)
	}
	if got := e.log.Count("PutObject"); got != 0 {
		t.Errorf("expect no upload, got %v", got)
	}
}

// TestSendMessageBatchGarbledAnswer: one changed bit can turn the id of a
// failed entry into that of a sent one, so that the answer names the sent
// entry as both sent and failed, and the failed one as neither. Discarding
// the first's payload would leave its message without one; taking the
// second for sent would lose it. Both payloads are kept; the first stays a
// Failed entry and the second becomes one (CodeEntryResultMissing), so
// that the caller sends both again.
func TestSendMessageBatchGarbledAnswer(t *testing.T) {
	e := newTestEnv(t)
	in, _ := threeLarge()
	e.sqs.SendMessageBatchFn = func(in *sqs.SendMessageBatchInput) (*sqs.SendMessageBatchOutput, error) {
		// "a" failed, "b" and "c" were sent; "a" became "b" on the way back.
		return &sqs.SendMessageBatchOutput{
			Successful: []types.SendMessageBatchResultEntry{{Id: aws.String("b"), MessageId: aws.String("m-b")}, {Id: aws.String("c"), MessageId: aws.String("m-c")}},
			Failed:     []types.BatchResultErrorEntry{{Id: aws.String("b"), Code: aws.String("InternalError")}},
		}, nil
	}
	out, err := e.client.SendMessageBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	codes := map[string]string{}
	for _, f := range out.Failed {
		codes[aws.ToString(f.Id)] = aws.ToString(f.Code)
		if aws.ToString(f.Id) == "a" && (f.SenderFault || !strings.Contains(aws.ToString(f.Message), "is kept")) {
			t.Errorf("expect a's entry not the sender's fault and naming its payload, got %+v", f)
		}
	}
	if diff := cmp.Diff(map[string]string{"a": CodeEntryResultMissing, "b": "InternalError"}, codes); diff != "" {
		t.Errorf("Failed codes mismatch (-want +got):\n%s", diff)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PutObject", "SendMessageBatch")
	e.expectObjects(t, 3)
	md := GetBatchOffloadMetadata(out.ResultMetadata)
	if _, ok := md["c"]; !ok || len(md) != 1 {
		t.Errorf("expect offload metadata for the sent entry c only, got %v", md)
	}
}
