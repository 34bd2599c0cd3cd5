package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/semaphore"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
	"github.com/sqsx/sqsx/sqsxtest"
)

const (
	queueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/q"
	fifoURL  = "https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo"
)

// pollingSQS is the SQS fake with a short wait on an empty receive, so that
// receivers do not spin.
type pollingSQS struct{ *sqsxtest.SQS }

func (p pollingSQS) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	out, err := p.SQS.ReceiveMessage(ctx, in, optFns...)
	if err == nil && len(out.Messages) == 0 {
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
	}
	return out, err
}

// env is an sqsx Client over the fakes, and a record of the Consumer's
// events.
type env struct {
	t      *testing.T
	sqs    *sqsxtest.SQS
	s3     *sqsxtest.S3
	client *sqsx.Client

	mu     sync.Mutex
	events []Event
	errs   []*Error
}

func newEnv(t *testing.T) *env {
	t.Helper()
	f, s := sqsxtest.New()
	c, err := sqsx.New(pollingSQS{f}, s, func(o *sqsx.Options) { o.Bucket = "bucket" })
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sqs: f, s3: s, client: c}
}

// options returns test defaults plus the recording hooks, then optFns.
func (e *env) options(optFns ...func(*Options)) []func(*Options) {
	return append([]func(*Options){func(o *Options) {
		o.NoWait = true
		o.AckInterval = 50 * time.Millisecond
		o.ShutdownTimeout = 5 * time.Second
		o.Hooks = Hooks{
			OnEvent: func(ev Event) { e.mu.Lock(); e.events = append(e.events, ev); e.mu.Unlock() },
			OnError: func(err *Error) { e.mu.Lock(); e.errs = append(e.errs, err); e.mu.Unlock() },
		}
	}}, optFns...)
}

func (e *env) consumer(optFns ...func(*Options)) *Consumer {
	e.t.Helper()
	c, err := New(e.client, e.options(optFns...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) send(url, body, group string) string {
	e.t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(fmt.Sprint(time.Now().UnixNano()))
	}
	out, err := e.client.SendMessage(context.Background(), in)
	if err != nil {
		e.t.Fatal(err)
	}
	return aws.ToString(out.MessageId)
}

// count returns how many events of type t were recorded.
func (e *env) count(t EventType) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.events {
		if ev.Type == t {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds, or fails t.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// start runs fn (a Run call) on its own goroutine and returns a function
// that stops it and returns its error.
func start(t *testing.T, fn func(ctx context.Context) error) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return")
			return nil
		}
	}
}

// checkNoLeak fails t if goroutines started during it are still running.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	e := newEnv(t)
	_, err := New(e.client, func(o *Options) {
		o.BatchSize = 11
		o.VisibilityTimeout = 1500 * time.Millisecond
		o.Concurrency = -1
		o.AckMode = 7
	})
	if err == nil {
		t.Fatal("expect an error, got nil")
	}
	for _, field := range []string{"BatchSize", "VisibilityTimeout", "Concurrency", "AckMode"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("expect the error to name %s, got %v", field, err)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("expect an error for a nil API")
	}
	if _, err := New(e.client, func(o *Options) { o.VisibilityTimeout = 2 * time.Second; o.HeartbeatInterval = 1500 * time.Millisecond }); err == nil ||
		!strings.Contains(err.Error(), "HeartbeatInterval") {
		t.Errorf("expect a HeartbeatInterval error, got %v", err)
	}
}

func TestExponentialBackoff(t *testing.T) {
	b := ExponentialBackoff(time.Second, 10*time.Second)
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 100: 10 * time.Second} {
		if got := b(n); got != want {
			t.Errorf("receive %d: expect %v, got %v", n, want, got)
		}
	}
	cases := map[string]struct {
		d, want time.Duration
	}{
		"rounded up":  {1500 * time.Millisecond, 2 * time.Second},
		"zero":        {0, 0},
		"negative":    {-time.Second, 0},
		"capped 12 h": {13 * time.Hour, 12 * time.Hour},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := backoff(func(int) time.Duration { return c.d }, 1); got != c.want {
				t.Errorf("expect %v, got %v", c.want, got)
			}
		})
	}
}

