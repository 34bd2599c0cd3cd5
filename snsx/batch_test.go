package snsx_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

func entry(id string, size int) snstypes.PublishBatchRequestEntry {
	return snstypes.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(strings.Repeat(id[:1], size))}
}

func batchInput(entries ...snstypes.PublishBatchRequestEntry) *sns.PublishBatchInput {
	return &sns.PublishBatchInput{TopicArn: aws.String(testTopic), PublishBatchRequestEntries: entries}
}

// sentBatch returns the input of the only PublishBatch call.
func (e *testEnv) sentBatch(t *testing.T) *sns.PublishBatchInput {
	t.Helper()
	ins := sqsxtest.Params[*sns.PublishBatchInput](e.log)
	if len(ins) != 1 {
		t.Fatalf("expect 1 PublishBatch call, got %v", len(ins))
	}
	return ins[0]
}

// offloadedIDs returns, sorted, the ids of the entries sent as pointers, and
// checks that each pointer names an object holding the original message.
func (e *testEnv) offloadedIDs(t *testing.T, in *sns.PublishBatchInput, orig map[string]string) []string {
	t.Helper()
	ids := []string{}
	for _, en := range in.PublishBatchRequestEntries {
		id := aws.ToString(en.Id)
		size, ok := en.MessageAttributes[payload.AttributeName]
		if !ok {
			if got := aws.ToString(en.Message); got != orig[id] {
				t.Errorf("entry %v: expect its message unchanged (%v bytes), got %v bytes", id, len(orig[id]), len(got))
			}
			continue
		}
		ids = append(ids, id)
		p, err := payload.DecodePointer(aws.ToString(en.Message))
		if err != nil {
			t.Errorf("entry %v: expect a pointer, got %v", id, err)
			continue
		}
		if stored, _ := e.s3.Object(p.Bucket, p.Key); string(stored) != orig[id] {
			t.Errorf("entry %v: expect the object to hold the message (%v bytes), got %v bytes", id, len(orig[id]), len(stored))
		}
		if got := aws.ToString(size.StringValue); got != itoa(len(orig[id])) {
			t.Errorf("entry %v: expect size attribute %v, got %v", id, len(orig[id]), got)
		}
	}
	slices.Sort(ids)
	return ids
}

func itoa(n int) string { return strconv.Itoa(n) }

func messages(in *sns.PublishBatchInput) map[string]string {
	m := map[string]string{}
	for _, en := range in.PublishBatchRequestEntries {
		m[aws.ToString(en.Id)] = aws.ToString(en.Message)
	}
	return m
}

// batchWireSize is the total size of a batch as SNS counts it.
func batchWireSize(in *sns.PublishBatchInput) int {
	n := 0
	for _, en := range in.PublishBatchRequestEntries {
		n += len(aws.ToString(en.Message))
		for name, v := range en.MessageAttributes {
			n += int(payload.AttributeSize(name, aws.ToString(v.DataType), v.StringValue, v.BinaryValue))
		}
	}
	return n
}

func successfulIDs(out *sns.PublishBatchOutput) []string {
	ids := []string{}
	for _, s := range out.Successful {
		ids = append(ids, aws.ToString(s.Id))
	}
	slices.Sort(ids)
	return ids
}

// failedByID returns the Failed entries by id.
func failedByID(out *sns.PublishBatchOutput) map[string]snstypes.BatchResultErrorEntry {
	m := map[string]snstypes.BatchResultErrorEntry{}
	for _, f := range out.Failed {
		m[aws.ToString(f.Id)] = f
	}
	return m
}

