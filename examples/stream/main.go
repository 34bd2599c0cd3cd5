// Command stream consumes messages of any size with package consumer's
// streaming handler: each payload is read from S3 as the handler consumes
// it, never held in memory, while the heartbeat keeps the message
// invisible. This one computes each body's SHA-256.
//
//	go run ./examples/stream -queue-url URL -bucket BUCKET
package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
)

func main() {
	queueURL := flag.String("queue-url", "", "URL of the queue to consume")
	bucket := flag.String("bucket", "", "S3 bucket of the payloads")
	flag.Parse()
	if *queueURL == "" || *bucket == "" {
		log.Fatal("usage: stream -queue-url URL -bucket BUCKET")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL_S3") != "" // local S3 servers
	}), func(o *sqsx.Options) {
		o.Bucket = *bucket
	})
	if err != nil {
		log.Fatal(err)
	}
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.Concurrency = 4 // four streams at once, whatever their size
		// A shutdown lets a long poll in progress end, so that the messages
		// it returns are released at once: Ctrl-C takes up to WaitTime.
		o.WaitTime = 5 * time.Second
	})
	if err != nil {
		log.Fatal(err)
	}
	err = c.RunStream(ctx, *queueURL, func(ctx context.Context, m *consumer.Message, body io.Reader) error {
		h := sha256.New()
		n, err := io.Copy(h, body)
		if err != nil {
			return err // a failed read (or a checksum mismatch): retried later
		}
		fmt.Printf("streamed %s: %d bytes, sha256 %x\n", m.ID, n, h.Sum(nil))
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
	fmt.Println("stopped")
}