// TestGarbledAckAnswer: an answer to DeleteMessageBatch garbled on the way
// (one changed bit turns one entry's id into another's) can name an entry
// as both deleted and failed, and another as neither. Only the entry named
// deleted alone is acknowledged; the other two are reported, as their
// messages may come back.
func TestGarbledAckAnswer(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	for i := range 3 {
		e.send(queueURL, fmt.Sprint("m", i), "")
	}
	var mu sync.Mutex
	var sent []int
	e.sqs.DeleteMessageBatchFn = func(in *sqs.DeleteMessageBatchInput) (*sqs.DeleteMessageBatchOutput, error) {
		mu.Lock()
		sent = append(sent, len(in.Entries))
		mu.Unlock()
		return &sqs.DeleteMessageBatchOutput{
			Successful: []types.DeleteMessageBatchResultEntry{{Id: aws.String("0")}, {Id: aws.String("1")}},
			Failed:     []types.BatchResultErrorEntry{{Id: aws.String("0"), Code: aws.String("InternalError")}},
		}, nil
	}
	var handled atomic.Int32
	c := e.consumer(func(o *Options) { o.AckInterval = time.Hour })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error { handled.Add(1); return nil })
	})
	waitFor(t, "3 handled", func() bool { return handled.Load() == 3 })
	if err := stop(); err != nil { // the shutdown flushes the 3 acks in one batch
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(sent, []int{3}) {
		t.Fatalf("expect one DeleteMessageBatch of 3, got %v", sent)
	}
	if got := e.count(EventAcked); got != 1 {
		t.Errorf("expect 1 acknowledged, got %d", got)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	missing := 0
	for _, err := range e.errs {
		if err.Op == OpAck && err.Code == sqsx.CodeEntryResultMissing {
			missing++
		}
	}
	if missing != 2 {
		t.Errorf("expect 2 acknowledgements reported unproven, got %d in %v", missing, e.errs)
	}
}

func TestAcksCoalescedIntoBatches(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	const n = 25
	for i := range n {
		e.send(queueURL, fmt.Sprint("m", i), "")
	}
	var handled atomic.Int32
	c := e.consumer(func(o *Options) { o.AckInterval = time.Second })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error { handled.Add(1); return nil })
	})
	waitFor(t, "25 acks", func() bool { return e.count(EventAcked) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := e.sqs.Log.Count("DeleteMessageBatch"); got != 3 {
		t.Errorf("expect 3 DeleteMessageBatch calls (10+10+5), got %d", got)
	}
	if got := e.sqs.Log.Count("DeleteMessage"); got != 0 {
		t.Errorf("expect no DeleteMessage, got %d", got)
	}
	if got := e.sqs.Len(queueURL); got != 0 {
		t.Errorf("expect an empty queue, got %d", got)
	}
	if handled.Load() != n {
		t.Errorf("expect %d handled, got %d", n, handled.Load())
	}
}

func TestBatcherKeepsNewestHandle(t *testing.T) {
	var got [][]*entry
	var mu sync.Mutex
	b := newBatcher(time.Hour, func(es []*entry) { mu.Lock(); got = append(got, es); mu.Unlock() })
	t0 := time.Now()
	mk := func(id string, recv time.Time, handle string) *delivery {
		return &delivery{id: id, handle: aws.String(handle), recv: recv}
	}
	old, newer := mk("a", t0, "h1"), mk("a", t0.Add(time.Second), "h2")
	b.add(&entry{d: newer})
	b.add(&entry{d: old}) // an older delivery acknowledged later
	b.add(&entry{d: mk("b", t0, "hb")})
	b.close()
	if len(got) != 1 || len(got[0]) != 2 {
		t.Fatalf("expect one batch of 2 entries, got %v", got)
	}
	e := got[0][0]
	if aws.ToString(e.d.handle) != "h2" || len(e.dups) != 1 || e.dups[0] != old {
		t.Errorf("expect handle h2 with h1 as duplicate, got %s, %d dups", aws.ToString(e.d.handle), len(e.dups))
	}
}

func TestBatcherFlushesByCountAndInterval(t *testing.T) {
	var mu sync.Mutex
	var sizes []int
	b := newBatcher(50*time.Millisecond, func(es []*entry) { mu.Lock(); sizes = append(sizes, len(es)); mu.Unlock() })
	for i := range 12 {
		b.add(&entry{d: &delivery{id: fmt.Sprint(i)}})
	}
	waitFor(t, "the interval flush", func() bool { mu.Lock(); defer mu.Unlock(); return len(sizes) == 2 })
	b.close()
	if !slices.Equal(sizes, []int{10, 2}) {
		t.Errorf("expect batches [10 2], got %v", sizes)
	}
}

func TestFailureSetsBackoff(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "fails", "")
	c := e.consumer(func(o *Options) {
		o.Backoff = func(n int) time.Duration { return time.Duration(n) * 7 * time.Second }
	})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			if m.ReceiveCount != 1 {
				t.Errorf("expect ReceiveCount 1, got %d", m.ReceiveCount)
			}
			return errors.New("boom")
		})
	})
	waitFor(t, "the retry", func() bool { return e.count(EventRetry) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	calls := sqsxtest.Params[*sqs.ChangeMessageVisibilityBatchInput](e.sqs.Log)
	if len(calls) != 1 || calls[0].Entries[0].VisibilityTimeout != 7 {
		t.Fatalf("expect one ChangeMessageVisibilityBatch to 7 s, got %+v", calls)
	}
	if e.sqs.Len(queueURL) != 1 {
		t.Error("expect the failed message still in the queue")
	}
	if len(e.errs) == 0 || e.errs[0].Op != OpHandler {
		t.Errorf("expect a handler error reported, got %v", e.errs)
	}
}

func TestPanicIsAFailure(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "panics", "")
	c := e.consumer()
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error { panic("oops") })
	})
	waitFor(t, "the retry", func() bool { return e.count(EventRetry) == 1 })
	stop()
	var pe *PanicError
	if len(e.errs) == 0 || !errors.As(e.errs[0], &pe) || pe.Value != "oops" {
		t.Errorf("expect a *PanicError reported, got %v", e.errs)
	}
}