func TestPublishBatchFitsBatchLimit(t *testing.T) {
	cases := map[string]struct {
		opt       func(*snsx.Options)
		entries   []snstypes.PublishBatchRequestEntry
		offloaded []string
	}{
		"all small, under the limit": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 100), entry("b", 200)},
			offloaded: []string{},
		},
		"exactly at the limit": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 131072), entry("b", 131072)},
			offloaded: []string{},
		},
		"one byte over: the largest goes": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 131072), entry("b", 131073)},
			offloaded: []string{"b"},
		},
		// 370,000 bytes: offloading a (100,000) leaves about 270,150, still
		// over; offloading b (95,000) too leaves about 175,300. c and d stay.
		"two largest, in any order": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("c", 90000), entry("a", 100000), entry("d", 85000), entry("b", 95000)},
			offloaded: []string{"a", "b"},
		},
		"one entry over the threshold is enough": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 262145), entry("b", 100000), entry("c", 100000)},
			offloaded: []string{"a"},
		},
		"every entry over the threshold": {
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 262145), entry("b", 300000)},
			offloaded: []string{"a", "b"},
		},
		"ten entries under the threshold": {
			entries: func() []snstypes.PublishBatchRequestEntry {
				var es []snstypes.PublishBatchRequestEntry
				for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
					es = append(es, entry(id, 200000))
				}
				return es
			}(),
			// Each pointer is about 150 bytes: all but one must go.
			offloaded: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"},
		},
		"attributes count": {
			// a is 131070 bytes; b is 131067 + ("k" + "String" + "v") =
			// 131075 bytes, so the largest, and the total is one over.
			entries: []snstypes.PublishBatchRequestEntry{
				entry("a", 131070),
				{Id: aws.String("b"), Message: aws.String(strings.Repeat("b", 131067)), MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": strAttr("v")}},
			},
			offloaded: []string{"b"},
		},
		"custom BatchSizeLimit": {
			opt:       func(o *snsx.Options) { o.BatchSizeLimit = 1000 },
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 600), entry("b", 500)},
			offloaded: []string{"a"},
		},
		// fat (10 + "big" "String" 950 = 969 bytes) is under the threshold
		// but cannot be offloaded: its attributes and the pointer are over
		// it. So b goes, although smaller.
		"largest cannot be offloaded": {
			opt: func(o *snsx.Options) { o.Threshold = 1000; o.BatchSizeLimit = 1500 },
			entries: []snstypes.PublishBatchRequestEntry{
				{Id: aws.String("fat"), Message: aws.String(strings.Repeat("f", 10)), MessageAttributes: map[string]snstypes.MessageAttributeValue{"big": strAttr(strings.Repeat("v", 950))}},
				entry("b", 900),
			},
			offloaded: []string{"b"},
		},
		"AlwaysThroughS3": {
			opt:       func(o *snsx.Options) { o.AlwaysThroughS3 = true },
			entries:   []snstypes.PublishBatchRequestEntry{entry("a", 1), entry("b", 2)},
			offloaded: []string{"a", "b"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var opts []func(*snsx.Options)
			if tc.opt != nil {
				opts = append(opts, tc.opt)
			}
			e := newTestEnv(t, opts...)
			in := batchInput(tc.entries...)
			orig := messages(in)
			out, err := e.client.PublishBatch(context.Background(), in)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if len(out.Failed) != 0 {
				t.Errorf("expect no failures, got %+v", out.Failed)
			}
			sent := e.sentBatch(t)
			if got := e.offloadedIDs(t, sent, orig); !cmp.Equal(tc.offloaded, got) {
				t.Errorf("expect offloaded %v, got %v", tc.offloaded, got)
			}
			if n := batchWireSize(sent); n > 262144 {
				t.Errorf("expect the batch within 262144 bytes, got %v", n)
			}
			want := slices.Repeat([]string{"PutObject"}, len(tc.offloaded))
			e.expectCalls(t, append(want, "PublishBatch")...)
			e.expectObjects(t, len(tc.offloaded))
			ids := slices.Sorted(func(yield func(string) bool) {
				for id := range orig {
					if !yield(id) {
						return
					}
				}
			})
			if got := successfulIDs(out); !cmp.Equal(ids, got) {
				t.Errorf("expect successful %v, got %v", ids, got)
			}
			// Entry order is kept.
			for i, en := range sent.PublishBatchRequestEntries {
				if aws.ToString(en.Id) != aws.ToString(tc.entries[i].Id) {
					t.Errorf("entry %v: expect id %v, got %v", i, aws.ToString(tc.entries[i].Id), aws.ToString(en.Id))
				}
			}
		})
	}
}

