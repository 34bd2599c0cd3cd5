package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

// offloadedMessage enqueues a message whose body is stored in S3 at
// bucket/key (the object itself is the caller's business) and returns its id.
func offloadedMessage(t *testing.T, q *sqsxtest.SQS, queueURL, bucket, key string, size int) string {
	t.Helper()
	ptr, err := payload.EncodePointer(payload.Pointer{Bucket: bucket, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return q.Enqueue(queueURL, ptr, map[string]types.MessageAttributeValue{
		sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(size))},
	})
}

// TestReceiveDecidesPerMessage receives three messages, the middle one of
// which cannot be resolved, and checks that the other two are written (and,
// with --delete, deleted with their payloads), that the middle one is
// reported with the command that deletes it and left in the queue, and that
// the exit status is 1.
func TestReceiveDecidesPerMessage(t *testing.T) {
	const (
		queueURL = "https://sqs.fake/000000000000/q"
		bucket   = "payloads"
	)
	bad := map[string]struct {
		code string
		// enqueue places the middle message.
		enqueue func(*sqsxtest.SQS) string
	}{
		"missing payload": {sqsx.CodePayloadNotFound, func(q *sqsxtest.SQS) string {
			return offloadedMessage(t, q, queueURL, bucket, "gone", 10)
		}},
		"bucket not allowed": {sqsx.CodeBucketNotAllowed, func(q *sqsxtest.SQS) string {
			return offloadedMessage(t, q, queueURL, "elsewhere", "k", 10)
		}},
		"invalid pointer": {sqsx.CodeInvalidPointer, func(q *sqsxtest.SQS) string {
			return q.Enqueue(queueURL, "not a pointer", map[string]types.MessageAttributeValue{
				sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("10")},
			})
		}},
	}
	for name, tt := range bad {
		for _, mode := range []string{"out-dir", "json"} {
			for _, del := range []bool{false, true} {
				t.Run(name+"/"+mode+"/delete="+strconv.FormatBool(del), func(t *testing.T) {
					fsqs, fs3 := sqsxtest.New()
					first := fsqs.Enqueue(queueURL, "in SQS ✓", nil)
					fs3.SetObject(bucket, "p3", []byte("from S3 ✓"))
					middle := tt.enqueue(fsqs)
					third := offloadedMessage(t, fsqs, queueURL, bucket, "p3", len("from S3 ✓"))
					want := map[string]string{first: "in SQS ✓", third: "from S3 ✓"}

					dir := t.TempDir()
					args := []string{"--queue-url", queueURL, "--bucket", bucket, "--max-number-of-messages", "3", "--wait-time-seconds", "0"}
					if mode == "json" {
						args = append(args, "--output=json")
					} else {
						args = append(args, "--out-dir", dir)
					}
					if del {
						args = append(args, "--delete")
					}
					s, common, err := parseCommand(newReceiveCommand, args)
					if err != nil {
						t.Fatal(err)
					}
					f := s.(*receiveFlags)
					f.json = common.json
					client, err := newReceiveClient(fsqs, fs3, f, nil)
					if err != nil {
						t.Fatal(err)
					}
					var stdout, stderr bytes.Buffer
					u := newUI("receive", common, &stdout, &stderr)
					if code := receiveMessages(context.Background(), u, client, queueURL, f); code != exitError {
						t.Errorf("exit %d, want %d; stderr:\n%s", code, exitError, stderr.String())
					}

					// The middle message, as SQS sent it, is left in the
					// queue; its hint deletes it, and only it.
					msgs := fsqs.Messages(queueURL)
					var handle string
					for _, m := range msgs {
						if aws.ToString(m.MessageId) == middle {
							handle = aws.ToString(m.ReceiptHandle)
						}
					}
					if handle == "" {
						t.Fatalf("the unresolved message is no longer in the queue: %v", msgs)
					}
					deleteCmd := deleteCommand(queueURL, handle, &awsFlags{})

					// The two good ones are written.
					got := map[string]string{}
					if mode == "json" {
						var reported map[string]any
						for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
							var m map[string]any
							if err := json.Unmarshal([]byte(line), &m); err != nil {
								t.Fatalf("stdout line %q: %v", line, err)
							}
							id := m["MessageId"].(string)
							if id == middle {
								reported = m
								continue
							}
							got[id], _ = m["Body"].(string)
							if m["Deleted"] != del {
								t.Errorf("message %s: deleted %v, want %v", id, m["Deleted"], del)
							}
						}
						if reported == nil {
							t.Fatalf("no object for the unresolved message on stdout:\n%s", stdout.String())
						}
						if reported["ErrorCode"] != tt.code || reported["Body"] != nil || reported["Deleted"] != nil ||
							reported["ReceiptHandle"] != handle || !strings.Contains(reported["Hint"].(string), deleteCmd) ||
							!strings.Contains(reported["Error"].(string), middle) {
							t.Errorf("unresolved message: %v; want code %s and the hint %s", reported, tt.code, deleteCmd)
						}
						if stderr.Len() != 0 {
							t.Errorf("stderr with --json: %s", stderr.String())
						}
					} else {
						entries, err := os.ReadDir(dir)
						if err != nil {
							t.Fatal(err)
						}
						for _, e := range entries {
							b, err := os.ReadFile(filepath.Join(dir, e.Name()))
							if err != nil {
								t.Fatal(err)
							}
							got[e.Name()] = string(b)
						}
						contains(t, "stderr", stderr.Bytes(), "message "+middle+": ", deleteCmd, "2 of 3 messages written; 1 not")
					}
					if len(got) != 2 || got[first] != want[first] || got[third] != want[third] {
						t.Errorf("written: %q, want %q", got, want)
					}

					// --delete deletes exactly the two written messages and
					// the payload of the one stored in S3.
					wantLeft := 3
					if del {
						wantLeft = 1
					}
					if len(msgs) != wantLeft {
						t.Errorf("%d messages left in the queue, want %d", len(msgs), wantLeft)
					}
					if _, ok := fs3.Object(bucket, "p3"); ok == del {
						t.Errorf("payload p3 exists: %v, with --delete %v", ok, del)
					}
					deletes := sqsxtest.Params[*sqs.DeleteMessageInput](fsqs.Log)
					if del && len(deletes) != 2 || !del && len(deletes) != 0 || fsqs.Log.Count("DeleteMessageBatch") != 0 {
						t.Errorf("calls %v; want 2 DeleteMessage with --delete, else none", fsqs.Log.Calls())
					}

					// The hint's handle deletes the message.
					if _, err := fsqs.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(queueURL), ReceiptHandle: aws.String(handle)}); err != nil {
						t.Errorf("deleting with the hint's handle: %v", err)
					}
				})
			}
		}
	}
}