func TestHeartbeatExtendsUntilDone(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "slow", "")
	var calls atomic.Int32
	c := e.consumer(func(o *Options) {
		o.VisibilityTimeout = time.Second
		o.HeartbeatInterval = 200 * time.Millisecond
	})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			calls.Add(1)
			time.Sleep(2500 * time.Millisecond) // 2.5 visibility timeouts
			return nil
		})
	})
	waitFor(t, "the ack", func() bool { return e.count(EventAcked) == 1 })
	extended := e.count(EventExtended)
	time.Sleep(600 * time.Millisecond)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("expect the handler called once (the message stayed invisible), got %d", calls.Load())
	}
	// Extended at about 0.4 s after each extension for 2.5 s: 3 to 7 times.
	if extended < 2 || extended > 8 {
		t.Errorf("expect 2..8 extensions, got %d", extended)
	}
	if got := e.count(EventExtended); got != extended {
		t.Errorf("expect no extension after the ack, got %d more", got-extended)
	}
}

// TestHeartbeatGarbledAnswer: an extension a garbled answer names both
// done and failed is reported, and the heartbeat goes on extending the
// message: taking it for failed would stop the extensions and let the
// message come back while its handler runs.
func TestHeartbeatGarbledAnswer(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "slow", "")
	var beats atomic.Int32
	e.sqs.ChangeMessageVisibilityBatchFn = func(in *sqs.ChangeMessageVisibilityBatchInput) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
		beats.Add(1)
		out := &sqs.ChangeMessageVisibilityBatchOutput{}
		for _, en := range in.Entries {
			out.Successful = append(out.Successful, types.ChangeMessageVisibilityBatchResultEntry{Id: en.Id})
			out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: en.Id, Code: aws.String("InternalError")})
		}
		return out, nil
	}
	c := e.consumer(func(o *Options) {
		o.VisibilityTimeout = time.Second
		o.HeartbeatInterval = 200 * time.Millisecond
	})
	done := make(chan struct{})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			<-done
			return nil
		})
	})
	waitFor(t, "three beats", func() bool { return beats.Load() >= 3 })
	close(done)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	unproven := 0
	for _, err := range e.errs {
		if err.Op == OpVisibility {
			if err.Code != sqsx.CodeEntryResultMissing {
				t.Errorf("expect only %s, got %v", sqsx.CodeEntryResultMissing, err)
			}
			unproven++
		}
	}
	if unproven < 3 {
		t.Errorf("expect every garbled extension reported, got %d", unproven)
	}
}