// TestPublishBatchCannotFit: when nothing more may be offloaded, the batch
// goes to SNS as it is and SNS's error is returned.
func TestPublishBatchCannotFit(t *testing.T) {
	e := newTestEnv(t)
	json := func(id string) snstypes.PublishBatchRequestEntry {
		en := entry(id, 100000)
		en.MessageStructure = aws.String("json")
		return en
	}
	_, err := e.client.PublishBatch(context.Background(), batchInput(json("a"), json("b"), json("c")))
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "BatchRequestTooLong" {
		t.Fatalf("expect SNS's BatchRequestTooLong, got %v", err)
	}
	e.expectCalls(t, "PublishBatch")
}

func TestPublishBatchInvalidEntries(t *testing.T) {
	big := strings.Repeat("x", 262145)
	withAttrs := func(en snstypes.PublishBatchRequestEntry, attrs map[string]snstypes.MessageAttributeValue) snstypes.PublishBatchRequestEntry {
		en.MessageAttributes = attrs
		return en
	}
	e := newTestEnv(t)
	in := batchInput(
		entry("ok-small", 10),
		snstypes.PublishBatchRequestEntry{Id: aws.String("ok-large"), Message: aws.String(big)},
		snstypes.PublishBatchRequestEntry{Id: aws.String("empty"), Message: aws.String("")},
		withAttrs(entry("reserved", 10), map[string]snstypes.MessageAttributeValue{"ExtendedPayloadSize": numAttr(10)}),
		withAttrs(entry("legacy", 10), map[string]snstypes.MessageAttributeValue{"SQSLargePayloadSize": numAttr(10)}),
		withAttrs(snstypes.PublishBatchRequestEntry{Id: aws.String("too-many"), Message: aws.String(big)}, manyAttrs(10)),
		snstypes.PublishBatchRequestEntry{Id: aws.String("json"), Message: aws.String(big), MessageStructure: aws.String("json")},
		withAttrs(entry("fat-attrs", 10), map[string]snstypes.MessageAttributeValue{"big": strAttr(strings.Repeat("v", 262144))}),
		snstypes.PublishBatchRequestEntry{Id: aws.String("json-small"), Message: aws.String(`{"default":"x"}`), MessageStructure: aws.String("json")},
		withAttrs(entry("ten-small", 10), manyAttrs(10)),
	)
	out, err := e.client.PublishBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	wantCodes := map[string]string{
		"empty":     sqsx.CodeEmptyMessageBody,
		"reserved":  sqsx.CodeReservedAttribute,
		"legacy":    sqsx.CodeReservedAttribute,
		"too-many":  sqsx.CodeTooManyAttributes,
		"json":      snsx.CodeMessageStructureJSON,
		"fat-attrs": sqsx.CodeAttributesTooLarge,
	}
	failed := failedByID(out)
	gotCodes := map[string]string{}
	for id, f := range failed {
		gotCodes[id] = aws.ToString(f.Code)
		if !f.SenderFault {
			t.Errorf("entry %v: expect SenderFault, got false", id)
		}
		if !strings.HasPrefix(aws.ToString(f.Message), "snsx: ") {
			t.Errorf("entry %v: expect a message, got %q", id, aws.ToString(f.Message))
		}
	}
	if diff := cmp.Diff(wantCodes, gotCodes); diff != "" {
		t.Errorf("failed codes mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"json-small", "ok-large", "ok-small", "ten-small"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	sent := e.sentBatch(t)
	if got := e.offloadedIDs(t, sent, messages(in)); !cmp.Equal([]string{"ok-large"}, got) {
		t.Errorf("expect offloaded [ok-large], got %v", got)
	}
	e.expectCalls(t, "PutObject", "PublishBatch")
}

func TestPublishBatchNoBucket(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) { o.Bucket = "" })
	out, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145), entry("b", 10)))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if got := aws.ToString(failedByID(out)["a"].Code); got != sqsx.CodeNoBucket {
		t.Errorf("expect %v, got %v", sqsx.CodeNoBucket, got)
	}
	if diff := cmp.Diff([]string{"b"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
}

// TestPublishBatchFailedEntriesDoNotCount: an entry failed before SNS is not
// sent, so it does not push others out to S3.
func TestPublishBatchFailedEntriesDoNotCount(t *testing.T) {
	e := newTestEnv(t)
	bad := entry("r", 200000)
	bad.MessageAttributes = map[string]snstypes.MessageAttributeValue{"SQSLargePayloadSize": numAttr(1)}
	out, err := e.client.PublishBatch(context.Background(), batchInput(bad, entry("a", 100000), entry("b", 100000)))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t, "PublishBatch")
	if diff := cmp.Diff([]string{"a", "b"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	if got := len(e.sentBatch(t).PublishBatchRequestEntries); got != 2 {
		t.Errorf("expect 2 entries sent, got %v", got)
	}
}

func TestPublishBatchAllEntriesInvalid(t *testing.T) {
	e := newTestEnv(t)
	out, err := e.client.PublishBatch(context.Background(), batchInput(
		snstypes.PublishBatchRequestEntry{Id: aws.String("a"), Message: aws.String("")},
		snstypes.PublishBatchRequestEntry{Id: aws.String("b")},
	))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	e.expectCalls(t)
	if len(out.Successful) != 0 || len(out.Failed) != 2 {
		t.Errorf("expect 2 failed and none successful, got %+v", out)
	}
}

func TestPublishBatchUploadFailure(t *testing.T) {
	e := newTestEnv(t)
	// The upload of b (the only 270,000-byte message) fails.
	e.s3.PutObjectFn = func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		if aws.ToInt64(in.ContentLength) == 270000 {
			return nil, &smithy.GenericAPIError{Code: "SlowDown"}
		}
		return nil, nil
	}
	in := batchInput(entry("a", 263000), entry("b", 270000), entry("c", 264000), entry("d", 5))
	out, err := e.client.PublishBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	failed := failedByID(out)
	if len(failed) != 1 {
		t.Fatalf("expect 1 failed entry, got %+v", out.Failed)
	}
	f := failed["b"]
	if aws.ToString(f.Code) != sqsx.CodePayloadUploadFailed || f.SenderFault {
		t.Errorf("expect %v without SenderFault, got %v %v", sqsx.CodePayloadUploadFailed, aws.ToString(f.Code), f.SenderFault)
	}
	if !strings.Contains(aws.ToString(f.Message), "SlowDown") {
		t.Errorf("expect the S3 error in the message, got %q", aws.ToString(f.Message))
	}
	if diff := cmp.Diff([]string{"a", "c", "d"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	sent := e.sentBatch(t)
	if got := e.offloadedIDs(t, sent, messages(in)); !cmp.Equal([]string{"a", "c"}, got) {
		t.Errorf("expect offloaded [a c], got %v", got)
	}
	e.expectObjects(t, 2)
}

func TestPublishBatchSNSFailedEntryDeletesPayload(t *testing.T) {
	e := newTestEnv(t)
	e.sns.PublishBatchFn = func(in *sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
		out := &sns.PublishBatchOutput{}
		for _, en := range in.PublishBatchRequestEntries {
			switch id := aws.ToString(en.Id); id {
			case "a", "small":
				out.Failed = append(out.Failed, snstypes.BatchResultErrorEntry{Id: en.Id, Code: aws.String("InternalError")})
			default:
				out.Successful = append(out.Successful, snstypes.PublishBatchResultEntry{Id: en.Id, MessageId: aws.String("m-" + id)})
			}
		}
		return out, nil
	}
	in := batchInput(entry("a", 262145), entry("b", 262146), entry("small", 3))
	out, err := e.client.PublishBatch(context.Background(), in)
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff([]string{"b"}, successfulIDs(out)); diff != "" {
		t.Errorf("successful mismatch (-want +got):\n%s", diff)
	}
	if got := aws.ToString(failedByID(out)["a"].Code); got != "InternalError" {
		t.Errorf("expect SNS's code InternalError, got %v", got)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PublishBatch", "DeleteObject")
	// Only b's payload is left.
	sent := e.sentBatch(t)
	for _, en := range sent.PublishBatchRequestEntries {
		if aws.ToString(en.Id) == "small" {
			continue
		}
		p, err := payload.DecodePointer(aws.ToString(en.Message))
		if err != nil {
			t.Fatal(err)
		}
		_, ok := e.s3.Object(p.Bucket, p.Key)
		if want := aws.ToString(en.Id) == "b"; ok != want {
			t.Errorf("entry %v: expect object present %v, got %v", aws.ToString(en.Id), want, ok)
		}
	}
}

func TestPublishBatchSNSErrorDeletesAllPayloads(t *testing.T) {
	e := newTestEnv(t)
	// A client fault: SNS definitely refused the batch.
	snsErr := &smithy.GenericAPIError{Code: "AuthorizationError", Fault: smithy.FaultClient}
	e.sns.PublishBatchFn = func(*sns.PublishBatchInput) (*sns.PublishBatchOutput, error) { return nil, snsErr }
	out, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145), entry("b", 262146), entry("c", 10)))
	if !errors.Is(err, snsErr) {
		t.Fatalf("expect the SNS error, got %v", err)
	}
	if out != nil {
		t.Errorf("expect nil output, got %v", out)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PublishBatch", "DeleteObjects")
	e.expectObjects(t, 0)
}

func TestPublishBatchAmbiguousErrorKeepsPayloads(t *testing.T) {
	e := newTestEnv(t)
	// A server fault: SNS may have published the batch before failing.
	snsErr := &smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}
	e.sns.PublishBatchFn = func(*sns.PublishBatchInput) (*sns.PublishBatchOutput, error) { return nil, snsErr }
	_, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145), entry("b", 262146), entry("c", 10)))
	if !errors.Is(err, snsErr) {
		t.Fatalf("expect the SNS error, got %v", err)
	}
	var ke *payload.KeptError
	if !errors.As(err, &ke) || !ke.Ambiguous || len(ke.Pointers) != 2 {
		t.Fatalf("expect a KeptError naming both payloads, got %v", err)
	}
	e.expectCalls(t, "PutObject", "PutObject", "PublishBatch")
	e.expectObjects(t, 2)
}

