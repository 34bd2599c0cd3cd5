// Command fifo consumes a FIFO queue with package consumer: the messages of
// one message group are handled one at a time, in order, and the groups in
// parallel. When a message fails, the rest of its group is not handled
// until SQS delivers the failed one again.
//
//	go run ./examples/fifo -queue-url URL.fifo -bucket BUCKET
//
// It prints one line per message handled, with its group.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	queueURL := flag.String("queue-url", "", "URL of the FIFO queue to consume (ends in .fifo)")
	bucket := flag.String("bucket", "", "S3 bucket of the payloads")
	flag.Parse()
	if *queueURL == "" || *bucket == "" {
		log.Fatal("usage: fifo -queue-url URL.fifo -bucket BUCKET")
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
	// A FIFO queue needs nothing special: the ".fifo" URL is enough.
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.Concurrency = 8 // up to 8 groups at once
		// A shutdown lets a long poll in progress end, so that the messages
		// it returns are released at once: Ctrl-C takes up to WaitTime.
		o.WaitTime = 5 * time.Second
	})
	if err != nil {
		log.Fatal(err)
	}
	err = c.Run(ctx, *queueURL, func(ctx context.Context, m *consumer.Message) error {
		fmt.Printf("group %s: %s (%d bytes)\n", m.GroupID, head(m.Body), len(m.Body))
		return nil
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
	fmt.Println("stopped")
}

// head returns the start of s, for printing.
func head(s string) string {
	if len(s) > 16 {
		return s[:16] + "..."
	}
	return s
}