func TestHeartbeatCapped(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "slow", "")
	c := e.consumer(func(o *Options) {
		o.VisibilityTimeout = time.Second
		o.HeartbeatInterval = 200 * time.Millisecond
		o.MaxExtension = 2 * time.Second
	})
	release := make(chan struct{})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		})
	})
	waitFor(t, "the cap", func() bool { return e.count(EventExtensionCapped) == 1 })
	e.mu.Lock()
	for _, ev := range e.events {
		if ev.Type == EventExtended && ev.Visibility > time.Second {
			t.Errorf("expect extensions of at most 1 s, got %v", ev.Visibility)
		}
	}
	e.mu.Unlock()
	close(release)
	stop()
}

func TestFIFOGroupOrderAndFailureRule(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	var ids = map[string]string{}
	for _, m := range []struct{ body, group string }{{"a1", "a"}, {"b1", "b"}, {"a2", "a"}, {"a3", "a"}, {"b2", "b"}, {"b3", "b"}} {
		ids[e.send(fifoURL, m.body, m.group)] = m.body
	}
	// SQS holds back a group while a message of it is in flight; the fake
	// does not, so it gets one receive.
	var received atomic.Bool
	e.sqs.ReceiveMessageFn = func(*sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		if received.Swap(true) {
			return &sqs.ReceiveMessageOutput{}, nil
		}
		return nil, nil
	}
	var mu sync.Mutex
	var order []string
	c := e.consumer(func(o *Options) {
		o.Receivers = 1
		o.Backoff = func(int) time.Duration { return time.Minute }
	})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, fifoURL, func(ctx context.Context, m *Message) error {
			mu.Lock()
			order = append(order, m.Body)
			mu.Unlock()
			if m.Body == "a2" {
				return errors.New("a2 fails")
			}
			return nil
		})
	})
	waitFor(t, "the outcomes", func() bool {
		return e.count(EventAcked) == 4 && e.count(EventRetry) == 1 && e.count(EventReleased) == 1
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var a, b []string
	for _, s := range order {
		if s[0] == 'a' {
			a = append(a, s)
		} else {
			b = append(b, s)
		}
	}
	if !slices.Equal(a, []string{"a1", "a2"}) || !slices.Equal(b, []string{"b1", "b2", "b3"}) {
		t.Errorf("expect group a [a1 a2] (a3 not handled) and b [b1 b2 b3], got %v and %v", a, b)
	}
	var vis []int32
	for _, in := range sqsxtest.Params[*sqs.ChangeMessageVisibilityBatchInput](e.sqs.Log) {
		for _, en := range in.Entries {
			vis = append(vis, en.VisibilityTimeout)
		}
	}
	slices.Sort(vis)
	if !slices.Equal(vis, []int32{0, 60}) {
		t.Errorf("expect a3 released (0) and a2 backed off (60), got %v", vis)
	}
	e.mu.Lock()
	for _, ev := range e.events {
		if ev.Type == EventReleased && ids[ev.MessageID] != "a3" {
			t.Errorf("expect a3 released, got %s", ids[ev.MessageID])
		}
	}
	e.mu.Unlock()
}

func TestShutdownFinishesInFlightAndReleasesTheRest(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	const n = 20
	for i := range n {
		e.send(queueURL, fmt.Sprint("m", i), "")
	}
	started := make(chan struct{}, n)
	c := e.consumer(func(o *Options) {
		o.Receivers = 1
		o.Concurrency = 2
		o.Prefetch = 5
		o.AckInterval = time.Hour // only the shutdown flush sends them
	})
	var handled atomic.Int32
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			started <- struct{}{}
			time.Sleep(300 * time.Millisecond)
			handled.Add(1)
			return nil
		})
	})
	<-started
	<-started
	waitFor(t, "the prefetch", func() bool { return e.count(EventReceived) == 7 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if handled.Load() != 2 {
		t.Fatalf("expect the 2 in-flight handlers to finish, got %d", handled.Load())
	}
	if e.count(EventAcked) != 2 || e.count(EventReleased) != 5 {
		t.Errorf("expect 2 acked and 5 released, got %d and %d", e.count(EventAcked), e.count(EventReleased))
	}
	// Every message not acknowledged is visible again at once.
	out, err := e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	visible := len(out.Messages)
	out, _ = e.sqs.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queueURL), MaxNumberOfMessages: 10})
	if visible += len(out.Messages); visible != n-2 {
		t.Errorf("expect %d messages visible, got %d", n-2, visible)
	}
}

