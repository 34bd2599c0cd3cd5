package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/internal/testenv"
)

// jsonLines decodes every line of out as a JSON object.
func jsonLines(t *testing.T, what string, out []byte) []map[string]any {
	t.Helper()
	var objs []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 256<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line is not a JSON object (%v): %.200s", what, err, sc.Text())
		}
		objs = append(objs, m)
	}
	return objs
}

// oneJSON decodes out as exactly one JSON object.
func oneJSON(t *testing.T, what string, out []byte) map[string]any {
	t.Helper()
	objs := jsonLines(t, what, out)
	if len(objs) != 1 {
		t.Fatalf("%s: %d JSON objects, want 1:\n%s", what, len(objs), out)
	}
	return objs[0]
}

// lifecycleBucket creates a bucket on an S3 API that implements bucket
// lifecycle (testenv.LifecycleS3) and removes it when t ends. It returns the
// bucket and the environment that points the CLI's S3 at it.
func lifecycleBucket(t *testing.T, c *testenv.Clients) (string, []string) {
	t.Helper()
	ctx := context.Background()
	s3c := c.LifecycleS3()
	name := testenv.Name("sqsx-lc")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	t.Cleanup(func() {
		out, _ := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
		if out != nil {
			for _, o := range out.Contents {
				s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key})
			}
		}
		s3c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	})
	if ep := testenv.LifecycleEndpoint(); ep != "" {
		return name, []string{"AWS_ENDPOINT_URL_S3=" + ep}
	}
	return name, nil
}

