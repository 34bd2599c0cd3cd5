package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx/payload"
)

const lifecycleLong = `Installs the S3 lifecycle rule that expires payloads: objects under
--key-prefix in --bucket are deleted --days days after they are written, and
incomplete multipart uploads under it are aborted after one day. It removes
payloads that no consumer deletes: those published to SNS topics (shared by
the subscribers), those kept on delete, and those left by a crash.

The rule has a fixed id per prefix, so running the command again replaces it
and keeps every other rule of the bucket. SQS keeps a message at most 14
days; expiring payloads sooner than the queue's retention period can leave
messages whose payloads are gone.

With --show it prints the rule installed for --key-prefix instead, and exits
3 when there is none.`

// defaultExpiryDays is SQS's longest message retention period: payloads
// then outlive every message that points to them.
const defaultExpiryDays = 14

// lifecycleFlags are the flags of sqsx lifecycle.
type lifecycleFlags struct {
	buckets bucketFlags
	prefix  string
	days    int
	show    bool
}

func newLifecycleCommand() (*cobra.Command, subcommand) {
	f := &lifecycleFlags{}
	c := &cobra.Command{
		Use:   "lifecycle --bucket BUCKET [--key-prefix PREFIX] [--days N | --show] [flags]",
		Short: "Install (or --show) the S3 lifecycle rule that expires payloads",
		Long:  lifecycleLong,
	}
	fs := c.Flags()
	f.buckets.register(fs, "S3 `BUCKET` of the payloads (required)", "")
	fs.StringVar(&f.prefix, "key-prefix", "", "expire the objects whose keys start with `PREFIX` (default: the whole bucket); as --key-prefix of send")
	fs.IntVar(&f.days, "days", defaultExpiryDays, "expire payloads `N` days after they are written")
	fs.BoolVar(&f.show, "show", false, "print the installed rule instead of installing it")
	return c, f
}

func (f *lifecycleFlags) check(fs *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case f.buckets.bucket == "":
		return errors.New("--bucket is required")
	case f.show && fs.Changed("days"):
		return errors.New("--days has no effect with --show; pass one or the other")
	case f.days < 1 || f.days > 36500:
		return fmt.Errorf("--days %d is outside 1..36500", f.days)
	}
	return errors.Join(f.buckets.check(), checkKeyPrefix(f.prefix))
}

// ruleJSON is an expiration rule as lifecycle prints it with --output json.
type ruleJSON struct {
	Bucket    string
	KeyPrefix string
	// RuleID is the rule's ID in the bucket's lifecycle configuration.
	RuleID string `json:"RuleId"`
	// Found is false when lifecycle --show found no rule.
	Found                  bool
	Status                 string `json:",omitempty"`
	ExpirationDays         int32  `json:",omitempty"`
	AbortIncompleteDays    int32  `json:"AbortIncompleteMultipartUploadDays,omitempty"`
	Action                 string `json:",omitempty"` // installed, updated, unchanged
	PreviousExpirationDays int32  `json:",omitempty"`
}

// newRuleJSON describes rule r (nil if none) of bucket and prefix.
func newRuleJSON(bucket, prefix string, r *s3types.LifecycleRule) ruleJSON {
	j := ruleJSON{Bucket: bucket, KeyPrefix: prefix, RuleID: payload.ExpirationRuleID(prefix)}
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
	where := "in s3://" + j.Bucket + "/" + j.KeyPrefix
	if j.KeyPrefix == "" {
		where = "in bucket " + j.Bucket
	}
	s := fmt.Sprintf("rule %s (%s): objects %s expire %s after they are written", j.RuleID, j.Status, where, plural(int(j.ExpirationDays), "day"))
	if j.AbortIncompleteDays > 0 {
		s += fmt.Sprintf("; incomplete multipart uploads are aborted after %s", plural(int(j.AbortIncompleteDays), "day"))
	}
	return s
}

func (f *lifecycleFlags) run(ctx context.Context, u *ui) int {
	cfg, err := u.aws.config(ctx)
	if err != nil {
		return u.fail(err)
	}
	s3Client := u.aws.s3(cfg)
	bucket := f.buckets.bucket

	rule, err := payload.ExpirationRule(ctx, s3Client, bucket, f.prefix)
	if err != nil {
		return u.fail(err)
	}
	before := newRuleJSON(bucket, f.prefix, rule)
	if f.show {
		if !before.Found {
			err := withHint(fmt.Errorf("bucket %s has no expiration rule for prefix %q (rule id %s)", bucket, f.prefix, before.RuleID),
				fmt.Sprintf("Install it with: sqsx lifecycle --bucket %s --key-prefix %q --days %d", bucket, f.prefix, defaultExpiryDays))
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
			fmt.Fprintln(u.stdout, before.text())
		}
		return exitOK
	}

	after := before
	switch {
	case before.Found && before.Status == string(s3types.ExpirationStatusEnabled) && before.ExpirationDays == int32(f.days) && before.AbortIncompleteDays == 1:
		after.Action = "unchanged"
	default:
		if err := payload.PutExpirationRule(ctx, s3Client, bucket, f.prefix, int32(f.days)); err != nil {
			return u.fail(err)
		}
		// Read it back, to print what S3 holds.
		rule, err := payload.ExpirationRule(ctx, s3Client, bucket, f.prefix)
		if err != nil {
			return u.fail(err)
		}
		if rule == nil {
			return u.fail(withHint(fmt.Errorf("bucket %s accepted the lifecycle rule %s but does not return it", bucket, before.RuleID),
				"The S3 server may not support lifecycle configuration fully; check it with 'sqsx lifecycle --show'."))
		}
		after = newRuleJSON(bucket, f.prefix, rule)
		after.Action = "installed"
		if before.Found {
			after.Action = "updated"
			after.PreviousExpirationDays = before.ExpirationDays
		}
	}
	if u.json {
		u.emit(after)
		return exitOK
	}
	switch after.Action {
	case "unchanged":
		fmt.Fprintf(u.stdout, "already installed, unchanged: %s\n", after.text())
	case "updated":
		fmt.Fprintf(u.stdout, "updated (was %s): %s\n", plural(int(before.ExpirationDays), "day"), after.text())
	default:
		fmt.Fprintf(u.stdout, "installed: %s\n", after.text())
	}
	return exitOK
}