// TestUnresolvedErrorHints checks that the hint is chosen by the code: the
// command that deletes the message for a message that can never be read,
// and a retry for the others.
func TestUnresolvedErrorHints(t *testing.T) {
	const deleteCmd = "sqsx delete --queue-url u --receipt-handle h"
	perr := func(sentinel error) error {
		return &payload.Error{Op: "GetObject", Bucket: "b-1", Key: "k1", Err: sentinel}
	}
	cases := map[string]struct {
		err        error
		wantDelete bool
		want       []string
	}{
		sqsx.CodePayloadNotFound:         {perr(sqsx.ErrPayloadNotFound), true, []string{"payload s3://b-1/k1 does not exist", "can never be read", "dead-letter queue"}},
		sqsx.CodeBucketNotAllowed:        {perr(sqsx.ErrBucketNotAllowed), true, []string{"pass --allowed-bucket b-1", "until its bucket is allowed"}},
		sqsx.CodeKeyNotAllowed:           {perr(sqsx.ErrKeyNotAllowed), true, []string{"key k1 is outside the key prefixes", "allowed prefixes"}},
		sqsx.CodeInvalidPointer:          {&payload.Error{Op: "DecodePointer", Err: sqsx.ErrInvalidPointer}, true, []string{"not a valid S3 pointer", "extended client"}},
		sqsx.CodePayloadRejected:         {perr(errors.New("KeyTooLongError")), true, []string{"refuses it the same way"}},
		sqsx.CodePayloadAccessDenied:     {perr(errors.New("AccessDenied")), true, []string{"s3:GetObject", "s3:ListBucket"}},
		sqsx.CodePayloadUnavailable:      {perr(errors.New("503 SlowDown")), false, []string{"503 SlowDown", "receive it again"}},
		sqsx.CodePayloadChecksumMismatch: {perr(sqsx.ErrChecksumMismatch), false, []string{"does not match its checksum", "Retry"}},
		sqsx.CodePayloadTooLarge:         {perr(sqsx.ErrPayloadTooLarge), false, []string{"--max-payload-size"}},
	}
	for code, tt := range cases {
		t.Run(code, func(t *testing.T) {
			um := sqsx.UnresolvedMessage{MessageID: "m-1", Code: code, Err: tt.err}
			msg, hint := describe(unresolvedError(um, deleteCmd))
			if got := strings.Contains(hint, deleteCmd); got != tt.wantDelete {
				t.Errorf("hint %q: has the delete command %v, want %v", hint, got, tt.wantDelete)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg+"\n"+hint, w) {
					t.Errorf("%q\n%q\nlacks %q", msg, hint, w)
				}
			}
			if !strings.Contains(hint, "not deleted") && !strings.Contains(hint, "delivered again") {
				t.Errorf("hint %q does not say the message stays", hint)
			}
		})
	}
}
