package main

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/testenv"
)

// queueWithDLQ creates a queue whose redrive policy moves messages to a
// dead-letter queue after 3 receives, with the retention periods given (in
// seconds), and returns both URLs.
func queueWithDLQ(t *testing.T, c *testenv.Clients, retention, dlqRetention string) (queueURL, dlqURL string) {
	t.Helper()
	dlqURL = c.Queue(t, false, map[string]string{"MessageRetentionPeriod": dlqRetention})
	attrs, err := c.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlqURL), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	policy := `{"deadLetterTargetArn":"` + attrs.Attributes["QueueArn"] + `","maxReceiveCount":"3"}`
	queueURL = c.Queue(t, false, map[string]string{"MessageRetentionPeriod": retention, "RedrivePolicy": policy})
	return queueURL, dlqURL
}

// putObjects writes objects of size bytes each at keys, and returns their
// LastModified times as S3 lists them.
func putObjects(t *testing.T, c *testenv.Clients, bucket string, size int, keys ...string) map[string]time.Time {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: bytes.NewReader(make([]byte, size))}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	times := map[string]time.Time{}
	for _, o := range out.Contents {
		if slices.Contains(keys, aws.ToString(o.Key)) {
			times[aws.ToString(o.Key)] = aws.ToTime(o.LastModified)
		}
	}
	if len(times) != len(keys) {
		t.Fatalf("listed %v, want %v", times, keys)
	}
	return times
}

// uploads returns the keys of the incomplete multipart uploads of bucket.
func uploads(t *testing.T, c *testenv.Clients, bucket string) []string {
	t.Helper()
	out, err := c.S3.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	slices.Sort(keys)
	return keys
}