func TestPublishBatchMalformedRequestPassedThrough(t *testing.T) {
	var eleven []snstypes.PublishBatchRequestEntry
	for i := range 11 {
		eleven = append(eleven, snstypes.PublishBatchRequestEntry{Id: aws.String("e" + itoa(i)), Message: aws.String(strings.Repeat("x", 262145))})
	}
	cases := map[string]struct {
		in   *sns.PublishBatchInput
		code string
	}{
		"no entries":    {batchInput(), "EmptyBatchRequest"},
		"nil params":    {nil, "EmptyBatchRequest"},
		"11 entries":    {batchInput(eleven...), "TooManyEntriesInBatchRequest"},
		"duplicate ids": {batchInput(entry("a", 262145), entry("a", 262146)), "BatchEntryIdsNotDistinct"},
		"duplicate nil ids": {batchInput(
			snstypes.PublishBatchRequestEntry{Message: aws.String("x")},
			snstypes.PublishBatchRequestEntry{Message: aws.String("y")},
		), "BatchEntryIdsNotDistinct"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			var before *sns.PublishBatchInput
			if tc.in != nil {
				before = deepCopy(t, tc.in)
			}
			_, err := e.client.PublishBatch(context.Background(), tc.in, func(*sns.Options) {})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.code {
				t.Fatalf("expect SNS's %v, got %v", tc.code, err)
			}
			e.expectCalls(t, "PublishBatch")
			if got := sqsxtest.Params[*sns.PublishBatchInput](e.log)[0]; got != tc.in {
				t.Errorf("expect the caller's params passed through, got a different input")
			}
			// The caller's and the user-agent key.
			if diff := cmp.Diff([]int{2}, e.snsOptFns()); diff != "" {
				t.Errorf("optFns mismatch (-want +got):\n%s", diff)
			}
			if tc.in != nil {
				if diff := cmp.Diff(before, tc.in, awsCmp); diff != "" {
					t.Errorf("caller's params were modified (-before +after):\n%s", diff)
				}
			}
		})
	}
}

