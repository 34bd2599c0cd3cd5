package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// cli runs a built sqsx binary.
type cli struct {
	bin string
}

// result is what one run of the binary produced.
type result struct {
	code           int
	stdout, stderr []byte
	took           time.Duration
}

// run runs the binary with args, stdin and extra environment variables
// (which override the inherited ones).
func (c cli) run(t *testing.T, stdin []byte, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.Bytes(), stderr: errOut.Bytes(), took: time.Since(start)}
	t.Logf("sqsx %s: %v", strings.Join(args, " "), r.took.Round(time.Millisecond))
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.code = exitErr.ExitCode()
	default:
		t.Fatalf("running sqsx %v: %v", args, err)
	}
	return r
}

// must fails t unless r succeeded.
func (r result) must(t *testing.T, what string) result {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit code %d\nstderr: %s", what, r.code, r.stderr)
	}
	return r
}

// buildCLI builds the command into a temporary directory.
func buildCLI(t *testing.T) cli {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sqsx")
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build sqsx: %v", err)
	}
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return cli{bin: bin}
}

// textBody returns n bytes of random UTF-8 text, with 2-, 3- and (when
// offloaded) 4-byte characters. A body sent in SQS has no character outside
// the Basic Multilingual Plane: SQS accepts them, but fauxqs does not.
func textBody(t *testing.T, n int) []byte {
	t.Helper()
	head, tail := "Grüße, 世界 ✓\n", "\nfin ✓"
	if n > 256<<10 {
		head += "🚀\n"
	}
	raw := make([]byte, n)
	rand.Read(raw)
	b := []byte(head + base64.StdEncoding.EncodeToString(raw))
	b = append(b[:n-len(tail)], tail...)
	if len(b) != n || !utf8.Valid(b) {
		t.Fatalf("textBody: made %d bytes, valid UTF-8 %v", len(b), utf8.Valid(b))
	}
	return b
}

// queueCounts returns the visible and in-flight message counts of a queue.
func queueCounts(t *testing.T, c *testenv.Clients, queueURL string) (visible, inFlight string) {
	t.Helper()
	out, err := c.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		},
	})
	if err != nil {
		t.Fatalf("GetQueueAttributes: %v", err)
	}
	return out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)],
		out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)]
}

func wantKeys(t *testing.T, c *testenv.Clients, bucket string, n int, when string) []string {
	t.Helper()
	keys := c.Keys(t, bucket)
	if len(keys) != n {
		t.Fatalf("%s: bucket %s holds %d objects %v, want %d", when, bucket, len(keys), keys, n)
	}
	return keys
}