func integrationOps(t *testing.T, c *testenv.Clients, sqsx cli) {
	t.Run("Stats", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		queueURL, dlqURL := queueWithDLQ(t, c, "3600", "7200")
		bucket := c.Bucket(t)
		send := func(url, body string, delay int32) {
			t.Helper()
			if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), DelaySeconds: delay}); err != nil {
				t.Fatal(err)
			}
		}
		send(queueURL, "in flight", 0)
		if got := testenv.ReceiveAll(t, c.SQS, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), VisibilityTimeout: 300}, 1, 10*time.Second); len(got) != 1 {
			t.Fatalf("received %d messages, want 1", len(got))
		}
		send(queueURL, "visible 1", 0)
		send(queueURL, "visible 2", 0)
		send(queueURL, "delayed", 600)
		send(dlqURL, "dead", 0)
		putObjects(t, c, bucket, 10, "p/a", "p/b")
		putObjects(t, c, bucket, 99, "other/c")

		st := oneJSON(t, "stats --output json", sqsx.run(t, nil, nil, "stats", "--queue-url", queueURL, "--bucket", bucket, "--key-prefix", "p/", "--output", "json").must(t, "stats").stdout)
		for k, want := range map[string]float64{
			"ApproximateNumberOfMessages": 2, "ApproximateNumberOfMessagesNotVisible": 1, "ApproximateNumberOfMessagesDelayed": 1, "MessageRetentionPeriod": 3600,
		} {
			if st[k] != want {
				t.Errorf("%s = %v, want %v", k, st[k], want)
			}
		}
		if dlq, _ := st["DeadLetterQueue"].(map[string]any); dlq["QueueUrl"] != dlqURL || dlq["ApproximateNumberOfMessages"] != float64(1) || dlq["MaxReceiveCount"] != float64(3) {
			t.Errorf("DeadLetterQueue = %v, want %s with 1 message after 3 receives", st["DeadLetterQueue"], dlqURL)
		}
		p, _ := st["Payloads"].(map[string]any)
		if p["Objects"] != float64(2) || p["Bytes"] != float64(20) || p["KeyPrefix"] != "p/" || p["Oldest"] == nil {
			t.Errorf("Payloads = %v, want 2 objects of 20 bytes under p/", st["Payloads"])
		}
		if _, ok := st["ApproximateAgeOfOldestMessage"]; ok {
			t.Errorf("stats shows an oldest message age, which only CloudWatch has: %v", st)
		}

		text := sqsx.run(t, nil, nil, "stats", "--queue", queueURL[strings.LastIndex(queueURL, "/")+1:]).must(t, "stats")
		contains(t, "stats", text.stdout, "visible     2", "in flight   1", "delayed     1", "dead-letter queue "+dlqURL+" (after 3 receives)",
			"messages    1", "oldest message age: not shown")

		// --debug logs the SDK's responses with slog on stderr.
		dbg := sqsx.run(t, nil, nil, "--debug", "stats", "--queue-url", queueURL).must(t, "stats --debug")
		contains(t, "stats --debug stderr", dbg.stderr, "level=DEBUG", "from=aws-sdk", "HTTP/1.1 200")

		// --watch reads again every --interval until interrupted.
		ctx, cancel := context.WithTimeout(ctx, 2500*time.Millisecond)
		defer cancel()
		var stdout, stderr bytes.Buffer
		code := run(ctx, []string{"stats", "--queue-url", queueURL, "--watch", "--interval", "1s", "--output", "json"}, strings.NewReader(""), &stdout, &stderr)
		lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
		if code != exitOK || len(lines) < 2 {
			t.Errorf("stats --watch: exit %d, %d readings in 2.5s, stderr %q", code, len(lines), stderr.String())
		}
		for _, l := range lines {
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["QueueUrl"] != queueURL {
				t.Errorf("stats --watch line %q: %v", l, err)
			}
		}
	})

	t.Run("GC", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		// The source queue keeps messages 60 s, its dead-letter queue
		// 120 s: a message can point to a payload for 120 s.
		queueURL, _ := queueWithDLQ(t, c, "60", "120")
		bucket := c.Bucket(t)
		startUpload := func(key string) {
			t.Helper()
			if _, err := c.S3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
		old := putObjects(t, c, bucket, 100, "gc/old-1", "gc/old-2", "elsewhere/old")
		startUpload("gc/upload-old")
		var newest time.Time
		for _, lm := range old {
			if lm.After(newest) {
				newest = lm
			}
		}
		// S3 times have a resolution of a second: the new objects are
		// written once the clock has passed the old ones'.
		for time.Now().Before(newest.Add(1500 * time.Millisecond)) {
			time.Sleep(100 * time.Millisecond)
		}
		fresh := putObjects(t, c, bucket, 100, "gc/new-1", "gc/new-2")
		startUpload("gc/upload-new")
		oldest := time.Now()
		for _, lm := range fresh {
			if lm.Before(oldest) {
				oldest = lm
			}
		}
		if !newest.Before(oldest) {
			t.Fatalf("the new objects (%v) are not newer than the old ones (%v)", oldest, newest)
		}
		// A time between the two groups, as if they had been written
		// that long ago.
		between := newest.Add(oldest.Sub(newest) / 2)
		gc := func(after time.Duration, apply bool) (result, map[string]any) {
			t.Helper()
			args := []string{"gc", "--queue-url", queueURL, "--bucket", bucket, "--key-prefix", "gc/", "--grace", "0s",
				"--now", between.Add(after).Format(time.RFC3339Nano), "--output", "json"}
			if apply {
				args = append(args, "--apply")
			}
			r := sqsx.run(t, nil, nil, args...).must(t, "gc")
			return r, oneJSON(t, "gc", r.stdout)
		}
		keysOf := func(v any, field string) []string {
			var keys []string
			list, _ := v.([]any)
			for _, o := range list {
				keys = append(keys, o.(map[string]any)[field].(string))
			}
			slices.Sort(keys)
			return keys
		}
		all := []string{"elsewhere/old", "gc/new-1", "gc/new-2", "gc/old-1", "gc/old-2"}
		allUploads := []string{"gc/upload-new", "gc/upload-old"}

		// 60 s on, the source queue's messages are gone, but those moved
		// to the dead-letter queue may still point to the old payloads.
		_, plan := gc(60*time.Second, false)
		if len(keysOf(plan["Objects"], "Key")) != 0 || plan["Kept"] != float64(4) || plan["PayloadLifetime"] != float64(120) {
			t.Errorf("gc 60 s on: %v; want nothing collected, 4 kept, a lifetime of 120 s", plan)
		}

		// 120 s on: the old ones, and only they. A dry run deletes nothing.
		_, plan = gc(120*time.Second, false)
		if got, want := keysOf(plan["Objects"], "Key"), []string{"gc/old-1", "gc/old-2"}; !slices.Equal(got, want) {
			t.Errorf("gc dry run collects %v, want %v", got, want)
		}
		oldUploads, newUploads := []string{"gc/upload-old"}, []string{"gc/upload-new"}
		if c.Quirks.FixedUploadInitiated {
			// Both uploads look as old as the server says they are.
			oldUploads, newUploads = allUploads, nil
		}
		if got := keysOf(plan["Uploads"], "Key"); !slices.Equal(got, oldUploads) {
			t.Errorf("gc dry run aborts %v, want %v", got, oldUploads)
		}
		if got := c.Keys(t, bucket); !slices.Equal(sorted(got), all) {
			t.Errorf("after the dry run the bucket holds %v, want %v", got, all)
		}
		if got := uploads(t, c, bucket); !slices.Equal(got, allUploads) {
			t.Errorf("after the dry run the uploads are %v, want %v", got, allUploads)
		}

		// --apply deletes exactly them.
		_, done := gc(120*time.Second, true)
		if done["Deleted"] != float64(2) || done["Aborted"] != float64(len(oldUploads)) || done["Errors"] != nil {
			t.Errorf("gc --apply: %v", done)
		}
		if got, want := sorted(c.Keys(t, bucket)), []string{"elsewhere/old", "gc/new-1", "gc/new-2"}; !slices.Equal(got, want) {
			t.Errorf("after gc --apply the bucket holds %v, want %v", got, want)
		}
		if got := uploads(t, c, bucket); !slices.Equal(got, newUploads) {
			t.Errorf("after gc --apply the uploads are %v, want %v", got, newUploads)
		}

		// In text, the dry run lists the objects and says nothing was deleted.
		r := sqsx.run(t, nil, nil, "gc", "--queue-url", queueURL, "--bucket", bucket, "--key-prefix", "gc/", "--grace", "0s",
			"--now", between.Add(time.Hour).Format(time.RFC3339Nano)).must(t, "gc text")
		contains(t, "gc stdout", r.stdout, "s3://"+bucket+"/gc/new-1\t100\t", "s3://"+bucket+"/gc/new-2\t100\t")
		if len(newUploads) > 0 {
			contains(t, "gc stdout", r.stdout, "s3://"+bucket+"/gc/upload-new\tupload ")
		}
		contains(t, "gc stderr", r.stderr, "would delete 2 objects", "Nothing was deleted: pass --apply")
		if got := sorted(c.Keys(t, bucket)); len(got) != 3 {
			t.Errorf("a dry run deleted objects: %v", got)
		}
	})
}

// sorted returns s sorted.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}
