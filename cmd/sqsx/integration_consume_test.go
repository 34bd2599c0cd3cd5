package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/go-cmp/cmp"

	"github.com/sqsx/sqsx/internal/testenv"
)

// background is a sqsx process started with start.
type background struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	done           chan struct{}
	err            error
	took           time.Duration
}

// start starts the binary with args and extra environment variables, and
// kills it when t ends.
func (c cli) start(t *testing.T, env []string, args ...string) *background {
	t.Helper()
	b := &background{cmd: exec.Command(c.bin, args...), done: make(chan struct{})}
	b.cmd.Env = append(os.Environ(), env...)
	b.cmd.Stdout, b.cmd.Stderr = &b.stdout, &b.stderr
	if err := b.cmd.Start(); err != nil {
		t.Fatalf("starting sqsx %v: %v", args, err)
	}
	start := time.Now()
	go func() {
		b.err = b.cmd.Wait()
		b.took = time.Since(start)
		close(b.done)
	}()
	t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// wait waits up to d for the process to exit and returns its exit code.
func (b *background) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(d):
		t.Fatalf("sqsx did not exit within %v\nstderr: %s", d, b.stderr.Bytes())
	}
	var ee *exec.ExitError
	switch {
	case b.err == nil:
		return 0
	case errors.As(b.err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("sqsx: %v", b.err)
	return -1
}

// waitFile waits up to d for path to hold lines lines, and returns them.
func waitFile(t *testing.T, path string, lines int, d time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		data, _ := os.ReadFile(path)
		got := strings.Fields(string(data))
		if len(got) >= lines {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %d lines after %v, want %d", path, len(got), d, lines)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// readLines returns the lines of a file, none if it does not exist.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Fields(string(data))
}

// integrationConsume drives sqsx consume against the local servers.
func integrationConsume(t *testing.T, c *testenv.Clients, sqsx cli) {
	send := func(t *testing.T, queueURL, bucket string, body []byte, args ...string) string {
		t.Helper()
		r := sqsx.run(t, body, nil, append([]string{"send", "--queue-url", queueURL, "--bucket", bucket, "--quiet"}, args...)...).must(t, "send")
		return strings.TrimSpace(string(r.stdout))
	}

	// Messages of mixed sizes, one of 20 MiB in S3, each piped whole to the
	// command's standard input with its description in the environment;
	// all deleted, with their payloads.
	t.Run("ConsumeMixedSizes", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		bodies := map[string][]byte{}
		offloaded := map[string]bool{}
		for _, n := range []int{5, 200 << 10, 300 << 10, 20 << 20} {
			body := textBody(t, max(n, 64))
			if n == 5 {
				body = []byte("tiny✓")
			}
			var id string
			if n == 200<<10 {
				id = send(t, queueURL, bucket, body, "--attr", "color=String:blue", "--attr", "trace-id=String:abc-123",
					"--attr", "blob=Binary:aGk=", "--attr", "n=Number.int:42")
			} else {
				id = send(t, queueURL, bucket, body)
			}
			bodies[id], offloaded[id] = body, n > 256<<10
		}
		wantKeys(t, c, bucket, 2, "after the sends")

		out := t.TempDir()
		script := `sha256sum > "$OUT/$SQSX_MESSAGE_ID.sum" && env > "$OUT/$SQSX_MESSAGE_ID.env"`
		r := sqsx.run(t, nil, []string{"OUT=" + out, "SQSX_GROUP_ID=from-the-parent"}, "consume", "--queue-url", queueURL, "--bucket", bucket,
			"--max-messages", "4", "--concurrency", "3", "--wait-time-seconds", "1", "--", "sh", "-c", script).must(t, "consume")
		contains(t, "consume stderr", r.stderr, "ran the command for 4 messages (4 exited 0, 0 failed); 4 acknowledged, 0 to be retried")

		for id, body := range bodies {
			sum, err := os.ReadFile(filepath.Join(out, id+".sum"))
			if err != nil {
				t.Fatalf("message %s: the command did not run: %v", id, err)
			}
			want := sha256.Sum256(body)
			if got := strings.Fields(string(sum)); len(got) == 0 || got[0] != hex.EncodeToString(want[:]) {
				t.Errorf("message %s (%d bytes): the command read sha256 %s, want %x", id, len(body), sum, want)
			}
			data, err := os.ReadFile(filepath.Join(out, id+".env"))
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{}
			for _, kv := range strings.Split(string(data), "\n") {
				if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "SQSX_") {
					env[k] = v
				}
			}
			for k, want := range map[string]string{
				"SQSX_MESSAGE_ID": id, "SQSX_RECEIVE_COUNT": "1", "SQSX_SIZE": strconv.Itoa(len(body)), "SQSX_QUEUE_URL": queueURL,
			} {
				if env[k] != want {
					t.Errorf("message %s: %s=%q, want %q", id, k, env[k], want)
				}
			}
			if ms, err := strconv.ParseInt(env["SQSX_SENT_TIMESTAMP"], 10, 64); err != nil || time.Since(time.UnixMilli(ms)).Abs() > 5*time.Minute {
				t.Errorf("message %s: SQSX_SENT_TIMESTAMP=%q, want the time of the send in milliseconds", id, env["SQSX_SENT_TIMESTAMP"])
			}
			if g, ok := env["SQSX_GROUP_ID"]; ok {
				t.Errorf("message %s: SQSX_GROUP_ID=%q on a standard queue, inherited", id, g)
			}
			if p := env["SQSX_PAYLOAD"]; offloaded[id] != strings.HasPrefix(p, "s3://"+bucket+"/") {
				t.Errorf("message %s: SQSX_PAYLOAD=%q, offloaded %v", id, p, offloaded[id])
			}
			if len(body) != 200<<10 {
				if a := env["SQSX_ATTRIBUTES"]; a != "{}" {
					t.Errorf("message %s without attributes: SQSX_ATTRIBUTES=%s", id, a)
				}
				continue
			}
			for k, want := range map[string]string{
				"SQSX_ATTR_color": "blue", "SQSX_ATTR_trace_id": "abc-123", "SQSX_ATTR_blob": "aGk=", "SQSX_ATTR_n": "42",
			} {
				if env[k] != want {
					t.Errorf("message %s: %s=%q, want %q", id, k, env[k], want)
				}
			}
			var attrs map[string]attrJSON
			if err := json.Unmarshal([]byte(env["SQSX_ATTRIBUTES"]), &attrs); err != nil {
				t.Fatalf("SQSX_ATTRIBUTES=%s: %v", env["SQSX_ATTRIBUTES"], err)
			}
			wantAttrs := map[string]attrJSON{
				"color":    {DataType: "String", StringValue: aws.String("blue")},
				"trace-id": {DataType: "String", StringValue: aws.String("abc-123")},
				"blob":     {DataType: "Binary", BinaryValue: []byte("hi")},
				"n":        {DataType: "Number.int", StringValue: aws.String("42")},
			}
			if diff := cmp.Diff(wantAttrs, attrs); diff != "" {
				t.Errorf("SQSX_ATTRIBUTES=%s (-want +got):\n%s", env["SQSX_ATTRIBUTES"], diff)
			}
		}
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after consume: %s visible, %s in flight; want 0 and 0", v, f)
		}
		wantKeys(t, c, bucket, 0, "after consume")
	})

	// A command that fails for one message: that message is not deleted and
	// comes back after the backoff, with its payload; the others are
	// deleted.
	t.Run("ConsumeOneCommandFails", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		good1 := send(t, queueURL, bucket, []byte("good one"))
		bad := send(t, queueURL, bucket, []byte("bad"), "--always-s3")
		good2 := send(t, queueURL, bucket, []byte("good two"), "--always-s3")
		wantKeys(t, c, bucket, 2, "after the sends")

		out := t.TempDir()
		script := `body=$(cat); echo "$SQSX_MESSAGE_ID" >> "$OUT/ran"; [ "$body" != bad ] || { echo "cannot take $body" >&2; exit 3; }`
		r := sqsx.run(t, nil, []string{"OUT=" + out}, "consume", "--queue-url", queueURL, "--bucket", bucket, "--output=json", "--tag",
			"--max-messages", "3", "--backoff", "6s", "--wait-time-seconds", "1", "--", "sh", "-c", script).must(t, "consume")
		ended := time.Now()
		// With --json the command's output goes to standard error; --tag
		// names the message on each line.
		contains(t, "consume stderr", r.stderr, bad+"\tcannot take bad\n")
		outcomes := map[string]map[string]any{}
		for _, o := range jsonLines(t, "consume stdout", r.stdout) {
			outcomes[o["MessageId"].(string)] = o
		}
		for _, id := range []string{good1, good2} {
			if o := outcomes[id]; o["Outcome"] != "acknowledged" || o["ExitCode"] != 0.0 || o["ReceiveCount"] != 1.0 {
				t.Errorf("message %s: %v, want acknowledged, exit code 0", id, o)
			}
		}
		if o := outcomes[bad]; o["Outcome"] != "retry" || o["ExitCode"] != 3.0 || o["RetryAfterSeconds"] != 6.0 || o["Error"] != "command exit status 3" {
			t.Errorf("failed message %s: %v, want retry after 6 s, exit code 3", bad, o)
		}
		if len(outcomes) != 3 {
			t.Errorf("%d outcomes, want 3:\n%s", len(outcomes), r.stdout)
		}
		if ran := readLines(t, filepath.Join(out, "ran")); len(ran) != 3 {
			t.Errorf("the command ran for %v, want each message once", ran)
		}
		if v, f := queueCounts(t, c, queueURL); (v != "0" || f != "1") && time.Since(ended) < 5*time.Second {
			t.Errorf("queue after consume: %s visible, %s in flight; want 0 and 1 (the failed one, hidden for the backoff)", v, f)
		}
		wantKeys(t, c, bucket, 1, "after consume: the failed message's payload")

		// It comes back after the backoff, with its payload.
		got := testenv.ReceiveAll(t, c.SQS, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queueURL), WaitTimeSeconds: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
		}, 1, 30*time.Second)
		if id := aws.ToString(got[0].MessageId); id != bad {
			t.Errorf("message %s came back, want %s", id, bad)
		}
		if n := got[0].Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; n != "2" {
			t.Errorf("receive count %s, want 2", n)
		}
		if back := time.Since(ended); back < 3*time.Second {
			t.Errorf("the failed message came back %v after consume ended, before its 6 s backoff", back)
		}
	})

	// Ctrl-C: the running command finishes, the others are given back at
	// once, sqsx exits 0; a second run handles them, none twice.
	t.Run("ConsumeInterrupt", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		bodies := map[string]string{}
		for i := range 3 {
			body := "message " + strconv.Itoa(i)
			bodies[send(t, queueURL, bucket, []byte(body))] = body
		}
		out := t.TempDir()
		script := `echo "$SQSX_MESSAGE_ID" >> "$OUT/started"; sleep 2; cat > "$OUT/$SQSX_MESSAGE_ID"; echo "$SQSX_MESSAGE_ID" >> "$OUT/finished"`
		args := []string{"consume", "--queue-url", queueURL, "--bucket", bucket, "--wait-time-seconds", "1", "--", "sh", "-c", script}
		env := []string{"OUT=" + out}
		b := sqsx.start(t, env, args...)
		waitFile(t, filepath.Join(out, "started"), 1, 30*time.Second)
		interrupted := time.Now()
		if err := b.cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
		if code := b.wait(t, 20*time.Second); code != 0 {
			t.Fatalf("exit code %d after Ctrl-C, want 0\nstderr: %s", code, b.stderr.Bytes())
		}
		if took := time.Since(interrupted); took > 10*time.Second {
			t.Errorf("sqsx took %v to stop after Ctrl-C; the command takes 2 s, a poll 1 s", took)
		}
		contains(t, "stderr", b.stderr.Bytes(), "stopping: no more messages are received; waiting up to 30s for 1 running command to finish", "1 acknowledged")
		started, finished := readLines(t, filepath.Join(out, "started")), readLines(t, filepath.Join(out, "finished"))
		if len(started) != 1 || len(finished) != 1 || started[0] != finished[0] {
			t.Fatalf("after Ctrl-C: started %v, finished %v; want the running command finished and no other started", started, finished)
		}
		if v, f := queueCounts(t, c, queueURL); v != "2" || f != "0" {
			t.Errorf("queue after Ctrl-C: %s visible, %s in flight; want 2 and 0 (given back at once)", v, f)
		}

		sqsx.run(t, nil, env, append([]string{"consume", "--max-messages", "2"}, args[1:]...)...).must(t, "consume the rest")
		started, finished = readLines(t, filepath.Join(out, "started")), readLines(t, filepath.Join(out, "finished"))
		if len(started) != 3 || len(finished) != 3 {
			t.Errorf("after both runs: started %v, finished %v; want each of the 3 messages once", started, finished)
		}
		for id, body := range bodies {
			if got, err := os.ReadFile(filepath.Join(out, id)); err != nil || string(got) != body {
				t.Errorf("message %s: the command read %q (%v), want %q", id, got, err, body)
			}
		}
		if v, f := queueCounts(t, c, queueURL); v != "0" || f != "0" {
			t.Errorf("queue after both runs: %s visible, %s in flight; want 0 and 0", v, f)
		}
	})

	// A second Ctrl-C kills the running command and its children; its
	// message comes back after the backoff.
	t.Run("ConsumeSecondInterruptKills", func(t *testing.T) {
		t.Parallel()
		bucket := c.Bucket(t)
		queueURL := c.Queue(t, false, nil)
		id := send(t, queueURL, bucket, []byte("slow"))
		out := t.TempDir()
		script := `sleep 60 & echo $! > "$OUT/sleep.pid"; wait`
		b := sqsx.start(t, []string{"OUT=" + out}, "consume", "--queue-url", queueURL, "--bucket", bucket, "--wait-time-seconds", "1",
			"--backoff", "1s", "--", "sh", "-c", script)
		pid, err := strconv.Atoi(waitFile(t, filepath.Join(out, "sleep.pid"), 1, 30*time.Second)[0])
		if err != nil {
			t.Fatal(err)
		}
		b.cmd.Process.Signal(os.Interrupt)
		time.Sleep(1500 * time.Millisecond)
		select {
		case <-b.done:
			t.Fatalf("sqsx exited after one Ctrl-C while its command ran\nstderr: %s", b.stderr.Bytes())
		default:
		}
		if err := syscall.Kill(pid, 0); err != nil {
			t.Fatalf("the command's child is gone after one Ctrl-C (%v); it should be let finish", err)
		}
		b.cmd.Process.Signal(os.Interrupt)
		if code := b.wait(t, 5*time.Second); code != 1 {
			t.Errorf("exit code %d after a second Ctrl-C, want 1\nstderr: %s", code, b.stderr.Bytes())
		}
		contains(t, "stderr", b.stderr.Bytes(), "interrupted again: killing 1 running command", "1 command had to be killed")
		deadline := time.Now().Add(5 * time.Second)
		for syscall.Kill(pid, 0) == nil {
			if time.Now().After(deadline) {
				syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the command's child %d still runs after the kill", pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
		got := testenv.ReceiveAll(t, c.SQS, &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), WaitTimeSeconds: 5}, 1, 30*time.Second)
		if aws.ToString(got[0].MessageId) != id {
			t.Errorf("message %s came back, want %s", aws.ToString(got[0].MessageId), id)
		}
	})

	t.Run("ConsumeCommandNotFound", func(t *testing.T) {
		t.Parallel()
		r := sqsx.run(t, nil, nil, "consume", "--queue-url", "http://127.0.0.1:1/000000000000/q", "--", "no-such-command-sqsx")
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1; stderr %s", r.code, r.stderr)
		}
		contains(t, "stderr", r.stderr, "cannot run no-such-command-sqsx", "nothing was received")
	})
}
