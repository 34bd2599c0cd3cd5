package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// integrationReliability drives the regression tests of the reliability
// issue: the payload cap of receive and peek, bodies that are not text, and
// hints that carry what is needed to act on them.
func integrationReliability(t *testing.T, c *testenv.Clients, sqsx cli) {
	t.Run("DanglingPointerHintDeletes", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		sqsx.run(t, []byte("through S3 ✓"), nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send")
		key := wantKeys(t, c, bucket, 1, "after send")[0]
		if _, err := c.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
		r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--wait-time-seconds", "10")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "payload s3://"+bucket+"/"+key+" does not exist", "sqsx delete --queue-url "+queueURL+" --receipt-handle ")
		// The hint's command, pasted into a shell, removes the message.
		var cmdLine string
		for _, line := range strings.Split(string(r.stderr), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "sqsx delete "); ok {
				cmdLine = "\"$SQSX\" delete " + rest
			}
		}
		if cmdLine == "" {
			t.Fatalf("no sqsx delete command in the hint:\n%s", r.stderr)
		}
		sh := exec.Command("sh", "-c", cmdLine)
		sh.Env = append(os.Environ(), "SQSX="+sqsx.bin)
		if out, err := sh.CombinedOutput(); err != nil {
			t.Fatalf("running the hint's command %s: %v\n%s", cmdLine, err, out)
		}
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after the hint's delete: %s visible, %s in flight; want 0 and 0", v, f)
		}
	})

	// One bad message among three: the other two are written (and, with
	// --delete, deleted with their payloads) by the same receive, the bad
	// one is reported with the command that deletes it, and the exit
	// status is 1.
	for _, kind := range []string{"PayloadNotFound", "BucketNotAllowed"} {
		t.Run("OneBadMessageAmongThree/"+kind, func(t *testing.T) {
			t.Parallel()
			bucket := c.Bucket(t)
			queueURL := c.Queue(t, false, nil)
			send := func(body []byte, bucket string) string {
				r := sqsx.run(t, body, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send")
				return strings.TrimSpace(string(r.stdout))
			}
			good := map[string][]byte{}
			first := textBody(t, 1000)
			good[send(first, bucket)] = first
			keys := wantKeys(t, c, bucket, 1, "after the first send")
			goodKeys := map[string]bool{keys[0]: true}
			var bad, badBucket, badKey string
			switch kind {
			case "PayloadNotFound":
				bad, badBucket = send([]byte("its payload goes ✓"), bucket), bucket
				for _, k := range wantKeys(t, c, bucket, 2, "after the second send") {
					if !goodKeys[k] {
						badKey = k
					}
				}
				if _, err := c.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(badKey)}); err != nil {
					t.Fatal(err)
				}
			case "BucketNotAllowed":
				badBucket = c.Bucket(t)
				bad = send([]byte("in a bucket receive does not read ✓"), badBucket)
				badKey = wantKeys(t, c, badBucket, 1, "after the send to the other bucket")[0]
			}
			third := textBody(t, 2000)
			good[send(third, bucket)] = third
			for _, k := range wantKeys(t, c, bucket, len(good), "after the sends") {
				goodKeys[k] = true
			}

			dir := t.TempDir()
			r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--max-number-of-messages", "3", "--out-dir", dir,
				"--delete", "--visibility-timeout", "300", "--wait-time-seconds", "10")
			if r.code != 1 {
				t.Fatalf("exit %d, want 1; stderr %s", r.code, r.stderr)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != len(good) {
				t.Errorf("--out-dir holds %d files, want %d; stderr %s", len(entries), len(good), r.stderr)
			}
			for id, body := range good {
				if got, err := os.ReadFile(filepath.Join(dir, id)); err != nil || !bytes.Equal(got, body) {
					t.Errorf("message %s: wrote %d bytes (%v), want the %d sent", id, len(got), err, len(body))
				}
			}
			why := "payload s3://" + badBucket + "/" + badKey + " does not exist"
			if kind == "BucketNotAllowed" {
				why = "bucket " + badBucket + " is not allowed"
			}
			contains(t, "stderr", r.stderr, "message "+bad+": ", why, "sqsx delete --queue-url "+queueURL+" --receipt-handle ",
				"2 of 3 messages written; 1 not")

			// --delete deleted exactly the two written messages and their
			// payloads; the bad one is in flight, and the object in the
			// other bucket is untouched.
			if v, f := queueCounts(t, c, queueURL); v != "0" || f != "1" {
				t.Errorf("queue after receive --delete: %s visible, %s in flight; want 0 and 1", v, f)
			}
			wantKeys(t, c, bucket, 0, "after receive --delete")
			if kind == "BucketNotAllowed" {
				wantKeys(t, c, badBucket, 1, "the other bucket after receive --delete")
			}

			// The hint's command deletes the bad message.
			var cmdLine string
			for _, line := range strings.Split(string(r.stderr), "\n") {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "sqsx delete "); ok {
					cmdLine = "\"$SQSX\" delete " + rest
				}
			}
			sh := exec.Command("sh", "-c", cmdLine)
			sh.Env = append(os.Environ(), "SQSX="+sqsx.bin)
			if out, err := sh.CombinedOutput(); err != nil {
				t.Fatalf("running the hint's command %s: %v\n%s", cmdLine, err, out)
			}
			if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
				t.Errorf("queue after the hint's delete: %s visible, %s in flight; want 0 and 0", v, f)
			}
		})
	}

	// The same with --json and without --delete, and for peek --body: the
	// bad message is the object with Error, Hint and ErrorCode.
	t.Run("OneBadMessageAmongThree/JSON", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		bodies := map[string]string{}
		var bad, badKey string
		seen := map[string]bool{}
		for i, body := range []string{"first ✓", "second, whose payload goes ✓", "third ✓"} {
			r := sqsx.run(t, []byte(body), nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send")
			id := strings.TrimSpace(string(r.stdout))
			bodies[id] = body
			for _, k := range wantKeys(t, c, bucket, i+1, "after a send") {
				if !seen[k] && i == 1 {
					bad, badKey = id, k
				}
				seen[k] = true
			}
		}
		if _, err := c.S3.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(badKey)}); err != nil {
			t.Fatal(err)
		}

		check := func(what string, r result, wantHint string) {
			t.Helper()
			if r.code != 1 {
				t.Errorf("%s: exit %d, want 1; stderr %s", what, r.code, r.stderr)
			}
			got := jsonLines(t, what, r.stdout)
			if len(got) != 3 {
				t.Fatalf("%s: %d objects, want 3:\n%s", what, len(got), r.stdout)
			}
			for _, m := range got {
				id := m["MessageId"].(string)
				if id != bad {
					if m["Body"] != bodies[id] || m["Error"] != nil || m["ErrorCode"] != nil {
						t.Errorf("%s: message %s: %v, want its body %q", what, id, m, bodies[id])
					}
					continue
				}
				hint, _ := m["Hint"].(string)
				if m["Body"] != nil || m["ErrorCode"] != "PayloadNotFound" || m["Deleted"] != nil ||
					!strings.Contains(m["Error"].(string), "s3://"+bucket+"/"+badKey+" does not exist") || !strings.Contains(hint, wantHint) {
					t.Errorf("%s: the bad message: %v; want code PayloadNotFound and a hint with %q", what, m, wantHint)
				}
			}
		}
		// peek first: it leaves the messages visible.
		check("peek --body --json", sqsx.run(t, nil, nil, "peek", "--queue-url", queueURL, "--bucket", bucket, "--body", "--output=json",
			"--max-number-of-messages", "3", "--wait-time-seconds", "10"), "'sqsx receive' on the queue prints the command that deletes it")
		r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--output=json", "--max-number-of-messages", "3",
			"--visibility-timeout", "300", "--wait-time-seconds", "10")
		var badHandle string
		for _, m := range jsonLines(t, "receive --json", r.stdout) {
			if m["MessageId"] == bad {
				badHandle, _ = m["ReceiptHandle"].(string)
			}
		}
		check("receive --json", r, "sqsx delete --queue-url "+queueURL+" --receipt-handle "+shellQuote(badHandle))
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "3" {
			t.Errorf("queue after receive without --delete: %s visible, %s in flight; want 0 and 3", v, f)
		}
		wantKeys(t, c, bucket, 2, "after receive without --delete")
	})

	t.Run("OversizePayloadFailsOnlyItsMessage", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		bodies := map[string][]byte{}
		var big string
		for i, n := range []int{100, 2 << 20, 200} {
			b := textBody(t, n+i)
			id := strings.TrimSpace(string(sqsx.run(t, b, nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send").stdout))
			bodies[id] = b
			if n == 2<<20 {
				big = id
			}
		}
		seen := map[string]map[string]any{}
		for range 6 {
			r := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--max-number-of-messages", "10", "--output=json", "--delete",
				"--max-payload-size", "1MiB", "--visibility-timeout", "60", "--wait-time-seconds", "2")
			for _, m := range jsonLines(t, "receive --json", r.stdout) {
				seen[m["MessageId"].(string)] = m
				if m["MessageId"] == big && r.code != 1 {
					t.Errorf("receive with the oversize message: exit %d, want 1", r.code)
				}
			}
			if len(seen) == len(bodies) {
				break
			}
		}
		if len(seen) != len(bodies) {
			t.Fatalf("saw %d of %d messages: %v", len(seen), len(bodies), seen)
		}
		for id, m := range seen {
			if id == big {
				if _, ok := m["Body"]; ok || m["Deleted"] != nil || !strings.Contains(m["Error"].(string), "over the 1MiB of --max-payload-size") ||
					!strings.Contains(m["Hint"].(string), "--max-payload-size 3MiB") || !strings.Contains(m["Hint"].(string), "--out-dir") ||
					strings.Count(m["Hint"].(string), "--max-payload-size") != 1 ||
					m["ReceiptHandle"] == "" {
					t.Errorf("oversize message: %v", m)
				}
				continue
			}
			if m["Body"] != string(bodies[id]) || m["Deleted"] != true {
				t.Errorf("message %s: body of %d bytes, deleted %v", id, len(m["Body"].(string)), m["Deleted"])
			}
		}
		wantKeys(t, c, bucket, 1, "after the receives: the oversize payload stays")
	})

	t.Run("JSONCapBoundsMemory", func(t *testing.T) {
		t.Parallel()
		const size = 80 << 20 // over the 64 MiB default cap of a body in JSON
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		key := "big-" + strconv.Itoa(size)
		ctx := context.Background()
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: bytes.NewReader(bytes.Repeat([]byte("a"), size))}); err != nil {
			t.Fatal(err)
		}
		ptr, err := payload.EncodePointer(payload.Pointer{Bucket: bucket, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		// The size attribute lies: the cap must hold on the object's size.
		if _, err := c.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(ptr),
			MessageAttributes: map[string]types.MessageAttributeValue{
				payload.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String("10")},
			}}); err != nil {
			t.Fatal(err)
		}
		r, rss := sqsx.runPeakRSS(t, "receive", "--queue-url", queueURL, "--bucket", bucket, "--output=json", "--visibility-timeout", "1", "--wait-time-seconds", "10")
		m := oneJSON(t, "receive --json", r.stdout)
		if r.code != 1 || m["Body"] != nil || !strings.Contains(m["Error"].(string), strconv.Itoa(size)+" bytes, over the 64MiB") {
			t.Fatalf("receive --json of an %d-byte payload: exit %d, %v", size, r.code, m)
		}
		t.Logf("receive --json refusing %d bytes: peak RSS %d KiB", size, rss)
		if rss > 60<<10 {
			t.Errorf("receive --json peak RSS %d KiB for a refused %d-byte payload; it must not read it", rss, size)
		}

		// Streamed to a file, it has no cap and stays in bounded memory.
		out := filepath.Join(t.TempDir(), "body")
		var got result
		for range 5 {
			got, rss = sqsx.runPeakRSS(t, "receive", "--queue-url", queueURL, "--bucket", bucket, "--out", out, "--delete", "--wait-time-seconds", "5")
			if got.code != 3 {
				break
			}
		}
		got.must(t, "receive --out")
		if fi, err := os.Stat(out); err != nil || fi.Size() != size {
			t.Errorf("--out holds %v bytes (%v), want %d", fi, err, size)
		}
		t.Logf("receive --out of %d bytes: peak RSS %d KiB", size, rss)
		if rss > 60<<10 {
			t.Errorf("receive --out peak RSS %d KiB for %d bytes; it must stream", rss, size)
		}
	})

	t.Run("PeekCapPerMessage", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		sqsx.run(t, textBody(t, 2<<20), nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send big")
		sqsx.run(t, []byte("small ✓"), nil, "send", "--queue-url", queueURL, "--bucket", bucket).must(t, "send small")
		var peeked []map[string]any
		var r result
		for range 5 {
			r = sqsx.run(t, nil, nil, "peek", "--queue-url", queueURL, "--bucket", bucket, "--body", "--output=json", "--max-payload-size", "1MiB", "--wait-time-seconds", "2")
			if peeked = jsonLines(t, "peek --json", r.stdout); len(peeked) == 2 {
				break
			}
		}
		if len(peeked) != 2 || r.code != 1 {
			t.Fatalf("peek: exit %d, %d messages, want 1 and 2", r.code, len(peeked))
		}
		for _, m := range peeked {
			if m["Offloaded"] == true {
				if m["Body"] != nil || !strings.Contains(m["Hint"].(string), "--max-payload-size 2MiB") {
					t.Errorf("oversize message: %v", m)
				}
			} else if m["Body"] != "small ✓" {
				t.Errorf("small message: %v", m)
			}
		}
	})

	t.Run("SendNotText", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		small := append(textBody(t, 999), '.') // the last byte is a character of its own

		// Sent in SQS: refused before anything is sent, at the exact offset.
		for _, at := range []int{0, 500, len(small) - 1} {
			b := bytes.Clone(small)
			b[at] = 0xff
			r := sqsx.run(t, b, nil, "send", "--queue-url", queueURL, "--bucket", bucket)
			if r.code != 2 {
				t.Errorf("bad byte at %d: exit %d, want 2; stderr %s", at, r.code, r.stderr)
			}
			contains(t, "stderr", r.stderr, "byte 0xFF is not valid UTF-8, at byte offset "+strconv.Itoa(at), "Nothing was sent", "--always-s3")
		}
		wantKeys(t, c, bucket, 0, "after the refused sends")
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after the refused sends: %s visible, %s in flight", v, f)
		}

		// Over the threshold: stored as it is, and sent, with a warning.
		for _, at := range []int{0, 1 << 20, 2<<20 - 1} {
			b := bytes.Repeat([]byte("text "), 2<<20/5+1)[:2<<20]
			b[at] = 0xff
			res := oneJSON(t, "send --json", sqsx.run(t, b, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--output=json").must(t, "send").stdout)
			if res["Offloaded"] != true || !strings.Contains(res["Warning"].(string), "first invalid byte at offset "+strconv.Itoa(at)+")") {
				t.Errorf("bad byte at %d: %v", at, res)
			}
			out := filepath.Join(t.TempDir(), "got")
			sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--out", out, "--delete", "--wait-time-seconds", "10").must(t, "receive")
			if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, b) {
				t.Errorf("bad byte at %d: received %d bytes (%v), not the %d sent", at, len(got), err, len(b))
			}
		}

		// Small binary data goes with --always-s3.
		bin := []byte{0, 1, 2, 0xff, 0xfe, '\n'}
		sent := sqsx.run(t, bin, nil, "send", "--queue-url", queueURL, "--bucket", bucket, "--always-s3").must(t, "send --always-s3")
		contains(t, "stderr", sent.stderr, "warning: the body is not valid UTF-8 (first invalid byte at offset 3)")
		got := sqsx.run(t, nil, nil, "receive", "--queue-url", queueURL, "--bucket", bucket, "--delete", "--wait-time-seconds", "10").must(t, "receive")
		if !bytes.Equal(got.stdout, bin) {
			t.Errorf("received %q, want %q", got.stdout, bin)
		}
	})
}