// With the default Prefetch the Consumer holds 2×Concurrency messages ahead
// of its busy handlers, and no more.
func TestDefaultPrefetchIsTwiceConcurrency(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	const n = 20
	for i := range n {
		e.send(queueURL, fmt.Sprint("m", i), "")
	}
	c := e.consumer(func(o *Options) {
		o.Receivers = 2
		o.Concurrency = 3
	})
	release := make(chan struct{})
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			<-release
			return nil
		})
	})
	const held = 3 + 2*3
	waitFor(t, "the prefetch", func() bool { return e.count(EventReceived) == held })
	time.Sleep(200 * time.Millisecond) // the receivers keep polling meanwhile
	if got := e.count(EventReceived); got != held {
		t.Errorf("expect %d messages held (3 handled + 6 prefetched), got %d", held, got)
	}
	close(release)
	waitFor(t, "every message acknowledged", func() bool { return e.count(EventAcked) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}

func TestShutdownTimeoutCancelsHandlers(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "stuck", "")
	running := make(chan struct{})
	c := e.consumer(func(o *Options) { o.ShutdownTimeout = 100 * time.Millisecond })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			close(running)
			<-ctx.Done()
			return ctx.Err()
		})
	})
	<-running
	if err := stop(); !errors.Is(err, ErrShutdownTimeout) {
		t.Fatalf("expect ErrShutdownTimeout, got %v", err)
	}
	if e.count(EventRetry) != 1 {
		t.Errorf("expect the cancelled message retried, got %d", e.count(EventRetry))
	}
}

func TestManualAck(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.send(queueURL, "ack me", "")
	e.send(queueURL, "leave me", "")
	c := e.consumer(func(o *Options) { o.AckMode = AckManual })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			if m.Body == "ack me" {
				m.Ack()
				m.Ack()
			}
			return nil
		})
	})
	waitFor(t, "the ack", func() bool { return e.count(EventAcked) == 1 && e.count(EventSucceeded) == 2 })
	stop()
	msgs := e.sqs.Messages(queueURL)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "leave me" {
		t.Errorf("expect only the unacknowledged message left, got %d", len(msgs))
	}
	if e.sqs.Log.Count("ChangeMessageVisibilityBatch") != 0 {
		t.Error("expect no visibility change for the unacknowledged message")
	}
}

func TestAckAlways(t *testing.T) {
	e := newEnv(t)
	e.send(queueURL, "fails", "")
	c := e.consumer(func(o *Options) { o.AckMode = AckAlways })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error { return errors.New("boom") })
	})
	waitFor(t, "the ack", func() bool { return e.count(EventAcked) == 1 })
	stop()
	if e.sqs.Len(queueURL) != 0 || len(e.errs) != 1 {
		t.Errorf("expect the failed message deleted and its error reported, got %d left, %v", e.sqs.Len(queueURL), e.errs)
	}
}