func TestPublishBatchDoesNotModifyInput(t *testing.T) {
	e := newTestEnv(t)
	in := batchInput(
		snstypes.PublishBatchRequestEntry{Id: aws.String("a"), Message: aws.String(strings.Repeat("a", 262145)),
			MessageAttributes: map[string]snstypes.MessageAttributeValue{"k": strAttr("v")}, Subject: aws.String("s")},
		entry("b", 150000), entry("c", 150000),
	)
	before := deepCopy(t, in)
	if _, err := e.client.PublishBatch(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff(before, in, awsCmp); diff != "" {
		t.Errorf("caller's params were modified (-before +after):\n%s", diff)
	}
	if len(in.PublishBatchRequestEntries[0].MessageAttributes) != 1 {
		t.Errorf("expect the caller's attribute map untouched, got %v", in.PublishBatchRequestEntries[0].MessageAttributes)
	}
}

// TestPublishBatchFieldsPassThrough: FIFO ids, subject and the topic reach
// SNS unchanged for offloaded and plain entries.
func TestPublishBatchFieldsPassThrough(t *testing.T) {
	e := newTestEnv(t)
	mk := func(id string, size int) snstypes.PublishBatchRequestEntry {
		en := entry(id, size)
		en.MessageGroupId = aws.String("group-" + id)
		en.MessageDeduplicationId = aws.String("dedup-" + id)
		en.Subject = aws.String("subject-" + id)
		return en
	}
	in := &sns.PublishBatchInput{TopicArn: aws.String(testFIFO), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{mk("a", 262145), mk("b", 10)}}
	if _, err := e.client.PublishBatch(context.Background(), in); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	sent := e.sentBatch(t)
	if aws.ToString(sent.TopicArn) != testFIFO {
		t.Errorf("expect TopicArn %v, got %v", testFIFO, aws.ToString(sent.TopicArn))
	}
	for i, got := range sent.PublishBatchRequestEntries {
		want := in.PublishBatchRequestEntries[i]
		want.Message, want.MessageAttributes = got.Message, got.MessageAttributes
		if diff := cmp.Diff(want, got, awsCmp); diff != "" {
			t.Errorf("entry %v mismatch (-want +got):\n%s", i, diff)
		}
	}
}

func TestPublishBatchConcurrency(t *testing.T) {
	cases := map[string]struct {
		opt  func(*snsx.Options)
		want int
	}{
		"Concurrency 3": {func(o *snsx.Options) { o.Concurrency = 3 }, 3},
		"Concurrency 1": {func(o *snsx.Options) { o.Concurrency = 1 }, 1},
		"default":       {func(*snsx.Options) {}, 10},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t, tc.opt)
			g := &gate{want: tc.want}
			e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
				g.pass()
				return nil, nil
			}
			var entries []snstypes.PublishBatchRequestEntry
			for _, id := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
				entries = append(entries, entry(id, 262145))
			}
			out, err := e.client.PublishBatch(context.Background(), batchInput(entries...))
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if len(out.Successful) != 10 {
				t.Errorf("expect 10 successful, got %v", len(out.Successful))
			}
			if got := g.maxSeen(); got != tc.want {
				t.Errorf("expect at most and at least %v uploads at once, got %v", tc.want, got)
			}
		})
	}
}

