// Command testhandler is the Lambda function of the sqsxlambda integration
// test, run by the AWS Lambda Runtime Interface Emulator. It resolves SQS
// event records with sqsxlambda and fails the records whose message (the
// resolved body, or the Message of an SNS envelope) starts with "fail".
//
// It reads the standard AWS_* variables (with AWS_ENDPOINT_URL_S3 it uses
// path-style addressing, as the local S3 servers need) and:
//
//	SQSX_TEST_BUCKET          payload bucket (required)
//	SQSX_TEST_PREFIX          payload key prefix
//	SQSX_TEST_DELETE_PAYLOADS "true" sets Options.DeletePayloads
//	SQSX_TEST_LOG             file to which it appends one JSON line per
//	                          record handled ({"seen": ...}) and per result
//	                          ({"result": ...})
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/sqsxlambda"
)

// Seen is what the log says of a record the handler was given.
type Seen struct {
	MessageID     string            `json:"messageId"`
	BodySize      int               `json:"bodySize"`
	BodySHA256    string            `json:"bodySha256"`
	ReceiptHandle string            `json:"receiptHandle"`
	Attributes    map[string]string `json:"attributes"` // name -> data type
}

// Result is what the log says of a record's outcome.
type Result struct {
	MessageID string `json:"messageId"`
	Outcome   string `json:"outcome"`
	Code      string `json:"code,omitempty"`
}

// entry is one line of the log.
type entry struct {
	Seen   *Seen   `json:"seen,omitempty"`
	Result *Result `json:"result,omitempty"`
}

// message returns the message a body carries: the Message of an SNS
// envelope, or the body itself.
func message(body string) string {
	var env struct{ Type, Message string }
	if json.Unmarshal([]byte(body), &env) == nil && env.Type == "Notification" {
		return env.Message
	}
	return body
}

func main() {
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	})
	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3Client, func(o *sqsx.Options) {
		o.Bucket = os.Getenv("SQSX_TEST_BUCKET")
		o.KeyPrefix = os.Getenv("SQSX_TEST_PREFIX")
	})
	if err != nil {
		log.Fatal(err)
	}
	logFile, err := os.OpenFile(os.Getenv("SQSX_TEST_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		log.Fatal(err)
	}
	var mu sync.Mutex
	write := func(e entry) {
		b, _ := json.Marshal(e)
		mu.Lock()
		defer mu.Unlock()
		logFile.Write(append(b, '\n'))
	}

	handler, err := sqsxlambda.New(client, func(ctx context.Context, r *events.SQSMessage) error {
		sum := sha256.Sum256([]byte(r.Body))
		attrs := map[string]string{}
		for name, a := range r.MessageAttributes {
			attrs[name] = a.DataType
		}
		write(entry{Seen: &Seen{
			MessageID: r.MessageId, BodySize: len(r.Body), BodySHA256: hex.EncodeToString(sum[:]),
			ReceiptHandle: r.ReceiptHandle, Attributes: attrs,
		}})
		if strings.HasPrefix(message(r.Body), "fail") {
			return errors.New("the test handler fails this record")
		}
		return nil
	}, func(o *sqsxlambda.Options) {
		o.DeletePayloads = os.Getenv("SQSX_TEST_DELETE_PAYLOADS") == "true"
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
		o.OnResult = func(r sqsxlambda.Result) {
			write(entry{Result: &Result{MessageID: r.MessageID, Outcome: r.Outcome.String(), Code: r.Code}})
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(handler)
}