// notImplementedS3 returns the URL of an S3 endpoint that answers every
// request with 501 NotImplemented, as versitygw v1.8.0 answers bucket
// lifecycle requests.
func notImplementedS3(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusNotImplemented)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>`+
			`<Message>A header you provided implies functionality that is not implemented.</Message></Error>`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// integrationCommands drives delete, peek, publish, lifecycle, doctor,
// --json and the 100 MiB round trip against the local servers.
func integrationCommands(t *testing.T, c *testenv.Clients, sqsx cli) {
	t.Run("PeekLeavesMessages", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		big := textBody(t, 300<<10)
		small := []byte("small body ✓")
		sqsx.run(t, big, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--attr", "color=String:blue").must(t, "send big")
		sqsx.run(t, small, nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send small")
		key := wantKeys(t, c, bucket, 1, "after send")[0]

		// Text: ids, sizes and the pointer of the offloaded one.
		var text result
		for range 5 { // SQS may return fewer messages than there are
			text = sqsx.run(t, nil, nil, "peek", "--queue-url", queueURL, "--wait-time-seconds", "2").must(t, "peek")
			if bytes.Count(text.stdout, []byte("\nmessage ")) == 1 {
				break
			}
		}
		contains(t, "peek stdout", text.stdout, "307200 bytes, body stored in S3 at s3://"+bucket+"/"+key, "attribute color=String:blue",
			"14 bytes, body sent in SQS")

		// JSON, with the bodies resolved.
		peeked := jsonLines(t, "peek --json", sqsx.run(t, nil, nil, "peek", "--queue-url", queueURL, "--output=json", "--body", "--bucket", bucket, "--wait-time-seconds", "2").must(t, "peek --json").stdout)
		if len(peeked) == 0 {
			t.Fatal("peek --json printed nothing")
		}
		for _, m := range peeked {
			// The fields of aws-cli's receive-message output.
			if id, _ := m["MessageId"].(string); id == "" {
				t.Errorf("no MessageId: %v", m)
			}
			if attrs, _ := m["Attributes"].(map[string]any); attrs["ApproximateReceiveCount"] == nil || attrs["SentTimestamp"] == nil {
				t.Errorf("Attributes %v lack ApproximateReceiveCount or SentTimestamp", m["Attributes"])
			}
			switch m["Offloaded"] {
			case true:
				if m["Payload"] != "s3://"+bucket+"/"+key || m["Size"] != float64(len(big)) || m["Body"] != string(big) {
					t.Errorf("offloaded message: pointer %v, size %v, body of %d bytes", m["Payload"], m["Size"], len(m["Body"].(string)))
				}
				want := map[string]any{"color": map[string]any{"DataType": "String", "StringValue": "blue"}}
				if diff := cmp.Diff(want, m["MessageAttributes"]); diff != "" {
					t.Errorf("MessageAttributes, as aws-cli prints them (-want +got):\n%s", diff)
				}
			default:
				if m["Body"] != string(small) {
					t.Errorf("inline message body %q, want %q", m["Body"], small)
				}
			}
		}

		// --endpoint-url overrides AWS_ENDPOINT_URL_SQS: the queue is
		// reached through it while the variable points nowhere.
		sqsEndpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
		if sqsEndpoint == "" {
			t.Fatal("AWS_ENDPOINT_URL_SQS is not set")
		}
		sqsx.run(t, nil, []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1"}, "peek", "--queue-url", queueURL, "--wait-time-seconds", "2",
			"--endpoint-url", sqsEndpoint).must(t, "peek --endpoint-url")
		if r := sqsx.run(t, nil, []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1"}, "peek", "--queue-url", queueURL, "--wait-time-seconds", "0"); r.code != exitError {
			t.Errorf("peek through a closed port: exit %d, want 1", r.code)
		}

		// Nothing was consumed, and the messages are visible at once: a
		// receive that waits less than the peek's visibility timeout gets
		// both.
		var ids []string
		for range 4 {
			r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--max-number-of-messages", "10", "--output=json", "--delete", "--wait-time-seconds", "1")
			if r.code == 3 {
				continue
			}
			r.must(t, "receive after peek")
			for _, m := range jsonLines(t, "receive --json", r.stdout) {
				ids = append(ids, m["MessageId"].(string))
			}
			if len(ids) == 2 {
				break
			}
		}
		if len(ids) != 2 {
			t.Fatalf("received %d messages after peeking, want 2 (peek must leave them visible)", len(ids))
		}
		wantKeys(t, c, bucket, 0, "after receive --delete")

		r := sqsx.run(t, nil, nil, "peek", "--queue-url", queueURL, "--wait-time-seconds", "1")
		if r.code != 3 || !bytes.Contains(r.stderr, []byte("no message arrived")) {
			t.Errorf("peek of an empty queue: exit %d, stderr %s; want 3", r.code, r.stderr)
		}
	})

	t.Run("DeleteMessageAndPayload", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		sqsx.run(t, textBody(t, 300<<10), nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send")
		key := wantKeys(t, c, bucket, 1, "after send")[0]

		got := oneJSON(t, "receive --json", sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket,
			"--out", filepath.Join(t.TempDir(), "body"), "--output=json", "--wait-time-seconds", "10").must(t, "receive").stdout)
		handle, _ := got["ReceiptHandle"].(string)
		if handle == "" || got["Deleted"] != false || got["Payload"] != "s3://"+bucket+"/"+key {
			t.Fatalf("receive --json without --delete: %v", got)
		}

		// Without --bucket the payload's bucket is not trusted: nothing is deleted.
		r := sqsx.run(t, []byte(handle+"\n"), nil, "delete", "--queue-url", queueURL)
		if r.code != 1 {
			t.Fatalf("delete without --bucket: exit %d, want 1; stderr %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "Pass --bucket "+bucket, "Nothing was deleted")
		wantKeys(t, c, bucket, 1, "after the refused delete")

		// The handle on standard input, as a script would pipe it.
		d := sqsx.run(t, []byte(handle+"\n"), nil, "delete", "--queue-url", queueURL, "--bucket", bucket).must(t, "delete")
		contains(t, "delete stdout", d.stdout, "deleted message", "and its payload s3://"+bucket+"/"+key)
		wantKeys(t, c, bucket, 0, "after delete")
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after delete: %s visible, %s in flight; want 0 and 0", v, f)
		}
	})

	t.Run("DeleteKeepPayloadJSON", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		sqsx.run(t, []byte("through S3"), nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send")
		got := oneJSON(t, "receive", sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--output=json", "--wait-time-seconds", "10").must(t, "receive").stdout)
		if got["Body"] != "through S3" {
			t.Errorf("receive --json body %v", got["Body"])
		}
		d := oneJSON(t, "delete --json", sqsx.run(t, nil, nil, "delete", "--queue-url", queueURL, "--keep-payload", "--output=json",
			"--receipt-handle", got["ReceiptHandle"].(string)).must(t, "delete").stdout)
		if d["MessageDeleted"] != true || d["PayloadDeleted"] != false || !strings.HasPrefix(d["Payload"].(string), "s3://"+bucket+"/") {
			t.Errorf("delete --keep-payload --json: %v", d)
		}
		wantKeys(t, c, bucket, 1, "after delete --keep-payload")
	})

	t.Run("PublishRawSubscription", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		topic := c.Topic(t, false)
		queueURL := c.Queue(t, false, nil)
		c.Subscribe(t, topic, queueURL, true)
		body := textBody(t, 400<<10)

		pub := sqsx.run(t, body, nil, "publish", "--topic-arn", topic, "--bucket", bucket, "--attr", "kind=String:report",
			"--subject", "Monthly report").must(t, "publish")
		contains(t, "publish stderr", pub.stderr, "409600 bytes", "stored in S3 bucket "+bucket, "sqsx lifecycle")
		wantKeys(t, c, bucket, 1, "after publish")

		out := filepath.Join(t.TempDir(), "got")
		var got result
		for range 5 {
			got = sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--out", out, "--delete", "--wait-time-seconds", "5")
			if got.code != 3 {
				break
			}
		}
		got.must(t, "receive")
		data, err := os.ReadFile(out)
		if err != nil || sha256.Sum256(data) != sha256.Sum256(body) {
			t.Fatalf("received %d bytes (%v), want the %d published", len(data), err, len(body))
		}
		contains(t, "receive stderr", got.stderr, "kind=String:report", "deleted")
		// The payload is shared by the topic's subscribers: it stays.
		wantKeys(t, c, bucket, 1, "after receive --delete of a shared payload")
	})

	t.Run("PublishDeletableByConsumersJSON", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		topic := c.Topic(t, false)
		queueURL := c.Queue(t, false, nil)
		c.Subscribe(t, topic, queueURL, true)
		body := []byte("one subscriber, through S3 ✓")
		pub := oneJSON(t, "publish --json", sqsx.run(t, body, nil, "publish", "--topic-arn", topic, "--bucket", bucket,
			"--always-s3", "--deletable-by-consumers", "--output=json").must(t, "publish").stdout)
		if pub["MessageId"] == "" || pub["Offloaded"] != true || pub["Shared"] == true {
			t.Errorf("publish --json: %v", pub)
		}
		var got result
		for range 5 {
			got = sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--delete", "--wait-time-seconds", "5")
			if got.code != 3 {
				break
			}
		}
		got.must(t, "receive")
		if !bytes.Equal(got.stdout, body) {
			t.Errorf("received %q, want %q", got.stdout, body)
		}
		wantKeys(t, c, bucket, 0, "after receive --delete of a deletable payload")
	})

	t.Run("Lifecycle", func(t *testing.T) {
		t.Parallel()
		bucket, env := lifecycleBucket(t, c)
		r := sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--show")
		if r.code != 3 {
			t.Fatalf("--show before install: exit %d, want 3; stderr %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "no expiration rule", "sqsx lifecycle --bucket "+bucket)

		in := sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--days", "3").must(t, "install")
		contains(t, "install stdout", in.stdout, "installed:", "sqsx-expire-payloads:sns/", "expire 3 days after")
		again := sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--days", "3").must(t, "install again")
		contains(t, "second install", again.stdout, "already installed, unchanged")
		upd := oneJSON(t, "update --json", sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--days", "7", "--output=json").must(t, "update").stdout)
		if upd["Action"] != "updated" || upd["ExpirationDays"] != float64(7) || upd["PreviousExpirationDays"] != float64(3) {
			t.Errorf("update --json: %v", upd)
		}

		shown := sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--show").must(t, "--show")
		contains(t, "--show stdout", shown.stdout, "sqsx-expire-payloads:sns/", "Enabled", "expire 7 days after", "aborted after 1 day")
		js := oneJSON(t, "--show --json", sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--show", "--output=json").must(t, "--show --json").stdout)
		if js["Found"] != true || js["ExpirationDays"] != float64(7) || js["RuleId"] != "sqsx-expire-payloads:sns/" {
			t.Errorf("--show --json: %v", js)
		}

		// The whole-bucket rule is another rule; both are kept.
		sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket).must(t, "install for the whole bucket")
		sqsx.run(t, nil, env, "lifecycle", "--bucket", bucket, "--key-prefix", "sns/", "--show").must(t, "--show after another rule")
	})

	t.Run("LifecycleUnsupported", func(t *testing.T) {
		t.Parallel()
		env := []string{"AWS_ENDPOINT_URL_S3=" + notImplementedS3(t)}
		r := sqsx.run(t, nil, env, "lifecycle", "--bucket", "sqsx-any", "--days", "3")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "does not implement", "AWS_ENDPOINT_URL_")
	})

	t.Run("DoctorGoodSetup", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		topic := c.Topic(t, false)
		r := sqsx.run(t, nil, nil, "doctor", "--bucket", bucket, "--queue-url", queueURL, "--key-prefix", "p/", "--threshold-from-queue")
		if r.code != 0 {
			t.Fatalf("doctor: exit %d, want 0\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		contains(t, "doctor stdout", r.stdout, "OK    credentials", "accepted by S3 and SQS", "OK    bucket", "OK    queue", "lifecycle", "encryption")
		if bytes.Contains(r.stdout, []byte("FAIL")) {
			t.Errorf("doctor found failures in a good setup:\n%s", r.stdout)
		}
		if n := len(c.Keys(t, bucket)); n != 0 {
			t.Errorf("doctor left %d objects in the bucket", n)
		}

		// With lifecycle support and the rule installed,
		// every check of a queue setup is OK but encryption.
		lcBucket, env := lifecycleBucket(t, c)
		sqsx.run(t, nil, env, "lifecycle", "--bucket", lcBucket, "--key-prefix", "p/").must(t, "lifecycle")
		checks := jsonLines(t, "doctor --json", sqsx.run(t, nil, env, "doctor", "--bucket", lcBucket, "--key-prefix", "p/",
			"--queue-url", queueURL, "--topic-arn", topic, "--output=json").must(t, "doctor --json").stdout)
		seen := map[string]string{}
		for _, ch := range checks {
			seen[ch["Check"].(string)] = ch["Status"].(string)
			if ch["Status"] != "OK" && ch["Hint"] == "" {
				t.Errorf("check %v has no hint", ch)
			}
		}
		for _, name := range []string{"credentials", "bucket", "queue", "lifecycle", "topic"} {
			if seen[name] != "OK" {
				t.Errorf("check %s: %q, want OK (all: %v)", name, seen[name], checks)
			}
		}
		if _, ok := seen["encryption"]; !ok {
			t.Errorf("no encryption check: %v", checks)
		}
	})

	t.Run("DoctorFindsProblems", func(t *testing.T) {
		t.Parallel()
		queueURL := c.Queue(t, false, map[string]string{"MaximumMessageSize": "1024"})
		r := sqsx.run(t, nil, nil, "doctor", "--bucket", "sqsx-no-such-bucket-4711", "--queue-url", queueURL)
		if r.code != 4 {
			t.Fatalf("doctor: exit %d, want 4\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
		}
		contains(t, "doctor stdout", r.stdout, "FAIL  bucket       bucket sqsx-no-such-bucket-4711 does not exist", "fix: Create it",
			"WARN  queue", "above its MaximumMessageSize, 1024", "--threshold-from-queue")

		bad := sqsx.run(t, nil, []string{"AWS_SECRET_ACCESS_KEY=wrong-secret"}, "doctor", "--bucket", c.Bucket(t))
		if c.Quirks.AcceptsAnyCredentials {
			// S3 answers SignatureDoesNotMatch to a wrong secret; moto does not check.
			if bad.code != 0 {
				t.Fatalf("doctor with a wrong secret on %s: exit %d, want 0 (known deviation)\n%s", c.Backend, bad.code, bad.stdout)
			}
			contains(t, "doctor stdout", bad.stdout, "OK    credentials")
			return
		}
		if bad.code != 4 {
			t.Fatalf("doctor with a wrong secret: exit %d, want 4\n%s", bad.code, bad.stdout)
		}
		contains(t, "doctor stdout", bad.stdout, "FAIL  credentials", "S3 rejected the credentials", "AWS_SECRET_ACCESS_KEY")
	})

	t.Run("HundredMiBFromStdin", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		body := textBody(t, 100<<20)
		want := sha256.Sum256(body)
		sent := oneJSON(t, "send --json", sqsx.run(t, body, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--output=json").must(t, "send").stdout)
		if sent["Size"] != float64(100<<20) || sent["Offloaded"] != true {
			t.Errorf("send --json: %v", sent)
		}
		body = nil
		out := filepath.Join(t.TempDir(), "body.out")
		start := time.Now()
		sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--out", out, "--delete", "--wait-time-seconds", "10").must(t, "receive")
		t.Logf("received 100 MiB in %v", time.Since(start).Round(time.Millisecond))
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		h := sha256.New()
		n, err := f.WriteTo(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Sum(nil); n != 100<<20 || !bytes.Equal(got, want[:]) {
			t.Fatalf("received %d bytes, sha256 %x; sent %d, sha256 %x", n, got, 100<<20, want)
		}
		wantKeys(t, c, bucket, 0, "after receive --delete")
	})

	t.Run("ReceiveMaxOutDir", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		bodies := map[string][]byte{}
		for i, n := range []int{10, 300 << 10, 2 << 10} {
			b := textBody(t, n+i)
			id := strings.TrimSpace(string(sqsx.run(t, b, nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send").stdout))
			bodies[id] = b
		}
		dir := t.TempDir()
		for range 5 {
			sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--max-number-of-messages", "10", "--out-dir", dir, "--delete", "--wait-time-seconds", "2", "--quiet")
			if entries, _ := os.ReadDir(dir); len(entries) >= len(bodies) {
				break
			}
		}
		for id, b := range bodies {
			got, err := os.ReadFile(filepath.Join(dir, id))
			if err != nil || !bytes.Equal(got, b) {
				t.Errorf("message %s: file holds %d bytes (%v), want %d", id, len(got), err, len(b))
			}
		}
		wantKeys(t, c, bucket, 0, "after receive --delete")
	})

	t.Run("UnreachableEndpoints", func(t *testing.T) {
		t.Parallel()
		env := []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1", "AWS_ENDPOINT_URL_SNS=http://127.0.0.1:1",
			"AWS_ENDPOINT_URL_S3=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}
		const url = "http://127.0.0.1:1/000000000000/q"
		for _, tt := range []struct {
			args []string
			code int
			want []string
		}{
			{[]string{"peek", "--queue-url", url}, 1, []string{"could not reach SQS", "AWS_ENDPOINT_URL_SQS"}},
			{[]string{"delete", "--queue-url", url, "--receipt-handle", "abc"}, 1, []string{"could not reach SQS"}},
			{[]string{"publish", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:t", "--bucket", "b-1"}, 1, []string{"could not reach SNS", "AWS_ENDPOINT_URL_SNS"}},
			{[]string{"lifecycle", "--bucket", "b-1"}, 1, []string{"could not reach S3", "AWS_ENDPOINT_URL_S3"}},
			{[]string{"doctor", "--bucket", "b-1", "--queue-url", url}, 4, []string{"FAIL  bucket", "could not reach S3", "FAIL  queue", "could not reach SQS", "not verified"}},
		} {
			r := sqsx.run(t, []byte("hello"), env, tt.args...)
			if r.code != tt.code {
				t.Errorf("%v: exit code %d, want %d; stderr: %s", tt.args, r.code, tt.code, r.stderr)
			}
			contains(t, tt.args[0]+" output", append(r.stdout, r.stderr...), tt.want...)
			if r.took > 15*time.Second {
				t.Errorf("%v took %v; it should fail fast with AWS_MAX_ATTEMPTS=1", tt.args, r.took)
			}
		}
		// As JSON: one object on stderr with the error and the hint.
		r := sqsx.run(t, []byte("hello"), env, "send", "--queue-url", url, "--bucket", "b-1", "--output=json")
		e := oneJSON(t, "send --json stderr", r.stderr)
		if r.code != 1 || len(r.stdout) != 0 || !strings.Contains(e["Error"].(string), "could not reach SQS") ||
			!strings.Contains(e["Hint"].(string), "AWS_ENDPOINT_URL_SQS") {
			t.Errorf("send --json to an unreachable SQS: exit %d, stdout %q, stderr %v", r.code, r.stdout, e)
		}
	})

	t.Run("BadArgumentsBinary", func(t *testing.T) {
		t.Parallel()
		r := sqsx.run(t, nil, nil, "peek", "--queue", "q", "--max-number-of-messages", "11")
		if r.code != 2 {
			t.Errorf("exit %d, want 2", r.code)
		}
		contains(t, "stderr", r.stderr, "--max-number-of-messages 11 is outside 1..10", "Run 'sqsx peek -h' for usage.")
		r = sqsx.run(t, nil, nil, "doctor", "--bucket")
		if r.code != 2 {
			t.Errorf("doctor --bucket without a value: exit %d, want 2", r.code)
		}
		contains(t, "stderr", r.stderr, "flag needs an argument", "sqsx doctor -h")
	})
}