// rssHelperEnv makes the test binary, started with it, run its arguments as
// a command and print the command's peak resident set size, in KiB, on
// standard error, instead of running tests. Measured from the test process
// itself, the peak would include the test's own memory: Linux counts the
// memory a process had when it called exec.
const rssHelperEnv = "SQSX_TEST_PEAK_RSS"

func init() {
	if os.Getenv(rssHelperEnv) != "1" {
		return
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	if cmd.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "rss helper: %v\n", err)
		os.Exit(125)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		fmt.Fprintf(os.Stderr, "\npeak-rss-kib=%d\n", ru.Maxrss)
	}
	os.Exit(cmd.ProcessState.ExitCode())
}

// runPeakRSS runs the binary as run does and returns its result and its
// peak resident set size in KiB.
func (c cli) runPeakRSS(t *testing.T, args ...string) (result, int64) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	r := cli{bin: self}.run(t, nil, []string{rssHelperEnv + "=1"}, append([]string{c.bin}, args...)...)
	i := bytes.LastIndex(r.stderr, []byte("\npeak-rss-kib="))
	if i < 0 {
		t.Fatalf("no peak RSS reported: %s", r.stderr)
	}
	kib, err := strconv.ParseInt(strings.TrimSpace(string(r.stderr[i+len("\npeak-rss-kib="):])), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	r.stderr = r.stderr[:i]
	return r, kib
}
