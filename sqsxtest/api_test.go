package sqsxtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/snsx"
	"github.com/sqsx/sqsx/sqsxtest"
)

// The fakes satisfy the interfaces the packages take.
var (
	_ sqsx.SQSAPI   = (*sqsxtest.SQS)(nil)
	_ sqsx.S3API    = (*sqsxtest.S3)(nil)
	_ payload.S3API = (*sqsxtest.S3)(nil)
	_ snsx.SNSAPI   = (*sqsxtest.SNS)(nil)
)

const topicARN = "arn:aws:sns:us-east-1:123456789012:t"

// TestCallPreamble checks what every operation of every fake shares: the
// call is recorded with its service and options, a done context fails it
// wrapped in a *smithy.OperationError, an override answers first, and a nil
// params is the zero input.
func TestCallPreamble(t *testing.T) {
	sq, s3f := sqsxtest.New()
	sn := sqsxtest.NewSNS(sq.Log)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ops := map[string]func(context.Context) error{
		"SendMessage": func(ctx context.Context) error {
			_, err := sq.SendMessage(ctx, nil, func(o *sqs.Options) { o.Region = "r" })
			return err
		},
		"GetObject": func(ctx context.Context) error {
			_, err := s3f.GetObject(ctx, nil, func(o *s3.Options) { o.Region = "r" })
			return err
		},
		"Publish": func(ctx context.Context) error {
			_, err := sn.Publish(ctx, nil, func(o *sns.Options) { o.Region = "r" })
			return err
		},
	}
	services := map[string]string{"SendMessage": "SQS", "GetObject": "S3", "Publish": "SNS"}
	for op, do := range ops {
		t.Run(op, func(t *testing.T) {
			sq.Log.Reset()
			err := do(canceled)
			var oe *smithy.OperationError
			if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Service() != services[op] || oe.Operation() != op {
				t.Errorf("expect context.Canceled in a %s %s OperationError, got %v", services[op], op, err)
			}
			// A nil params fails as an empty input would, as the service's error.
			err = do(context.Background())
			var ae smithy.APIError
			if !errors.As(err, &oe) || !errors.As(err, &ae) {
				t.Errorf("expect an API error in an OperationError for nil params, got %v", err)
			}
			rec := sq.Log.Records()
			if len(rec) != 2 || rec[0].Service != services[op] || rec[0].Op != op || rec[0].OptFns != 1 {
				t.Fatalf("expect both calls recorded, got %+v", rec)
			}
			region := map[string]string{"SQS": "", "S3": "", "SNS": ""}
			switch o := rec[0].Options.(type) {
			case sqs.Options:
				region["SQS"] = o.Region
			case s3.Options:
				region["S3"] = o.Region
			case sns.Options:
				region["SNS"] = o.Region
			}
			if region[services[op]] != "r" {
				t.Errorf("expect the optFns applied to the %s options, got %+v", services[op], rec[0].Options)
			}
		})
	}
	hookErr := errors.New("hook")
	sn.PublishFn = func(*sns.PublishInput) (*sns.PublishOutput, error) { return nil, hookErr }
	if _, err := sn.Publish(context.Background(), &sns.PublishInput{}); err != hookErr {
		t.Errorf("expect the override's error as is, got %v", err)
	}
}

func TestSNSDelivery(t *testing.T) {
	ctx := context.Background()
	sq := sqsxtest.NewSQS(nil)
	sn := sqsxtest.NewSNS(sq.Log)
	now := time.Date(2025, 1, 2, 3, 4, 5, 678e6, time.UTC)
	sn.Now = func() time.Time { return now }
	const raw, env, other = "https://q/raw", "https://q/env", "https://q/other"
	sn.Subscribe(topicARN, sq, raw, true)
	sn.Subscribe(topicARN, sq, env, false)
	sn.Subscribe(topicARN+"-other", sq, other, true)
	out, err := sn.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(topicARN), Subject: aws.String("s"), Message: aws.String("hello"),
		MessageAttributes: map[string]snstypes.MessageAttributeValue{
			"a": {DataType: aws.String("String"), StringValue: aws.String("1")},
			"b": {DataType: aws.String("Binary"), BinaryValue: []byte{0xff}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sq.Messages(raw); len(got) != 1 || *got[0].Body != "hello" || *got[0].MessageAttributes["a"].StringValue != "1" {
		t.Errorf("expect the raw message with its attributes, got %+v", got)
	}
	if n := sq.Len(other); n != 0 {
		t.Errorf("expect nothing delivered for another topic, got %v", n)
	}
	got := sq.Messages(env)
	if len(got) != 1 || got[0].MessageAttributes != nil {
		t.Fatalf("expect one envelope without SQS attributes, got %+v", got)
	}
	var e struct {
		Type, MessageId, TopicArn, Subject, Message, Timestamp string
		MessageAttributes                                      map[string]struct{ Type, Value string }
	}
	if err := json.Unmarshal([]byte(*got[0].Body), &e); err != nil {
		t.Fatal(err)
	}
	want := struct {
		Type, MessageId, TopicArn, Subject, Message, Timestamp string
		MessageAttributes                                      map[string]struct{ Type, Value string }
	}{"Notification", *out.MessageId, topicARN, "s", "hello", "2025-01-02T03:04:05.678Z",
		map[string]struct{ Type, Value string }{"a": {"String", "1"}, "b": {"Binary", "/w=="}}}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("envelope mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Publish"}, sq.Log.Calls()); diff != "" {
		t.Errorf("expect delivery not recorded (-want +got):\n%s", diff)
	}
}

func TestSNSChecks(t *testing.T) {
	ctx := context.Background()
	entry := func(id string, size int) snstypes.PublishBatchRequestEntry {
		return snstypes.PublishBatchRequestEntry{Id: aws.String(id), Message: aws.String(strings.Repeat("x", size))}
	}
	cases := map[string]struct {
		do   func(*sqsxtest.SNS) error
		code string
	}{
		"empty message": {func(f *sqsxtest.SNS) error {
			_, err := f.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN)})
			return err
		}, "InvalidParameter"},
		"message too long": {func(f *sqsxtest.SNS) error {
			_, err := f.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(topicARN), Message: aws.String(strings.Repeat("x", sqsxtest.MaxPublishSize+1))})
			return err
		}, "InvalidParameter"},
		"empty batch": {func(f *sqsxtest.SNS) error {
			_, err := f.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN)})
			return err
		}, "EmptyBatchRequest"},
		"batch ids": {func(f *sqsxtest.SNS) error {
			_, err := f.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{entry("a", 1), entry("a", 1)}})
			return err
		}, "BatchEntryIdsNotDistinct"},
		"batch too long": {func(f *sqsxtest.SNS) error {
			_, err := f.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{entry("a", 200000), entry("b", 200000)}})
			return err
		}, "BatchRequestTooLong"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var ae smithy.APIError
			if err := tc.do(sqsxtest.NewSNS(nil)); !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Errorf("expect %v, got %v", tc.code, err)
			}
		})
	}
	f := sqsxtest.NewSNS(nil)
	out, err := f.PublishBatch(ctx, &sns.PublishBatchInput{TopicArn: aws.String(topicARN), PublishBatchRequestEntries: []snstypes.PublishBatchRequestEntry{entry("a", 1), entry("b", 0)}})
	if err != nil || len(out.Successful) != 1 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "b" {
		t.Errorf("expect a and a Failed b, got %+v, %v", out, err)
	}
}
