package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx/internal/ops"
)

const statsLong = `Prints the depth of a queue (messages visible, in flight and delayed, as
SQS counts them approximately), the depth of its dead-letter queue when its
redrive policy names one, and, with --bucket, the payload storage under
--key-prefix: how many objects, how many bytes, and the oldest.

The age of the oldest message is not shown: SQS reports it only to
CloudWatch (ApproximateAgeOfOldestMessage), and reading a message to find it
would count as a receive. Read it in CloudWatch.

With --watch the numbers are read again every --interval and redrawn (on a
terminal; otherwise printed again) until Ctrl-C. With --output json each
reading is one object, with SQS's attribute names: QueueUrl,
ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
ApproximateNumberOfMessagesDelayed, MessageRetentionPeriod,
DeadLetterQueue {QueueUrl, ApproximateNumberOfMessages, MaxReceiveCount},
and Payloads {Bucket, KeyPrefix, Objects, Bytes, Oldest}.`

// statsFlags are the flags of sqsx stats.
type statsFlags struct {
	queue    queueFlags
	buckets  bucketFlags
	prefix   string
	watch    bool
	interval time.Duration
}

func newStatsCommand() (*cobra.Command, subcommand) {
	f := &statsFlags{}
	c := &cobra.Command{
		Use:   "stats --queue-url URL | --queue NAME [--bucket BUCKET [--key-prefix PREFIX]] [--watch] [flags]",
		Short: "Show the depth of a queue and its dead-letter queue, and the payload storage",
		Long:  statsLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` of the payloads, to sum up", "")
	fs.StringVar(&f.prefix, "key-prefix", "", "sum up the objects whose keys start with `PREFIX`; as --key-prefix of send")
	fs.BoolVar(&f.watch, "watch", false, "read the numbers again every --interval and redraw them, until Ctrl-C")
	fs.DurationVar(&f.interval, "interval", 5*time.Second, "with --watch, read the numbers every `DURATION`")
	return c, f
}

func (f *statsFlags) check(_ *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case f.interval < time.Second:
		return fmt.Errorf("--interval %v is under 1s", f.interval)
	case f.prefix != "" && f.buckets.bucket == "":
		return errors.New("--key-prefix needs --bucket")
	}
	return errors.Join(f.queue.check(), f.buckets.check(), checkKeyPrefix(f.prefix))
}

// statsJSON is what sqsx stats --output json prints, with SQS's attribute
// names.
type statsJSON struct {
	QueueURL                              string `json:"QueueUrl"`
	ApproximateNumberOfMessages           int64
	ApproximateNumberOfMessagesNotVisible int64
	ApproximateNumberOfMessagesDelayed    int64
	// MessageRetentionPeriod is in seconds.
	MessageRetentionPeriod int64
	DeadLetterQueue        *deadLetterJSON `json:",omitempty"`
	Payloads               *payloadsJSON   `json:",omitempty"`
}

// deadLetterJSON is a dead-letter queue as stats prints it.
type deadLetterJSON struct {
	QueueURL                    string `json:"QueueUrl"`
	ApproximateNumberOfMessages int64
	MaxReceiveCount             int
}

// payloadsJSON is the payload storage as stats prints it.
type payloadsJSON struct {
	Bucket    string
	KeyPrefix string
	Objects   int64
	Bytes     int64
	// Oldest is the LastModified time of the oldest object, RFC 3339;
	// absent when there is none.
	Oldest string `json:",omitempty"`
}

func (f *statsFlags) run(ctx context.Context, u *ui) int {
	cfg, sqsClient, queueURL, err := u.aws.openQueue(ctx, &f.queue)
	if err != nil {
		return u.fail(err)
	}
	s3Client := u.aws.s3(cfg)
	redraw := f.watch && !u.json && isTerminal(u.stdout)
	for {
		st, err := f.gather(ctx, sqsClient, s3Client, queueURL)
		if err != nil {
			if f.watch && ctx.Err() != nil {
				return exitOK // Ctrl-C while reading
			}
			return u.fail(err)
		}
		switch {
		case u.json:
			u.emit(st)
		case redraw:
			// Home and clear the screen, then draw.
			var b strings.Builder
			b.WriteString("\x1b[H\x1b[2J")
			fmt.Fprintf(&b, "%s (every %v; Ctrl-C to stop)\n\n", time.Now().Format(time.TimeOnly), f.interval)
			printStats(&b, st)
			io.WriteString(u.stdout, b.String())
		default:
			if f.watch {
				fmt.Fprintf(u.stdout, "%s\n", time.Now().Format(time.RFC3339))
			}
			printStats(u.stdout, st)
		}
		if !f.watch {
			return exitOK
		}
		select {
		case <-ctx.Done():
			return exitOK
		case <-time.After(f.interval):
		}
	}
}

// gather reads the numbers of the queue at queueURL and of the payloads.
func (f *statsFlags) gather(ctx context.Context, sqsAPI ops.SQSAPI, s3API ops.S3API, queueURL string) (*statsJSON, error) {
	q, err := ops.ReadQueue(ctx, sqsAPI, queueURL)
	if err != nil {
		return nil, err
	}
	st := &statsJSON{
		QueueURL:                              q.URL,
		ApproximateNumberOfMessages:           q.Visible,
		ApproximateNumberOfMessagesNotVisible: q.InFlight,
		ApproximateNumberOfMessagesDelayed:    q.Delayed,
		MessageRetentionPeriod:                int64(q.Retention / time.Second),
	}
	if d := q.DeadLetter; d != nil {
		st.DeadLetterQueue = &deadLetterJSON{QueueURL: d.URL, ApproximateNumberOfMessages: d.Visible, MaxReceiveCount: q.MaxReceiveCount}
	}
	if f.buckets.bucket != "" {
		s, err := ops.ReadStorage(ctx, s3API, f.buckets.bucket, f.prefix)
		if err != nil {
			return nil, err
		}
		st.Payloads = &payloadsJSON{Bucket: s.Bucket, KeyPrefix: s.Prefix, Objects: s.Objects, Bytes: s.Bytes}
		if !s.Oldest.IsZero() {
			st.Payloads.Oldest = s.Oldest.UTC().Format(time.RFC3339)
		}
	}
	return st, nil
}

// printStats prints st as text.
func printStats(w io.Writer, st *statsJSON) {
	fmt.Fprintf(w, "queue %s\n", st.QueueURL)
	fmt.Fprintf(w, "  visible     %d\n  in flight   %d\n  delayed     %d\n", st.ApproximateNumberOfMessages,
		st.ApproximateNumberOfMessagesNotVisible, st.ApproximateNumberOfMessagesDelayed)
	fmt.Fprintf(w, "  retention   %v\n", time.Duration(st.MessageRetentionPeriod)*time.Second)
	fmt.Fprintln(w, "  oldest message age: not shown (CloudWatch's ApproximateAgeOfOldestMessage)")
	if d := st.DeadLetterQueue; d != nil {
		fmt.Fprintf(w, "dead-letter queue %s (after %s)\n  messages    %d\n", d.QueueURL, plural(d.MaxReceiveCount, "receive"), d.ApproximateNumberOfMessages)
	} else {
		fmt.Fprintln(w, "dead-letter queue: none (no redrive policy)")
	}
	if p := st.Payloads; p != nil {
		fmt.Fprintf(w, "payloads s3://%s/%s\n  objects     %d\n  bytes       %d (%s)\n", p.Bucket, p.KeyPrefix, p.Objects, p.Bytes, humanSize(p.Bytes))
		if p.Oldest != "" {
			fmt.Fprintf(w, "  oldest      %s\n", p.Oldest)
		}
	}
}

// humanSize returns n bytes in the largest binary unit it reaches, with
// one decimal: 1.5 GiB, 300.0 KiB, 12 bytes.
func humanSize(n int64) string {
	const units = "KMGTPE"
	if n < 1024 {
		return plural(int(n), "byte")
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, units[i])
}