func TestBatchHandlerPartialFailure(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	ids := map[string]string{}
	for i := range 4 {
		ids[e.send(queueURL, fmt.Sprint("m", i), "")] = fmt.Sprint("m", i)
	}
	c := e.consumer(func(o *Options) { o.Receivers = 1 })
	stop := start(t, func(ctx context.Context) error {
		return c.RunBatch(ctx, queueURL, func(ctx context.Context, ms []*Message) error {
			be := &BatchError{Failed: map[string]error{}}
			for _, m := range ms {
				if m.Body == "m2" {
					be.Failed[m.ID] = errors.New("m2 fails")
				}
			}
			if len(be.Failed) == 0 {
				return nil
			}
			return be
		})
	})
	waitFor(t, "the outcomes", func() bool { return e.count(EventAcked) == 3 && e.count(EventRetry) == 1 })
	stop()
	msgs := e.sqs.Messages(queueURL)
	if len(msgs) != 1 || aws.ToString(msgs[0].Body) != "m2" {
		t.Errorf("expect only m2 left, got %d", len(msgs))
	}
}

// boundedAPI records the payload bytes held: opened, and not yet released
// by the handler.
type boundedAPI struct {
	API
	held, peak atomic.Int64
}

func (b *boundedAPI) OpenPayload(ctx context.Context, m types.Message) (io.ReadCloser, int64, error) {
	rc, n, err := b.API.OpenPayload(ctx, m)
	if err == nil {
		h := b.held.Add(n)
		for p := b.peak.Load(); h > p && !b.peak.CompareAndSwap(p, h); p = b.peak.Load() {
		}
	}
	return rc, n, err
}

func TestPrefetchBoundedByBytes(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	const mib = 1 << 20
	for i := range 8 {
		e.send(queueURL, strings.Repeat(fmt.Sprint(i), mib), "")
	}
	e.send(queueURL, strings.Repeat("L", 5*mib), "") // over the bound: handled alone
	api := &boundedAPI{API: e.client}
	c, err := New(api, e.options(func(o *Options) {
		o.MaxInFlightBytes = 3 * mib
		o.Concurrency = 4
	})...)
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int32
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			if !m.Offloaded || int64(len(m.Body)) != m.Size {
				t.Errorf("expect an offloaded body of %d bytes, got %d", m.Size, len(m.Body))
			}
			time.Sleep(20 * time.Millisecond)
			api.held.Add(-m.Size)
			handled.Add(1)
			return nil
		})
	})
	waitFor(t, "9 acks", func() bool { return e.count(EventAcked) == 9 })
	stop()
	if p := api.peak.Load(); p > 5*mib {
		t.Errorf("expect at most the oversize message's 5 MiB held at once, got %d", p)
	}
	if handled.Load() != 9 {
		t.Errorf("expect 9 handled, got %d", handled.Load())
	}
	if e.s3.Len() != 0 {
		t.Errorf("expect every payload deleted after its ack, got %d objects", e.s3.Len())
	}
}

func TestMaxPayloadSizeLeavesMessage(t *testing.T) {
	e := newEnv(t)
	id := e.send(queueURL, strings.Repeat("x", 300<<10), "")
	c := e.consumer(func(o *Options) { o.MaxPayloadSize = 256 << 10 })
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			t.Error("expect the handler not called")
			return nil
		})
	})
	waitFor(t, "the unresolved event", func() bool { return e.count(EventUnresolved) == 1 })
	stop()
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) != 1 || e.errs[0].Code != sqsx.CodePayloadTooLarge || e.errs[0].MessageID != id {
		t.Errorf("expect one PayloadTooLarge error for %s, got %v", id, e.errs)
	}
	if e.sqs.Len(queueURL) != 1 {
		t.Error("expect the message left in the queue")
	}
}