func contains(t *testing.T, what string, got []byte, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !bytes.Contains(got, []byte(w)) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestIntegration drives the built binary against the local servers.
func TestIntegration(t *testing.T) {
	c := testenv.Require(t)
	sqsx := buildCLI(t)
	integrationCommands(t, c, sqsx)
	integrationReliability(t, c, sqsx)
	integrationConsume(t, c, sqsx)
	integrationOps(t, c, sqsx)

	t.Run("LargeBodyRoundTrip", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		body := textBody(t, 5<<20)

		sent := sqsx.run(t, body, nil, "send", "--queue-url", queueURL, "--bucket", bucket,
			"--attr", "color=String:blue", "--attr", "n=Number:42").must(t, "send")
		id := strings.TrimSpace(string(sent.stdout))
		if id == "" || strings.Contains(id, "\n") {
			t.Fatalf("send printed %q on stdout, want the message id alone", sent.stdout)
		}
		contains(t, "send stderr", sent.stderr, id, "5242880 bytes", "stored in S3 bucket "+bucket, "over the 262144-byte threshold")
		wantKeys(t, c, bucket, 1, "after send")

		out := filepath.Join(t.TempDir(), "body.out")
		got := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket,
			"--out", out, "--delete", "--wait-time-seconds", "10").must(t, "receive")
		if len(got.stdout) != 0 {
			t.Errorf("receive --out wrote %d bytes to stdout", len(got.stdout))
		}
		contains(t, "receive stderr", got.stderr, id, "5242880 bytes", "s3://"+bucket+"/", "color=String:blue", "n=Number:42", "deleted")
		if bytes.Contains(got.stderr, []byte(payload.AttributeName)) {
			t.Errorf("receive shows the reserved attribute %s:\n%s", payload.AttributeName, got.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if sha256.Sum256(data) != sha256.Sum256(body) || !bytes.Equal(data, body) {
			t.Fatalf("received %d bytes (sha256 %x), sent %d (sha256 %x)", len(data), sha256.Sum256(data), len(body), sha256.Sum256(body))
		}
		wantKeys(t, c, bucket, 0, "after receive --delete")
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after delete: %s visible, %s in flight; want 0 and 0", v, f)
		}
	})

	t.Run("SmallBodyStaysInSQS", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		name := path.Base(queueURL)
		body := textBody(t, 1<<10)

		sent := sqsx.run(t, body, nil, "send", "--queue", name, "--bucket", bucket).must(t, "send")
		contains(t, "send stderr", sent.stderr, "1024 bytes", "body sent in SQS")
		wantKeys(t, c, bucket, 0, "after sending 1 KiB")

		got := sqsx.run(t, nil, nil, "receive", "--queue", name, "--bucket", bucket, "--delete", "--wait-time-seconds", "10").must(t, "receive")
		if !bytes.Equal(got.stdout, body) {
			t.Errorf("receive wrote %q to stdout, want the body exactly (%d bytes, no newline added)", got.stdout, len(body))
		}
		contains(t, "receive stderr", got.stderr, strings.TrimSpace(string(sent.stdout)), "1024 bytes", "body sent in SQS", "deleted")
		wantKeys(t, c, bucket, 0, "after receive")
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after delete: %s visible, %s in flight; want 0 and 0", v, f)
		}
	})

	t.Run("EmptyQueueExits3", func(t *testing.T) {
		t.Parallel()
		queueURL := c.Queue(t, false, nil)
		r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--wait-time-seconds", "1")
		if r.code != 3 {
			t.Fatalf("exit code %d, want 3; stderr: %s", r.code, r.stderr)
		}
		if len(r.stdout) != 0 {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
		contains(t, "stderr", r.stderr, "no message arrived within 1 second")
	})

	t.Run("UnreachableSQS", func(t *testing.T) {
		t.Parallel()
		env := []string{"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:1", "AWS_MAX_ATTEMPTS=1"}
		const url = "http://127.0.0.1:1/000000000000/q"
		for _, args := range [][]string{
			{"send", "--queue-url", url, "--bucket", "b-1"},
			{"receive", "--queue-url", url, "--wait-time-seconds", "1"},
			{"receive", "--queue", "q", "--wait-time-seconds", "1"},
		} {
			r := sqsx.run(t, []byte("hello"), env, args...)
			if r.code != 1 {
				t.Errorf("%v: exit code %d, want 1; stderr: %s", args, r.code, r.stderr)
			}
			contains(t, args[0]+" stderr", r.stderr, "could not reach SQS", "127.0.0.1:1", "AWS_ENDPOINT_URL_SQS")
			if r.took > 15*time.Second {
				t.Errorf("%v took %v; it should fail fast with AWS_MAX_ATTEMPTS=1", args, r.took)
			}
		}
	})

	t.Run("BucketNotAllowed", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		body := textBody(t, 300<<10)
		sqsx.run(t, body, nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send")

		out := filepath.Join(t.TempDir(), "body.out")
		r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", "some-other-bucket",
			"--out", out, "--delete", "--visibility-timeout", "1", "--wait-time-seconds", "10")
		if r.code != 1 {
			t.Fatalf("receive from a disallowed bucket: exit code %d, want 1; stderr: %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "bucket "+bucket+" is not allowed: pass --allowed-bucket "+bucket+" if you trust the sender")
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("--out file exists after a failed receive (%v)", err)
		}
		wantKeys(t, c, bucket, 1, "after the refused receive")

		// The message comes back after its 1-second visibility timeout and
		// is read once the bucket is allowed.
		var got result
		for range 5 {
			got = sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", "some-other-bucket",
				"--allowed-bucket", bucket, "--out", out, "--delete", "--wait-time-seconds", "5")
			if got.code != 3 {
				break
			}
		}
		got.must(t, "receive with --allowed-bucket")
		if data, err := os.ReadFile(out); err != nil || !bytes.Equal(data, body) {
			t.Errorf("received body differs from the sent one (%d bytes, %v)", len(data), err)
		}
		contains(t, "stderr", got.stderr, "receive count 2")
		wantKeys(t, c, bucket, 0, "after receive --delete")
	})

	t.Run("PayloadNotFound", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		sqsx.run(t, textBody(t, 2048), nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send")
		key := wantKeys(t, c, bucket, 1, "after send --always-s3")[0]
		if _, err := c.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--delete", "--wait-time-seconds", "10")
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1; stderr: %s", r.code, r.stderr)
		}
		if len(r.stdout) != 0 {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
		contains(t, "stderr", r.stderr, "payload s3://"+bucket+"/"+key+" does not exist", "delivered again after its visibility timeout")
	})

	t.Run("FIFOAndWireFormat", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, true, nil)
		body := []byte("small, but through S3 ✓")
		sent := sqsx.run(t, body, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3",
			"--message-group-id", "g1", "--message-deduplication-id", "d1", "--legacy-attribute", "--key-prefix", "cli/").must(t, "send")
		contains(t, "send stderr", sent.stderr, "stored in S3 bucket "+bucket+" (--always-s3)", "sequence number")
		key := wantKeys(t, c, bucket, 1, "after send")[0]
		if !strings.HasPrefix(key, "cli/") {
			t.Errorf("key %q lacks the --key-prefix", key)
		}

		// What went over the wire: a pointer and the legacy size attribute.
		raw := testenv.ReceiveAll(t, c.SQS, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), MessageAttributeNames: []string{"All"}, VisibilityTimeout: 1,
		}, 1, 20*time.Second)
		p, err := payload.DecodePointer(aws.ToString(raw[0].Body))
		if err != nil || p != (payload.Pointer{Bucket: bucket, Key: key}) {
			t.Errorf("wire body %q decodes to %v, %v; want a pointer to s3://%s/%s", aws.ToString(raw[0].Body), p, err, bucket, key)
		}
		if a, ok := raw[0].MessageAttributes[payload.LegacyAttributeName]; !ok || aws.ToString(a.StringValue) != strconv.Itoa(len(body)) ||
			aws.ToString(a.DataType) != "Number" {
			t.Errorf("wire attribute %s = %s:%s (present: %v), want Number:%d", payload.LegacyAttributeName,
				aws.ToString(a.DataType), aws.ToString(a.StringValue), ok, len(body))
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
			t.Errorf("receive wrote %q, want %q", got.stdout, body)
		}
		contains(t, "receive stderr", got.stderr, "group g1", "s3://"+bucket+"/"+key)
		wantKeys(t, c, bucket, 0, "after receive --delete")
	})
}