func TestPublishBatchContextCanceled(t *testing.T) {
	t.Run("before the call", func(t *testing.T) {
		e := newTestEnv(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		out, err := e.client.PublishBatch(ctx, batchInput(entry("a", 262145), entry("b", 10)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
		if out != nil {
			t.Errorf("expect nil output, got %v", out)
		}
		if len(e.log.Calls()) != 0 {
			t.Errorf("expect nothing uploaded or published, got %v", e.log.Calls())
		}
		e.expectObjects(t, 0)
	})
	t.Run("during the uploads", func(t *testing.T) {
		e := newTestEnv(t, func(o *snsx.Options) { o.Concurrency = 1 })
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		e.s3.PutObjectFn = func(*s3.PutObjectInput) (*s3.PutObjectOutput, error) {
			// Concurrency 1: the calls do not overlap.
			if n++; n == 2 {
				cancel()
			}
			return nil, nil
		}
		_, err := e.client.PublishBatch(ctx, batchInput(entry("a", 262145), entry("b", 262146), entry("c", 262147)))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("expect %v, got %v", context.Canceled, err)
		}
		if slices.Contains(e.log.Calls(), "PublishBatch") {
			t.Errorf("expect nothing published, got %v", e.log.Calls())
		}
		// The uploads that succeeded are deleted although ctx is done.
		e.expectObjects(t, 0)
	})
}

func TestPublishBatchOptFnsPassedThrough(t *testing.T) {
	e := newTestEnv(t)
	region := func(o *sns.Options) { o.Region = "eu-west-1" }
	if _, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145)), region, func(*sns.Options) {}); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	// The caller's two, the library's own that watches the attempts and
	// the user-agent key.
	if diff := cmp.Diff([]int{4}, e.snsOptFns()); diff != "" {
		t.Errorf("optFns mismatch (-want +got):\n%s", diff)
	}
	for _, r := range e.s3Records() {
		if r.Options.(s3.Options).Region == "eu-west-1" {
			t.Errorf("expect no SNS optFns on %v", r.Op)
		}
	}
}

