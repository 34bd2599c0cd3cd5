package sqsx

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/sqsxtest"
)

// These tests run the Client over a real SDK client, against an httptest
// server that gives answers garbled as a fault on the way would.

// sdkClient returns an SDK client for srv, with optFns applied.
func sdkClient(srv *httptest.Server, optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	}, optFns...)
}

// md5Hex is SQS's MD5OfBody of s.
func md5Hex(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }

// TestReceiveMessageChecksBodiesPerMessage: the SDK fails a whole
// ReceiveMessage on one body that does not match its MD5, and every message
// of the answer waits out its visibility timeout. sqsx checks the bodies
// itself, message by message: the corrupted one is left in the queue, where
// it is intact, and the others are returned. A client that does not check
// (DisableMessageChecksumValidation) is not overruled.
func TestReceiveMessageChecksBodiesPerMessage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// The second body was "second" when SQS hashed it.
		fmt.Fprintf(w, `{"Messages":[{"MessageId":"m1","ReceiptHandle":"h1","Body":"first","MD5OfBody":%q},{"MessageId":"m2","ReceiptHandle":"h2","Body":"secone","MD5OfBody":%q}]}`,
			md5Hex("first"), md5Hex("second"))
	}))
	defer srv.Close()
	for name, tc := range map[string]struct {
		disable bool
		want    []string
	}{
		"checked":     {false, []string{"first"}},
		"not checked": {true, []string{"first", "secone"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, s3Fake := sqsxtest.New()
			api := sdkClient(srv, func(o *sqs.Options) { o.DisableMessageChecksumValidation = tc.disable })
			c, err := New(api, s3Fake, func(o *Options) { o.Bucket = testBucket })
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(srv.URL + "/123/q")})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			var bodies []string
			for _, m := range out.Messages {
				bodies = append(bodies, aws.ToString(m.Body))
			}
			if !slices.Equal(bodies, tc.want) {
				t.Errorf("expect %q, got %q", tc.want, bodies)
			}
			us := GetUnresolvedMessages(out.ResultMetadata)
			if tc.disable {
				if len(us) != 0 {
					t.Errorf("expect nothing unresolved, got %+v", us)
				}
				return
			}
			if len(us) != 1 || us[0].MessageID != "m2" || us[0].Code != CodeBodyChecksumMismatch || us[0].Action != UnresolvedLeft {
				t.Errorf("expect m2 left as %s, got %+v", CodeBodyChecksumMismatch, us)
			}
		})
	}
}

// TestSendMessageBatchAnswerWithoutIDDoesNotPanic: the SDK's checksum
// validation of a SendMessageBatch answer dereferences the Id of every
// successful entry, so an answer that lost one on the way (one changed bit
// in the key "Id") panics in the caller's goroutine. Through sqsx such an
// entry is nobody's: the entry it belonged to is named neither successful
// nor failed, and comes back as a Failed entry to send again.
func TestSendMessageBatchAnswerWithoutIDDoesNotPanic(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// Entry "b"'s key "Id" arrived as "Ie".
		fmt.Fprintf(w, `{"Successful":[{"Id":"a","MessageId":"m-a","MD5OfMessageBody":%q},{"Ie":"b","MessageId":"m-b","MD5OfMessageBody":%q}]}`,
			md5Hex("first"), md5Hex("second"))
	}))
	defer srv.Close()
	_, s3Fake := sqsxtest.New()
	c, err := New(sdkClient(srv), s3Fake, func(o *Options) { o.Bucket = testBucket })
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(srv.URL + "/123/q"),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("first")},
			{Id: aws.String("b"), MessageBody: aws.String("second")},
		},
	})
	if err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if len(out.Successful) != 1 || aws.ToString(out.Successful[0].Id) != "a" {
		t.Errorf("expect only a successful, got %+v", out.Successful)
	}
	if len(out.Failed) != 1 || aws.ToString(out.Failed[0].Id) != "b" || aws.ToString(out.Failed[0].Code) != CodeEntryResultMissing ||
		!strings.Contains(aws.ToString(out.Failed[0].Message), "neither") {
		t.Errorf("expect b Failed with %s, got %+v", CodeEntryResultMissing, out.Failed)
	}
}
