package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

const doctorLong = `Checks a setup and says what to fix, one line per check:

  credentials  found, and accepted by the services (an authentication error
               from any call below means they are not)
  bucket       exists; a small probe object under
               --key-prefix can be written,
               read back and deleted
  queue        exists; its MaximumMessageSize against --threshold
  lifecycle    an expiration rule for the payloads (sqsx lifecycle), lasting
               at least the queue's retention period
  encryption   the bucket's default server-side encryption
  topic        exists (with --topic-arn)

Each line starts with OK, WARN or FAIL; a WARN or FAIL line is followed by
what to do. With --output json each check is one JSON object (Check, Status,
Detail, Hint). Exit status: 0 when nothing failed, 4 when a check failed, 2
on invalid usage.`

// doctorFlags are the flags of sqsx doctor.
type doctorFlags struct {
	queue          queueFlags
	buckets        bucketFlags
	prefix         string
	topicARN       string
	threshold      int64
	thresholdQueue bool
}

func newDoctorCommand() (*cobra.Command, subcommand) {
	f := &doctorFlags{}
	c := &cobra.Command{
		Use:   "doctor --bucket BUCKET [--queue-url URL | --queue NAME] [--key-prefix PREFIX] [--topic-arn ARN] [flags]",
		Short: "Check credentials, bucket, queue, lifecycle rule and encryption",
		Long:  doctorLong,
	}
	fs := c.Flags()
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` of the payloads (required)", "")
	fs.StringVar(&f.prefix, "key-prefix", "", "key `PREFIX` of the payloads, as --key-prefix of send")
	fs.StringVar(&f.topicARN, "topic-arn", "", "also check the SNS topic `ARN`")
	fs.Int64Var(&f.threshold, "threshold", sqsx.DefaultThreshold, "the `N` of send --threshold, to check against the queue")
	fs.BoolVar(&f.thresholdQueue, "threshold-from-queue", false, "send uses --threshold-from-queue")
	return c, f
}

func (f *doctorFlags) check(_ *pflag.FlagSet, args []string) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q", args[0])
	case f.buckets.bucket == "":
		return errors.New("--bucket is required")
	case f.queue.url != "" && f.queue.name != "":
		return errors.New("pass either --queue-url or --queue, not both")
	case f.threshold < 1 || f.threshold > sqsx.MaxMessageSize:
		return fmt.Errorf("--threshold %d is outside 1..%d", f.threshold, sqsx.MaxMessageSize)
	case f.topicARN != "" && !validTopicARN(f.topicARN):
		return fmt.Errorf("--topic-arn %q is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", f.topicARN)
	}
	return errors.Join(f.buckets.check(), checkKeyPrefix(f.prefix))
}

// Check statuses.
const (
	statusOK   = "OK"
	statusWarn = "WARN"
	statusFail = "FAIL"
)

// checkResult is the outcome of one doctor check.
type checkResult struct {
	Check  string
	Status string
	Detail string
	Hint   string `json:",omitempty"`
}

// doctor runs the checks. It records which services accepted the
// credentials and which rejected them.
type doctor struct {
	f        *doctorFlags
	s3       *s3.Client
	sqs      *sqs.Client
	sns      *sns.Client
	accepted []string // services that answered a signed request
	authErr  error    // the first authentication failure
	// Found by the queue check, for the lifecycle check.
	retentionSeconds int64
	// bucketFailed: the bucket check failed, so the checks of the bucket's
	// configuration are left out: they would fail the same way.
	bucketFailed bool
}

// observe records what err says about the credentials used with service.
func (d *doctor) observe(service string, err error) {
	var sendErr *smithyhttp.RequestSendError
	switch code := errorCode(err); {
	case err == nil || (code != "" && !authCodes[code]):
		if !slices.Contains(d.accepted, service) {
			d.accepted = append(d.accepted, service)
		}
	case authCodes[code]:
		if d.authErr == nil {
			d.authErr = err
		}
	case errors.As(err, &sendErr):
		// Not reached: says nothing about the credentials.
	}
}

// failure returns a FAIL result for err, explained.
func failure(check string, err error) checkResult {
	msg, hint := describe(err)
	return checkResult{Check: check, Status: statusFail, Detail: msg, Hint: hint}
}

func (f *doctorFlags) run(ctx context.Context, u *ui) int {
	var results []checkResult
	cfg, err := u.aws.config(ctx)
	if err != nil {
		results = append(results, failure("configuration", err))
		return report(u, results)
	}
	d := &doctor{f: f, s3: u.aws.s3(cfg), sqs: u.aws.sqs(cfg), sns: u.aws.sns(cfg)}

	creds, credErr := cfg.Credentials.Retrieve(ctx)
	var rest []checkResult
	if credErr == nil {
		rest = append(rest, d.checkBucket(ctx))
		if f.queue.url != "" || f.queue.name != "" {
			rest = append(rest, d.checkQueue(ctx))
		}
		if !d.bucketFailed {
			rest = append(rest, d.checkLifecycle(ctx), d.checkEncryption(ctx))
		}
		if f.topicARN != "" {
			rest = append(rest, d.checkTopic(ctx))
		}
	}
	results = append(results, d.checkCredentials(creds, credErr))
	results = append(results, rest...)
	return report(u, results)
}

// report prints the results and returns the exit code.
func report(u *ui, results []checkResult) int {
	failed := false
	for _, r := range results {
		failed = failed || r.Status == statusFail
		if u.json {
			u.emit(r)
			continue
		}
		fmt.Fprintf(u.stdout, "%-4s  %-11s  %s\n", r.Status, r.Check, r.Detail)
		if r.Hint != "" && r.Status != statusOK {
			fmt.Fprintf(u.stdout, "      %-11s  fix: %s\n", "", strings.ReplaceAll(r.Hint, "\n", "\n                        "))
		}
	}
	if failed {
		return exitDoctor
	}
	return exitOK
}

func (d *doctor) checkCredentials(creds aws.Credentials, err error) checkResult {
	const name = "credentials"
	if err != nil {
		return failure(name, fmt.Errorf("failed to retrieve credentials: %w", err))
	}
	key := creds.AccessKeyID
	if len(key) > 8 {
		key = key[:4] + "..." + key[len(key)-4:]
	}
	from := fmt.Sprintf("access key %s from %s", key, orDefault(creds.Source, "the default chain"))
	switch {
	case d.authErr != nil:
		msg, _ := describe(d.authErr)
		return checkResult{Check: name, Status: statusFail, Detail: from + ": " + msg,
			Hint: "Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --profile); a session token may have expired."}
	case len(d.accepted) == 0:
		return checkResult{Check: name, Status: statusWarn, Detail: from + ": not verified, no service could be reached",
			Hint: "Fix the endpoints below, then run doctor again."}
	}
	return checkResult{Check: name, Status: statusOK, Detail: from + ", accepted by " + strings.Join(d.accepted, " and ")}
}

// checkBucket checks the bucket and records whether it failed.
func (d *doctor) checkBucket(ctx context.Context) checkResult {
	res := d.bucketCheck(ctx)
	d.bucketFailed = res.Status == statusFail
	return res
}

// bucketCheck checks that the bucket exists and that a probe object can be
// written, read back and deleted.
func (d *doctor) bucketCheck(ctx context.Context) checkResult {
	const name = "bucket"
	b := d.f.buckets.bucket
	_, err := d.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b)})
	d.observe("S3", err)
	if err != nil {
		var nf *s3types.NotFound
		var re *smithyhttp.ResponseError
		switch {
		case errors.As(err, &nf) || errorCode(err) == "NoSuchBucket" || (errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound):
			return checkResult{Check: name, Status: statusFail, Detail: fmt.Sprintf("bucket %s does not exist", b),
				Hint: fmt.Sprintf("Create it (aws s3 mb s3://%s), or pass an existing bucket with --bucket; check the region.", b)}
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusForbidden:
			// HeadBucket has no body to tell why; the probe below does.
		default:
			return failure(name, fmt.Errorf("HeadBucket %s: %w", b, err))
		}
	}
	var rnd [8]byte
	rand.Read(rnd[:])
	key := d.f.prefix + "sqsx-doctor-probe-" + hex.EncodeToString(rnd[:])
	where := "s3://" + b + "/" + key
	probe := []byte("sqsx doctor probe\n")
	if _, err := d.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(probe)}); err != nil {
		d.observe("S3", err)
		return failure(name, withHint(fmt.Errorf("cannot write %s: %w", where, err),
			fmt.Sprintf("Senders need s3:PutObject on arn:aws:s3:::%s/%s*.", b, d.f.prefix)))
	}
	d.observe("S3", nil)
	got, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	var data []byte
	if err == nil {
		data, err = io.ReadAll(got.Body)
		got.Body.Close()
	}
	_, delErr := d.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
	switch {
	case err != nil:
		return failure(name, withHint(fmt.Errorf("wrote %s but cannot read it: %w", where, err),
			fmt.Sprintf("Receivers need s3:GetObject on arn:aws:s3:::%s/%s*.", b, d.f.prefix)))
	case !bytes.Equal(data, probe):
		return checkResult{Check: name, Status: statusFail, Detail: fmt.Sprintf("wrote %s but read back different bytes (%d instead of %d)", where, len(data), len(probe)),
			Hint: "Something between this machine and S3 alters objects; check proxies and the endpoint."}
	case delErr != nil:
		msg, _ := describe(delErr)
		return checkResult{Check: name, Status: statusFail, Detail: fmt.Sprintf("cannot delete %s: %s", where, msg),
			Hint: fmt.Sprintf("Receivers delete payloads after their messages: grant s3:DeleteObject on arn:aws:s3:::%s/%s*, or keep payloads and expire them with 'sqsx lifecycle'. Delete the probe object yourself.", b, d.f.prefix)}
	}
	return checkResult{Check: name, Status: statusOK, Detail: fmt.Sprintf("bucket %s: wrote, read back and deleted a probe object under %q", b, d.f.prefix)}
}

func (d *doctor) checkQueue(ctx context.Context) checkResult {
	const name = "queue"
	url, err := d.f.queue.resolve(ctx, d.sqs)
	if err != nil {
		d.observe("SQS", err)
		return failure(name, err)
	}
	out, err := d.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameMaximumMessageSize, types.QueueAttributeNameMessageRetentionPeriod,
		},
	})
	d.observe("SQS", err)
	if err != nil {
		return failure(name, err)
	}
	maxSize, err := strconv.ParseInt(out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)], 10, 64)
	if err != nil {
		return checkResult{Check: name, Status: statusWarn, Detail: fmt.Sprintf("queue %s does not report its MaximumMessageSize", url),
			Hint: "Pass --threshold no larger than the queue's maximum message size to send."}
	}
	if r, err := strconv.ParseInt(out.Attributes[string(types.QueueAttributeNameMessageRetentionPeriod)], 10, 64); err == nil {
		d.retentionSeconds = r
	}
	t := d.f.threshold
	switch {
	case d.f.thresholdQueue:
		return checkResult{Check: name, Status: statusOK, Detail: fmt.Sprintf("queue %s: the threshold follows its MaximumMessageSize, %d bytes", url, maxSize)}
	case t > maxSize:
		return checkResult{Check: name, Status: statusWarn,
			Detail: fmt.Sprintf("queue %s: the threshold, %d bytes, is above its MaximumMessageSize, %d: SQS refuses messages of %d to %d bytes sent in SQS", url, t, maxSize, maxSize+1, t),
			Hint:   fmt.Sprintf("Send with --threshold-from-queue (or --threshold %d), or raise the queue's MaximumMessageSize to %d.", maxSize, t)}
	case t < maxSize:
		return checkResult{Check: name, Status: statusOK,
			Detail: fmt.Sprintf("queue %s: threshold %d bytes, within its MaximumMessageSize, %d (--threshold-from-queue would keep messages up to %d bytes in SQS)", url, t, maxSize, maxSize)}
	}
	return checkResult{Check: name, Status: statusOK, Detail: fmt.Sprintf("queue %s: threshold %d bytes, its MaximumMessageSize", url, t)}
}

func (d *doctor) checkLifecycle(ctx context.Context) checkResult {
	const name = "lifecycle"
	b, prefix := d.f.buckets.bucket, d.f.prefix
	rulePrefix := prefix
	rule, err := payload.ExpirationRule(ctx, d.s3, b, prefix)
	if err == nil && rule == nil && prefix != "" {
		// A rule for the whole bucket covers the prefix too.
		rulePrefix = ""
		rule, err = payload.ExpirationRule(ctx, d.s3, b, "")
	}
	d.observe("S3", err)
	install := fmt.Sprintf("sqsx lifecycle --bucket %s --key-prefix %q --days %d", b, prefix, defaultExpiryDays)
	status := statusWarn
	why := "payloads that consumers do not delete (published to SNS topics, kept on delete, or left by a crash) stay forever"
	if d.f.topicARN != "" {
		status = statusFail
		why = "payloads published to the topic are shared by its subscribers, so none deletes them: without a rule they stay forever"
	}
	switch code := errorCode(err); {
	case code == "NotImplemented" || code == "NotImplementedException":
		return checkResult{Check: name, Status: statusWarn, Detail: "the S3 server does not support lifecycle configuration (" + code + ")",
			Hint: "Amazon S3 does; on this server, delete payloads some other way. With Amazon S3: " + install}
	case err != nil:
		msg, hint := describe(err)
		return checkResult{Check: name, Status: statusWarn, Detail: "cannot read the lifecycle configuration: " + msg, Hint: hint}
	case rule == nil:
		return checkResult{Check: name, Status: status, Detail: fmt.Sprintf("no expiration rule for %q in bucket %s: %s", prefix, b, why),
			Hint: "Install one: " + install}
	}
	j := newRuleJSON(b, rulePrefix, rule)
	switch {
	case rule.Status != s3types.ExpirationStatusEnabled:
		return checkResult{Check: name, Status: status, Detail: fmt.Sprintf("rule %s is %s", j.RuleID, j.Status), Hint: "Enable it: " + install}
	case d.retentionSeconds > 0 && int64(j.ExpirationDays)*86400 < d.retentionSeconds:
		days := (d.retentionSeconds + 86399) / 86400
		return checkResult{Check: name, Status: statusWarn,
			Detail: fmt.Sprintf("rule %s expires payloads after %s, but the queue keeps messages up to %s: a message can outlive its payload", j.RuleID, plural(int(j.ExpirationDays), "day"), plural(int(days), "day")),
			Hint:   fmt.Sprintf("sqsx lifecycle --bucket %s --key-prefix %q --days %d", b, prefix, days)}
	}
	return checkResult{Check: name, Status: statusOK, Detail: j.text()}
}

func (d *doctor) checkEncryption(ctx context.Context) checkResult {
	const name = "encryption"
	out, err := d.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(d.f.buckets.bucket)})
	d.observe("S3", err)
	hint := "Set the bucket's default encryption (aws s3api put-bucket-encryption), or pass --sse AES256 (or aws:kms) to send and publish."
	if err != nil {
		switch code := errorCode(err); code {
		case "ServerSideEncryptionConfigurationNotFoundError":
			return checkResult{Check: name, Status: statusWarn, Detail: "not set: the bucket has no default encryption", Hint: hint}
		case "NotImplemented", "NotImplementedException":
			return checkResult{Check: name, Status: statusWarn, Detail: "not set: the S3 server does not support bucket encryption (" + code + ")", Hint: hint}
		default:
			msg, why := describe(err)
			if deniedCodes[code] {
				why = "Grant s3:GetEncryptionConfiguration to check it. " + hint
			}
			return checkResult{Check: name, Status: statusWarn, Detail: "not known: " + msg, Hint: why}
		}
	}
	if out.ServerSideEncryptionConfiguration == nil || len(out.ServerSideEncryptionConfiguration.Rules) == 0 ||
		out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return checkResult{Check: name, Status: statusWarn, Detail: "not set: the bucket has no default encryption", Hint: hint}
	}
	def := out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
	detail := "default encryption " + string(def.SSEAlgorithm)
	if k := aws.ToString(def.KMSMasterKeyID); k != "" {
		detail += " with key " + k
	}
	return checkResult{Check: name, Status: statusOK, Detail: detail}
}

func (d *doctor) checkTopic(ctx context.Context) checkResult {
	const name = "topic"
	out, err := d.sns.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(d.f.topicARN)})
	d.observe("SNS", err)
	if err != nil {
		return failure(name, err)
	}
	detail := "topic " + d.f.topicARN + " exists"
	if n, ok := out.Attributes["SubscriptionsConfirmed"]; ok {
		detail += ", " + n + " confirmed subscription(s)"
	}
	return checkResult{Check: name, Status: statusOK, Detail: detail}
}
