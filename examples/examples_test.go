package examples_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
)

// These tests build each example and run it against the local servers as a
// user would: start it, send messages, read what it prints, stop it with
// SIGINT and check that it exits cleanly with the queue and bucket empty.

// example is one running example.
type example struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
}

func start(t *testing.T, name string, args ...string) *example {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	if out, err := exec.Command("go", "build", "-o", bin, "./"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", name, err, out)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e := &example{t: t, cmd: cmd, lines: make(chan string, 100)}
	go func() {
		defer close(e.lines)
		s := bufio.NewScanner(stdout)
		for s.Scan() {
			e.lines <- s.Text()
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill() })
	return e
}

// read returns the next n lines the example prints.
func (e *example) read(n int) []string {
	e.t.Helper()
	var got []string
	timeout := time.After(60 * time.Second)
	for len(got) < n {
		select {
		case l, ok := <-e.lines:
			if !ok {
				e.t.Fatalf("the example exited after printing %q", got)
			}
			got = append(got, l)
		case <-timeout:
			e.t.Fatalf("timed out with %q printed", got)
		}
	}
	return got
}

// stop sends SIGINT and expects a clean exit that prints "stopped".
func (e *example) stop() {
	e.t.Helper()
	if err := e.cmd.Process.Signal(syscall.SIGINT); err != nil {
		e.t.Fatal(err)
	}
	if last := e.read(1); last[0] != "stopped" {
		e.t.Errorf("expect \"stopped\", got %q", last[0])
	}
	if err := e.cmd.Wait(); err != nil {
		e.t.Errorf("expect a clean exit, got %v", err)
	}
}

func newClient(t *testing.T, env *testenv.Clients, bucket string) *sqsx.Client {
	t.Helper()
	c, err := sqsx.New(env.SQS, env.S3, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func send(t *testing.T, c *sqsx.Client, queue, body, group string) string {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(fmt.Sprintf("%x", sha256.Sum256([]byte(body))))
	}
	out, err := c.SendMessage(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

func checkEmpty(t *testing.T, env *testenv.Clients, queue, bucket string) {
	t.Helper()
	out, err := env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Errorf("expect an empty queue, got a message")
	}
	if keys := env.Keys(t, bucket); len(keys) != 0 {
		t.Errorf("expect every payload deleted, got %v", keys)
	}
}

func TestIntegExampleWorker(t *testing.T) {
	env := testenv.Require(t)
	bucket, queue := env.Bucket(t), env.Queue(t, false, nil)
	c := newClient(t, env, bucket)
	e := start(t, "worker", "-queue-url", queue, "-bucket", bucket)
	ids := []string{send(t, c, queue, "hello", ""), send(t, c, queue, strings.Repeat("x", 300<<10), "")}
	got := strings.Join(e.read(2), "\n")
	for _, id := range ids {
		if !strings.Contains(got, "handled "+id+":") {
			t.Errorf("expect %s handled, got %q", id, got)
		}
	}
	if !strings.Contains(got, "307200 bytes, offloaded true, attempt 1") {
		t.Errorf("expect the offloaded message's line, got %q", got)
	}
	e.stop()
	checkEmpty(t, env, queue, bucket)
}

func TestIntegExampleFIFO(t *testing.T) {
	env := testenv.Require(t)
	bucket, queue := env.Bucket(t), env.Queue(t, true, nil)
	c := newClient(t, env, bucket)
	for i := range 3 {
		send(t, c, queue, fmt.Sprintf("a%d", i), "a")
		send(t, c, queue, fmt.Sprintf("b%d", i)+strings.Repeat(" ", 300<<10), "b")
	}
	e := start(t, "fifo", "-queue-url", queue, "-bucket", bucket)
	byGroup := map[string][]string{}
	for _, l := range e.read(6) {
		var g, body string
		fmt.Sscanf(l, "group %s %s", &g, &body)
		byGroup[strings.TrimSuffix(g, ":")] = append(byGroup[strings.TrimSuffix(g, ":")], strings.TrimSuffix(body, "..."))
	}
	if !slices.Equal(byGroup["a"], []string{"a0", "a1", "a2"}) || !slices.Equal(byGroup["b"], []string{"b0", "b1", "b2"}) {
		t.Errorf("expect each group in order, got %v", byGroup)
	}
	e.stop()
	checkEmpty(t, env, queue, bucket)
}

func TestIntegExampleStream(t *testing.T) {
	env := testenv.Require(t)
	bucket, queue := env.Bucket(t), env.Queue(t, false, nil)
	c := newClient(t, env, bucket)
	body := strings.Repeat("streamed payload ", 1<<20/17*12) // about 12 MiB
	if _, err := c.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue)}, strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	e := start(t, "stream", "-queue-url", queue, "-bucket", bucket)
	want := fmt.Sprintf("%d bytes, sha256 %x", len(body), sha256.Sum256([]byte(body)))
	if got := e.read(1)[0]; !strings.HasSuffix(got, want) {
		t.Errorf("expect %q, got %q", want, got)
	}
	e.stop()
	checkEmpty(t, env, queue, bucket)
}