func TestStreamHandler(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	body := strings.Repeat("s", 2<<20)
	e.send(queueURL, body, "")
	e.send(queueURL, "inline", "")
	var mu sync.Mutex
	got := map[string]int64{}
	c := e.consumer(func(o *Options) { o.MaxPayloadSize = 1 << 20 }) // does not apply to streams
	stop := start(t, func(ctx context.Context) error {
		return c.RunStream(ctx, queueURL, func(ctx context.Context, m *Message, r io.Reader) error {
			n, err := io.Copy(io.Discard, r)
			if m.Body != "" || n != m.Size {
				t.Errorf("expect an empty Body and %d bytes streamed, got %q and %d", m.Size, m.Body, n)
			}
			mu.Lock()
			got[m.ID] = n
			mu.Unlock()
			return err
		})
	})
	waitFor(t, "2 acks", func() bool { return e.count(EventAcked) == 2 })
	stop()
	var sizes []int64
	for _, n := range got {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	if !slices.Equal(sizes, []int64{6, int64(len(body))}) {
		t.Errorf("expect bodies of 6 and %d bytes, got %v", len(body), sizes)
	}
}

func TestMessageAttributes(t *testing.T) {
	e := newEnv(t)
	before := time.Now().Add(-time.Second)
	_, err := e.client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String(strings.Repeat("b", 300<<10)),
		MessageAttributes: map[string]types.MessageAttributeValue{"k": {DataType: aws.String("String"), StringValue: aws.String("v")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan *Message, 1)
	c := e.consumer()
	stop := start(t, func(ctx context.Context) error {
		return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
			select {
			case got <- m:
			default:
			}
			return nil
		})
	})
	m := <-got
	stop()
	if m.ReceiveCount != 1 || m.SentTime.Before(before) || !m.Offloaded || m.Size != 300<<10 {
		t.Errorf("expect receive count 1, a sent time, offloaded 300 KiB; got %d, %v, %v, %d", m.ReceiveCount, m.SentTime, m.Offloaded, m.Size)
	}
	if len(m.Attributes) != 1 || aws.ToString(m.Attributes["k"].StringValue) != "v" {
		t.Errorf("expect only attribute k, got %v", m.Attributes)
	}
}

func TestNonexistentQueueStopsRun(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	e.sqs.ReceiveMessageFn = func(*sqs.ReceiveMessageInput) (*sqs.ReceiveMessageOutput, error) {
		return nil, &types.QueueDoesNotExist{Message: aws.String("no queue")}
	}
	c := e.consumer()
	err := c.Run(context.Background(), queueURL, func(ctx context.Context, m *Message) error { return nil })
	var qe *types.QueueDoesNotExist
	if !errors.As(err, &qe) {
		t.Fatalf("expect QueueDoesNotExist, got %v", err)
	}
}

func TestStreamHandlerFinishesDuringShutdown(t *testing.T) {
	checkNoLeak(t)
	e := newEnv(t)
	body := strings.Repeat("s", 2<<20)
	e.send(queueURL, body, "")
	started := make(chan struct{})
	var read atomic.Int64
	c := e.consumer()
	stop := start(t, func(ctx context.Context) error {
		return c.RunStream(ctx, queueURL, func(ctx context.Context, m *Message, r io.Reader) error {
			close(started)
			time.Sleep(200 * time.Millisecond) // the shutdown starts meanwhile
			n, err := io.Copy(io.Discard, r)
			read.Store(n)
			return err
		})
	})
	<-started
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if read.Load() != int64(len(body)) || e.count(EventAcked) != 1 {
		t.Errorf("expect the stream read whole (%d bytes) and acknowledged, got %d bytes, %d acks", len(body), read.Load(), e.count(EventAcked))
	}
}