func TestPublishBatchLegacyAttributeName(t *testing.T) {
	e := newTestEnv(t, func(o *snsx.Options) { o.AttributeName = payload.LegacyAttributeName })
	if _, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145))); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	got := e.sentBatch(t).PublishBatchRequestEntries[0].MessageAttributes
	want := map[string]snstypes.MessageAttributeValue{"SQSLargePayloadSize": numAttr(262145)}
	if diff := cmp.Diff(want, got, awsCmp); diff != "" {
		t.Errorf("attributes mismatch (-want +got):\n%s", diff)
	}
}

func TestPublishBatchKeyFuncError(t *testing.T) {
	cases := map[string][]snstypes.PublishBatchRequestEntry{
		"entry over the threshold": {entry("a", 262145), entry("b", 10)},
		"batch over the limit":     {entry("a", 200000), entry("b", 100000)},
	}
	for name, entries := range cases {
		t.Run(name, func(t *testing.T) {
			keyErr := errors.New("no keys today")
			e := newTestEnv(t, func(o *snsx.Options) {
				o.KeyFunc = func(context.Context) (string, error) { return "", keyErr }
			})
			out, err := e.client.PublishBatch(context.Background(), batchInput(entries...))
			if !errors.Is(err, keyErr) {
				t.Fatalf("expect %v, got %v", keyErr, err)
			}
			if out != nil {
				t.Errorf("expect nil output, got %v", out)
			}
			e.expectCalls(t)
		})
	}
}

// TestPublishBatchGarbledAnswer: an answer in which one changed bit turned
// failed "a" into sent "b" names b as both and a as neither. Neither
// payload is discarded, and a becomes a Failed entry, so that the caller
// publishes both again rather than take a for published.
func TestPublishBatchGarbledAnswer(t *testing.T) {
	e := newTestEnv(t)
	e.sns.PublishBatchFn = func(*sns.PublishBatchInput) (*sns.PublishBatchOutput, error) {
		return &sns.PublishBatchOutput{
			Successful: []snstypes.PublishBatchResultEntry{{Id: aws.String("b"), MessageId: aws.String("m-b")}},
			Failed:     []snstypes.BatchResultErrorEntry{{Id: aws.String("b"), Code: aws.String("InternalError")}},
		}, nil
	}
	out, err := e.client.PublishBatch(context.Background(), batchInput(entry("a", 262145), entry("b", 262146)))
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	failed := failedByID(out)
	if got := aws.ToString(failed["a"].Code); got != payload.CodeEntryResultMissing || failed["a"].SenderFault {
		t.Errorf("expect a Failed with %s, not the sender's fault, got %+v", payload.CodeEntryResultMissing, failed["a"])
	}
	if got := aws.ToString(failed["b"].Code); got != "InternalError" {
		t.Errorf("expect SNS's entry for b kept, got %+v", failed["b"])
	}
	e.expectCalls(t, "PutObject", "PutObject", "PublishBatch")
	e.expectObjects(t, 2)
}
