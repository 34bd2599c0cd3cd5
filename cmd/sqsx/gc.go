package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx/internal/ops"
)

const gcLong = `Lists the payload objects under --key-prefix in --bucket that no message of
the queue can still point to, and the incomplete multipart uploads there,
and deletes them with --apply. Without --apply nothing is deleted.

An object is collected when it was last modified before the cutoff: now,
less the queue's MessageRetentionPeriod, less --grace (default 1h, for the
time between a payload's upload and its message's send, message delays and
clock skew). With a redrive policy the dead-letter queue's retention counts
too: the longer of the two for a standard queue, whose messages keep their
enqueue time when they move; their sum for a FIFO queue, whose dead-letter
queue counts again. Incomplete multipart uploads initiated before the cutoff
are aborted.

gc assumes that the objects under --key-prefix are payloads of this queue
(or of topics that deliver to it): keep payloads of queues with a longer
retention period under another prefix. Payloads of topics with several
subscriber queues are collected once this queue's messages expire; use the
longest retention of those queues, or a lifecycle rule ('sqsx lifecycle').

Prints each object and upload on standard output and a summary on standard
error; with --output json, one object with Cutoff, Objects, Uploads, Kept
and, with --apply, Deleted, Aborted and Errors. With --apply a progress bar
is drawn on a terminal, and a key that could not be deleted is reported
without stopping the others; the exit status is then 1.`

// gcFlags are the flags of sqsx gc.
type gcFlags struct {
	queue   queueFlags
	buckets bucketFlags
	prefix  string
	grace   time.Duration
	apply   bool
	now     string // for tests: the time taken as now, RFC 3339
}

func newGCCommand() (*cobra.Command, subcommand) {
	f := &gcFlags{}
	c := &cobra.Command{
		Use:   "gc --bucket BUCKET [--key-prefix PREFIX] --queue-url URL | --queue NAME [--grace DURATION] [--apply] [flags]",
		Short: "Delete payloads that no message can still point to (with --apply)",
		Long:  gcLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` of the payloads (required)", "")
	fs.StringVar(&f.prefix, "key-prefix", "", "collect only the objects whose keys start with `PREFIX`; as --key-prefix of send")
	fs.DurationVar(&f.grace, "grace", time.Hour, "keep objects for `DURATION` beyond the retention period")
	fs.BoolVar(&f.apply, "apply", false, "delete the objects and abort the uploads; without it, only list them")
	fs.StringVar(&f.now, "now", "", "take `TIME` (RFC 3339) as now")
	fs.MarkHidden("now")
	return c, f
}

func (f *gcFlags) check(_ *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case f.buckets.bucket == "":
		return errors.New("--bucket is required")
	case f.grace < 0:
		return fmt.Errorf("--grace %v is negative", f.grace)
	}
	if f.now != "" {
		if _, err := time.Parse(time.RFC3339Nano, f.now); err != nil {
			return fmt.Errorf("--now: %v", err)
		}
	}
	return errors.Join(f.queue.check(), f.buckets.check(), checkKeyPrefix(f.prefix))
}

// gcJSON is what sqsx gc --output json prints.
type gcJSON struct {
	Bucket    string
	KeyPrefix string
	Cutoff    time.Time
	// PayloadLifetime is how long a message can stay in the queue or its
	// dead-letter queue, in seconds; GraceSeconds is --grace.
	PayloadLifetime int64
	GraceSeconds    int64
	Objects         []ops.Object
	Uploads         []ops.Upload
	Kept            int64
	Applied         bool
	Deleted         int           `json:",omitempty"`
	Aborted         int           `json:",omitempty"`
	Errors          []gcErrorJSON `json:",omitempty"`
}

// gcErrorJSON is an object or upload that gc --apply could not remove.
type gcErrorJSON struct {
	Key       string
	UploadID  string `json:"UploadId,omitempty"`
	ErrorCode string `json:",omitempty"`
	Error     string
}

func (f *gcFlags) run(ctx context.Context, u *ui) int {
	now := time.Now()
	if f.now != "" {
		now, _ = time.Parse(time.RFC3339Nano, f.now)
	}
	cfg, sqsClient, queueURL, err := u.aws.openQueue(ctx, &f.queue)
	if err != nil {
		return u.fail(err)
	}
	s3Client := u.aws.s3(cfg)
	q, err := ops.ReadQueue(ctx, sqsClient, queueURL)
	if err != nil {
		return u.fail(err)
	}
	lifetime := q.PayloadLifetime()
	plan, err := ops.PlanGC(ctx, s3Client, f.buckets.bucket, f.prefix, now.Add(-lifetime-f.grace))
	if err != nil {
		return u.fail(err)
	}
	res := gcJSON{
		Bucket: plan.Bucket, KeyPrefix: plan.Prefix, Cutoff: plan.Cutoff.UTC(),
		PayloadLifetime: int64(lifetime / time.Second), GraceSeconds: int64(f.grace / time.Second),
		Objects: plan.Objects, Uploads: plan.Uploads, Kept: plan.Kept, Applied: f.apply,
	}
	if !u.json {
		for _, o := range plan.Objects {
			fmt.Fprintf(u.stdout, "s3://%s/%s\t%d\t%s\n", plan.Bucket, o.Key, o.Size, o.LastModified.UTC().Format(time.RFC3339))
		}
		for _, up := range plan.Uploads {
			fmt.Fprintf(u.stdout, "s3://%s/%s\tupload %s\t%s\n", plan.Bucket, up.Key, up.UploadID, up.Initiated.UTC().Format(time.RFC3339))
		}
	}
	what := fmt.Sprintf("%s (%s) and %s under s3://%s/%s last modified before %s (retention %v + grace %v)",
		plural(len(plan.Objects), "object"), humanSize(plan.Bytes()), plural(len(plan.Uploads), "incomplete upload"),
		plan.Bucket, plan.Prefix, plan.Cutoff.UTC().Format(time.RFC3339), lifetime, f.grace)
	if !f.apply {
		if u.json {
			u.emit(res)
			return exitOK
		}
		u.notef("sqsx gc: would delete %s; %d newer kept. Nothing was deleted: pass --apply to delete them.\n", what, plan.Kept)
		return exitOK
	}

	p := newItemProgress(u.progressOut(), "deleting", int64(len(plan.Objects)+len(plan.Uploads)))
	var done int64
	applied, err := ops.ApplyGC(ctx, s3Client, plan, func(n int) { p.add(int(int64(n) - done)); done = int64(n) })
	p.finish()
	res.Deleted, res.Aborted = len(applied.Deleted), len(applied.Aborted)
	for _, e := range applied.Errors {
		res.Errors = append(res.Errors, gcErrorJSON{Key: e.Key, UploadID: e.UploadID, ErrorCode: e.Code, Error: e.Err.Error()})
	}
	code := exitOK
	if len(res.Errors) > 0 {
		code = exitError
	}
	if u.json {
		u.emit(res)
	} else {
		for _, e := range applied.Errors {
			fmt.Fprintf(u.stderr, "sqsx gc: %v\n", e)
		}
	}
	if err != nil {
		return u.fail(withHint(fmt.Errorf("deleted %d objects and aborted %d uploads, then: %w", res.Deleted, res.Aborted, err),
			"Run the command again to delete the rest."))
	}
	u.notef("sqsx gc: deleted %d of %s; %d failed; %d newer kept\n", res.Deleted+res.Aborted, what, len(res.Errors), plan.Kept)
	return code
}
