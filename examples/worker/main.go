// Command worker is a service worker built on package consumer: it handles
// the messages of an SQS queue, payloads offloaded to S3 included, until it
// gets SIGINT or SIGTERM, then shuts down without losing work.
//
//	go run ./examples/worker -queue-url URL -bucket BUCKET
//
// It prints one line per message handled. A message whose body is "fail"
// fails, to show the retry backoff and, with a redrive policy, the way to
// the dead-letter queue.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
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
		log.Fatal("usage: worker -queue-url URL -bucket BUCKET")
	}

	// Stop on Ctrl-C or SIGTERM: Run then shuts down gracefully.
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

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.Concurrency = 20
		// A shutdown lets a long poll in progress end, so that the messages
		// it returns are released at once: Ctrl-C takes up to WaitTime.
		o.WaitTime = 5 * time.Second
		o.MaxInFlightBytes = 512 << 20 // at most 512 MiB of bodies in memory
		o.Backoff = consumer.ExponentialBackoff(5*time.Second, 10*time.Minute)
		o.Hooks.OnError = func(err *consumer.Error) {
			logger.Warn("consumer", "op", err.Op, "message", err.MessageID, "code", err.Code, "error", err.Err)
		}
	})
	if err != nil {
		log.Fatal(err)
	}

	err = c.Run(ctx, *queueURL, func(ctx context.Context, m *consumer.Message) error {
		if m.Body == "fail" {
			return fmt.Errorf("message %s cannot be processed (attempt %d)", m.ID, m.ReceiveCount)
		}
		fmt.Printf("handled %s: %d bytes, offloaded %v, attempt %d, sent %s\n",
			m.ID, len(m.Body), m.Offloaded, m.ReceiveCount, m.SentTime.Format(time.RFC3339))
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
	fmt.Println("stopped")
}