// TestSharedPayloadNotDeleted: the receive does not check payloads (no
// ranged GET: one GetObject per payload), and the read decides whether the
// acknowledgement deletes the payload: a payload shared by an SNS fan-out
// (payload.FanoutMetadataKey) stays, the others go with their messages.
func TestSharedPayloadNotDeleted(t *testing.T) {
	for name, stream := range map[string]bool{"Run": false, "RunStream": true} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			shared, err := sqsx.New(pollingSQS{e.sqs}, e.s3, func(o *sqsx.Options) {
				o.Bucket = "bucket"
				o.KeyPrefix = "shared/"
				o.AllowedKeyPrefixes = []string{""}
				o.PutObjectOptions = []func(*s3.PutObjectInput){func(in *s3.PutObjectInput) {
					in.Metadata = map[string]string{payload.FanoutMetadataKey: "true"}
				}}
			})
			if err != nil {
				t.Fatal(err)
			}
			big := strings.Repeat("b", 300<<10)
			for range 2 {
				e.send(queueURL, big, "")
				if _, err := shared.SendMessage(context.Background(), &sqs.SendMessageInput{
					QueueUrl: aws.String(queueURL), MessageBody: aws.String(big),
				}); err != nil {
					t.Fatal(err)
				}
			}
			e.s3.Log.Reset()
			c := e.consumer(func(o *Options) { o.Concurrency = 1 })
			var handled atomic.Int32
			stop := start(t, func(ctx context.Context) error {
				if stream {
					return c.RunStream(ctx, queueURL, func(ctx context.Context, m *Message, r io.Reader) error {
						handled.Add(1)
						_, err := io.Copy(io.Discard, r)
						return err
					})
				}
				return c.Run(ctx, queueURL, func(ctx context.Context, m *Message) error {
					if m.Body != big {
						t.Errorf("expect the payload, got %d bytes", len(m.Body))
					}
					handled.Add(1)
					return nil
				})
			})
			waitFor(t, "4 acks", func() bool { return e.count(EventAcked) == 4 })
			stop()
			if e.sqs.Len(queueURL) != 0 {
				t.Errorf("expect the queue empty, got %d", e.sqs.Len(queueURL))
			}
			var keys []string
			for _, k := range e.s3.Keys() {
				if !strings.HasPrefix(k, "bucket/shared/") {
					t.Errorf("expect only the shared payloads left, got %s", k)
				}
				keys = append(keys, k)
			}
			if len(keys) != 2 {
				t.Errorf("expect the 2 shared payloads kept, got %v", keys)
			}
			if n := e.s3.Log.Count("GetObject"); n != 4 {
				t.Errorf("expect one GetObject per payload (4), got %d", n)
			}
		})
	}
}

// TestWaitSlotsStopsWhenHandlersRunDry checks the receiver's wait for a
// fuller batch: it gathers free slots while received messages wait for a
// handler or no handler runs, and does not wait at all while handlers run
// with none queued to follow them (their slots would free one at a time and
// the handlers go idle meanwhile).
func TestWaitSlotsStopsWhenHandlersRunDry(t *testing.T) {
	cases := []struct {
		name            string
		running, queued int64
		want            int
	}{
		{"handlers run, messages queued", 2, 3, 5},
		{"no handler runs", 0, 0, 5},
		{"handlers run dry", 2, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{ctx: context.Background(), slots: semaphore.NewWeighted(20)}
			if !r.slots.TryAcquire(15) { // 5 free
				t.Fatal("setup")
			}
			r.running.Store(tc.running)
			r.queued.Store(tc.queued)
			if got := r.waitSlots(5); got != tc.want {
				t.Errorf("expect %d slots gathered, got %d", tc.want, got)
			}
			if held := 15 + tc.want; !r.slots.TryAcquire(int64(20 - held)) {
				t.Errorf("expect %d slots held in all", held)
			}
		})
	}
}

// TestQueuedAndRunningBalance checks that the counters the fill wait reads
// go back to zero once every message is handled, failed, or released in a
// FIFO group after a failure.
func TestQueuedAndRunningBalance(t *testing.T) {
	e := newEnv(t)
	for i := range 6 {
		e.send(fifoURL, fmt.Sprint(i), "g")
	}
	for i := range 6 {
		e.send(queueURL, fmt.Sprint(i), "")
	}
	var runs []*run
	var mu sync.Mutex
	c := e.consumer()
	for _, url := range []string{queueURL, fifoURL} {
		var once sync.Once
		base := e.count(EventStarted)
		stop := start(t, func(ctx context.Context) error {
			return c.Run(ctx, url, func(ctx context.Context, m *Message) error {
				once.Do(func() { mu.Lock(); runs = append(runs, m.d.r); mu.Unlock() })
				if m.Body == "2" {
					return errors.New("fails") // on the FIFO queue, releases the rest of the group
				}
				return nil
			})
		})
		waitFor(t, "handlers", func() bool { return e.count(EventStarted) >= base+3 })
		if url == fifoURL {
			waitFor(t, "the failure", func() bool { return e.count(EventRetry) >= 1 })
		}
		stop()
	}
	for _, r := range runs {
		if q, n := r.queued.Load(), r.running.Load(); q != 0 || n != 0 {
			t.Errorf("expect no message queued or running after Run, got %d queued, %d running", q, n)
		}
	}
}
