package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/sqsx/sqsx/payload"
)

const lifecycleUsage = `Usage: sqsx lifecycle --bucket BUCKET [--prefix PREFIX] [--days N | --show] [flags]

Installs the S3 lifecycle rule that expires payloads: objects under --prefix
in --bucket are deleted --days days after they are written, and incomplete
multipart uploads under it are aborted after one day. It removes payloads
that no consumer deletes: those published to SNS topics (shared by the
subscribers), those kept on delete, and those left by a crash.

The rule has a fixed id per prefix, so running the command again replaces it
and keeps every other rule of the bucket. SQS keeps a message at most 14
days; expiring payloads sooner than the queue's retention period can leave
messages whose payloads are gone.

With --show it prints the rule installed for --prefix instead, and exits 3
when there is none.

Flags:
`

// defaultExpiryDays is SQS's longest message retention period: payloads
// then outlive every message that points to them.
const defaultExpiryDays = 14

// lifecycleFlags are the parsed flags of sqsx lifecycle.
type lifecycleFlags struct {
	common commonFlags
	bucket string
	prefix string
	days   int
	show   bool
}

// parseLifecycle parses and checks the flags of sqsx lifecycle.
func parseLifecycle(args []string) (*lifecycleFlags, *flag.FlagSet, error) {
	f := &lifecycleFlags{}
	fs := flag.NewFlagSet("sqsx lifecycle", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&f.bucket, "bucket", "", "S3 `BUCKET` of the payloads (required)")
	fs.StringVar(&f.prefix, "prefix", "", "expire the objects whose keys start with `PREFIX` (default: the whole bucket); as --key-prefix of send")
	fs.IntVar(&f.days, "days", defaultExpiryDays, "expire payloads `N` days after they are written")
	fs.BoolVar(&f.show, "show", false, "print the installed rule instead of installing it")
	f.common.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	daysSet := false
	fs.Visit(func(fl *flag.Flag) { daysSet = daysSet || fl.Name == "days" })
	switch {
	case fs.NArg() > 0:
		return nil, fs, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.bucket == "":
		return nil, fs, errors.New("--bucket is required")
	case f.show && daysSet:
		return nil, fs, errors.New("--days has no effect with --show; pass one or the other")
	case f.days < 1 || f.days > 36500:
		return nil, fs, fmt.Errorf("--days %d is outside 1..36500", f.days)
	}
	if err := checkBuckets(f.bucket, nil); err != nil {
		return nil, fs, err
	}
	if err := payload.ValidateKeyPrefix(f.prefix); err != nil {
		return nil, fs, fmt.Errorf("--prefix: %v", err)
	}
	return f, fs, nil
}

// ruleJSON is an expiration rule as lifecycle prints it with --json.
type ruleJSON struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
	RuleID string `json:"rule_id"`
	// Found is false when lifecycle --show found no rule.
	Found                 bool   `json:"found"`
	Status                string `json:"status,omitempty"`
	ExpirationDays        int32  `json:"expiration_days,omitempty"`
	AbortIncompleteDays   int32  `json:"abort_incomplete_multipart_days,omitempty"`
	Action                string `json:"action,omitempty"` // installed, updated, unchanged
	PreviousExpirationDay int32  `json:"previous_expiration_days,omitempty"`
}

// newRuleJSON describes rule r (nil if none) of bucket and prefix.
func newRuleJSON(bucket, prefix string, r *s3types.LifecycleRule) ruleJSON {
	j := ruleJSON{Bucket: bucket, Prefix: prefix, RuleID: payload.ExpirationRuleID(prefix)}
	if r == nil {
		return j
	}
	j.Found = true
	j.Status = string(r.Status)
	if r.Expiration != nil {
		j.ExpirationDays = aws.ToInt32(r.Expiration.Days)
	}
	if r.AbortIncompleteMultipartUpload != nil {
		j.AbortIncompleteDays = aws.ToInt32(r.AbortIncompleteMultipartUpload.DaysAfterInitiation)
	}
	return j
}

// text describes the rule in words.
func (j ruleJSON) text() string {
	where := "in s3://" + j.Bucket + "/" + j.Prefix
	if j.Prefix == "" {
		where = "in bucket " + j.Bucket
	}
	s := fmt.Sprintf("rule %s (%s): objects %s expire %s after they are written", j.RuleID, j.Status, where, plural(int(j.ExpirationDays), "day"))
	if j.AbortIncompleteDays > 0 {
		s += fmt.Sprintf("; incomplete multipart uploads are aborted after %s", plural(int(j.AbortIncompleteDays), "day"))
	}
	return s
}

func runLifecycle(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	u := newUI("lifecycle", args, stdout, stderr)
	f, fs, err := parseLifecycle(args)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stdout, lifecycleUsage, fs)
		return exitOK
	}
	if err != nil {
		return u.usageError(err)
	}
	u.set(&f.common)
	cfg, err := f.common.aws.config(ctx)
	if err != nil {
		return u.fail(err)
	}
	s3Client := f.common.aws.s3(cfg)

	rule, err := payload.ExpirationRule(ctx, s3Client, f.bucket, f.prefix)
	if err != nil {
		return u.fail(err)
	}
	before := newRuleJSON(f.bucket, f.prefix, rule)
	if f.show {
		if !before.Found {
			err := withHint(fmt.Errorf("bucket %s has no expiration rule for prefix %q (rule id %s)", f.bucket, f.prefix, before.RuleID),
				fmt.Sprintf("Install it with: sqsx lifecycle --bucket %s --prefix %q --days %d", f.bucket, f.prefix, defaultExpiryDays))
			if u.json {
				u.emit(before)
				return exitNoMessage
			}
			u.notef("sqsx lifecycle: %s\n", explain(err))
			return exitNoMessage
		}
		if u.json {
			u.emit(before)
		} else {
			fmt.Fprintln(stdout, before.text())
		}
		return exitOK
	}

	after := before
	switch {
	case before.Found && before.Status == string(s3types.ExpirationStatusEnabled) && before.ExpirationDays == int32(f.days) && before.AbortIncompleteDays == 1:
		after.Action = "unchanged"
	default:
		if err := payload.PutExpirationRule(ctx, s3Client, f.bucket, f.prefix, int32(f.days)); err != nil {
			return u.fail(err)
		}
		// Read it back, to print what S3 holds.
		rule, err := payload.ExpirationRule(ctx, s3Client, f.bucket, f.prefix)
		if err != nil {
			return u.fail(err)
		}
		if rule == nil {
			return u.fail(withHint(fmt.Errorf("bucket %s accepted the lifecycle rule %s but does not return it", f.bucket, before.RuleID),
				"The S3 server may not support lifecycle configuration fully; check it with 'sqsx lifecycle --show'."))
		}
		after = newRuleJSON(f.bucket, f.prefix, rule)
		after.Action = "installed"
		if before.Found {
			after.Action = "updated"
			after.PreviousExpirationDay = before.ExpirationDays
		}
	}
	if u.json {
		u.emit(after)
		return exitOK
	}
	switch after.Action {
	case "unchanged":
		fmt.Fprintf(stdout, "already installed, unchanged: %s\n", after.text())
	case "updated":
		fmt.Fprintf(stdout, "updated (was %s): %s\n", plural(int(before.ExpirationDays), "day"), after.text())
	default:
		fmt.Fprintf(stdout, "installed: %s\n", after.text())
	}
	return exitOK
}
