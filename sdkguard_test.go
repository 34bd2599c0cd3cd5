package sqsx

import (
	"context"
	"crypto/md5"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/sqsxtest"
)

// TestSendMessageBatchAnswerWithoutIDDoesNotPanic: the SDK's checksum
// validation of a SendMessageBatch answer dereferences the Id of every
// successful entry, so an answer that lost one on the way (one changed bit
// in the key "Id") panics in the caller's goroutine. Through sqsx such an
// entry is nobody's: the entry it belonged to is named neither successful
// nor failed, and comes back as a Failed entry to send again.
func TestSendMessageBatchAnswerWithoutIDDoesNotPanic(t *testing.T) {
	sum := func(s string) string { return fmt.Sprintf("%x", md5.Sum([]byte(s))) }
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		// Entry "b"'s key "Id" arrived as "Ie".
		fmt.Fprintf(w, `{"Successful":[{"Id":"a","MessageId":"m-a","MD5OfMessageBody":%q},{"Ie":"b","MessageId":"m-b","MD5OfMessageBody":%q}]}`,
			sum("first"), sum("second"))
	}))
	defer srv.Close()
	api := sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
	})
	_, s3Fake := sqsxtest.New()
	c, err := New(api, s3Fake, func(o *Options) { o.Bucket = testBucket })
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
