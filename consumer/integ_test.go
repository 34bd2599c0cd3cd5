package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/internal/testenv"
)

// These tests run the Consumer against the local S3 and SQS servers (see
// scripts/servers.sh). Without them they skip, and under CI=true they fail.

// countingSQS counts the SQS calls the sqsx Client makes.
type countingSQS struct {
	sqsx.SQSAPI
	mu    sync.Mutex
	calls map[string]int
}

func (c *countingSQS) add(op string) {
	c.mu.Lock()
	c.calls[op]++
	c.mu.Unlock()
}

func (c *countingSQS) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func (c *countingSQS) DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error) {
	c.add("DeleteMessage")
	return c.SQSAPI.DeleteMessage(ctx, in, optFns...)
}

func (c *countingSQS) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	c.add("DeleteMessageBatch")
	return c.SQSAPI.DeleteMessageBatch(ctx, in, optFns...)
}

func (c *countingSQS) ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, optFns ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	c.add("ChangeMessageVisibilityBatch")
	return c.SQSAPI.ChangeMessageVisibilityBatch(ctx, in, optFns...)
}

// integ is one test's servers, bucket, client and the Consumer's events.
type integ struct {
	t      *testing.T
	env    *testenv.Clients
	bucket string
	sqs    *countingSQS
	client *sqsx.Client

	mu     sync.Mutex
	events map[consumer.EventType][]string // message ids
	errs   []*consumer.Error
}

func newInteg(t *testing.T) *integ {
	t.Helper()
	env := testenv.Require(t)
	it := &integ{t: t, env: env, bucket: env.Bucket(t), sqs: &countingSQS{SQSAPI: env.SQS, calls: map[string]int{}}, events: map[consumer.EventType][]string{}}
	c, err := sqsx.New(it.sqs, env.S3, func(o *sqsx.Options) { o.Bucket = it.bucket })
	if err != nil {
		t.Fatal(err)
	}
	it.client = c
	return it
}

func (it *integ) consumer(optFns ...func(*consumer.Options)) *consumer.Consumer {
	it.t.Helper()
	return it.consumerOn(it.client, optFns...)
}

// consumerOn returns a Consumer of api that records its events in it.
func (it *integ) consumerOn(api consumer.API, optFns ...func(*consumer.Options)) *consumer.Consumer {
	it.t.Helper()
	fns := append([]func(*consumer.Options){func(o *consumer.Options) {
		o.WaitTime = time.Second
		o.Hooks.OnEvent = func(e consumer.Event) {
			it.mu.Lock()
			it.events[e.Type] = append(it.events[e.Type], e.MessageID)
			it.mu.Unlock()
		}
		o.Hooks.OnError = func(e *consumer.Error) {
			it.mu.Lock()
			it.errs = append(it.errs, e)
			it.mu.Unlock()
		}
	}}, optFns...)
	c, err := consumer.New(api, fns...)
	if err != nil {
		it.t.Fatal(err)
	}
	return c
}

func (it *integ) ids(t consumer.EventType) []string {
	it.mu.Lock()
	defer it.mu.Unlock()
	return slices.Clone(it.events[t])
}

func (it *integ) send(queue, body, group string, i int) string {
	it.t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(body)}
	if group != "" {
		in.MessageGroupId = aws.String(group)
		in.MessageDeduplicationId = aws.String(fmt.Sprint(group, "-", i))
	}
	out, err := it.client.SendMessage(context.Background(), in)
	if err != nil {
		it.t.Fatalf("SendMessage: %v", err)
	}
	return aws.ToString(out.MessageId)
}

// run starts c on queue and returns a function that stops it and returns
// Run's error.
func run(t *testing.T, fn func(context.Context) error) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { stop() })
	return stop
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// visible receives what is visible in queue now, with a plain SQS client,
// making it invisible for 30 s.
func (it *integ) visible(queue string) []types.Message {
	var got []types.Message
	for {
		out, err := it.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(queue), MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 30,
		})
		if err != nil {
			it.t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			return got
		}
		got = append(got, out.Messages...)
	}
}

func TestIntegAcksAreBatched(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, false, nil)
	const n = 30
	for i := range n {
		body := fmt.Sprint("small ", i)
		if i%3 == 0 {
			body = strings.Repeat(fmt.Sprint(i%10), 300<<10) // offloaded
		}
		it.send(queue, body, "", i)
	}
	var handled atomic.Int32
	// Flushes by count only: an interval flush would send a partial batch
	// whenever a loaded machine is slow to hand out the next messages.
	c := it.consumer(func(o *consumer.Options) { o.AckInterval = time.Hour })
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error { handled.Add(1); return nil })
	})
	waitUntil(t, 30*time.Second, "30 acks", func() bool { return len(it.ids(consumer.EventAcked)) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	del, one := it.sqs.count("DeleteMessageBatch"), it.sqs.count("DeleteMessage")
	t.Logf("%d messages acknowledged with %d DeleteMessageBatch calls", n, del)
	if del != n/consumer.MaxBatchSize || one != 0 {
		t.Errorf("expect %d DeleteMessageBatch calls and no DeleteMessage, got %d and %d", n/consumer.MaxBatchSize, del, one)
	}
	if h := handled.Load(); h != n {
		t.Errorf("expect %d handled, got %d", n, h)
	}
	if left := it.visible(queue); len(left) != 0 {
		t.Errorf("expect an empty queue, got %d messages", len(left))
	}
	if keys := it.env.Keys(t, it.bucket); len(keys) != 0 {
		t.Errorf("expect every payload deleted after its ack, got %d objects", len(keys))
	}
}

func TestIntegHeartbeatKeepsLongHandlerInvisible(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, false, map[string]string{"VisibilityTimeout": "2"})
	id := it.send(queue, strings.Repeat("h", 300<<10), "", 0)
	var calls atomic.Int32
	done := make(chan struct{})
	c := it.consumer(func(o *consumer.Options) { o.VisibilityTimeout = 2 * time.Second })
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			calls.Add(1)
			select {
			case <-time.After(6 * time.Second): // 3× the visibility timeout
			case <-ctx.Done():
			}
			close(done)
			return ctx.Err()
		})
	})
	waitUntil(t, 20*time.Second, "the handler", func() bool { return calls.Load() == 1 })
	// Another consumer polls all along: the message must stay invisible.
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
			out, err := it.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(queue), WaitTimeSeconds: 0})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) > 0 {
				t.Fatalf("message %s visible while its handler runs", aws.ToString(out.Messages[0].MessageId))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	waitUntil(t, 10*time.Second, "the ack", func() bool { return len(it.ids(consumer.EventAcked)) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 {
		t.Errorf("expect one handler call, got %d", calls.Load())
	}
	ext := it.ids(consumer.EventExtended)
	if len(ext) < 3 || ext[0] != id {
		t.Errorf("expect at least 3 extensions of %s, got %v", id, ext)
	}
	if left := it.visible(queue); len(left) != 0 {
		t.Errorf("expect an empty queue, got %d", len(left))
	}
}

func TestIntegBackoffThenDeadLetterQueue(t *testing.T) {
	it := newInteg(t)
	dlq := it.env.Queue(t, false, nil)
	attrs, err := it.env.SQS.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(dlq), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		t.Fatal(err)
	}
	redrive := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"3"}`, attrs.Attributes["QueueArn"])
	queue := it.env.Queue(t, false, map[string]string{"RedrivePolicy": redrive})
	id := it.send(queue, strings.Repeat("p", 300<<10), "", 0)
	good := it.send(queue, "good", "", 1)

	var mu sync.Mutex
	var counts []int
	var times []time.Time
	c := it.consumer(func(o *consumer.Options) {
		o.Backoff = func(n int) time.Duration { return time.Duration(n) * time.Second }
	})
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			if m.ID == good {
				return nil
			}
			mu.Lock()
			counts = append(counts, m.ReceiveCount)
			times = append(times, time.Now())
			mu.Unlock()
			return fmt.Errorf("attempt %d fails", m.ReceiveCount)
		})
	})
	var moved []types.Message
	waitUntil(t, 40*time.Second, "the message in the DLQ", func() bool {
		out, err := it.env.SQS.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlq), WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			t.Fatal(err)
		}
		moved = append(moved, out.Messages...)
		return len(moved) > 0
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(counts, []int{1, 2, 3}) {
		t.Fatalf("expect 3 attempts with receive counts 1, 2, 3, got %v", counts)
	}
	// The backoff is 1 s after the first attempt and 2 s after the second.
	for i, want := range []time.Duration{time.Second, 2 * time.Second} {
		if gap := times[i+1].Sub(times[i]); gap < want-200*time.Millisecond || gap > want+4*time.Second {
			t.Errorf("expect about %v between attempts %d and %d, got %v", want, i+1, i+2, gap)
		}
	}
	if aws.ToString(moved[0].MessageId) != id {
		t.Errorf("expect %s in the DLQ, got %s", id, aws.ToString(moved[0].MessageId))
	}
	if !slices.Contains(it.ids(consumer.EventAcked), good) {
		t.Error("expect the good message acknowledged")
	}
	// The payload stays with the message in the DLQ.
	if _, ok, _ := sqsx.PayloadPointer(moved[0]); !ok {
		t.Error("expect the DLQ message to point to its payload")
	}
	if keys := it.env.Keys(t, it.bucket); len(keys) != 1 {
		t.Errorf("expect the failed message's payload kept, got %d objects", len(keys))
	}
}

func TestIntegFIFOGroupsInOrderInParallel(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, true, nil)
	const groups, per = 4, 5
	for i := range per {
		for g := range groups {
			it.send(queue, fmt.Sprintf("g%d-%d", g, i), fmt.Sprint("g", g), i)
		}
	}
	var mu sync.Mutex
	seq := map[string][]string{}
	running, peak := 0, 0
	c := it.consumer(func(o *consumer.Options) {
		o.Backoff = func(int) time.Duration { return time.Second }
		if it.env.Quirks.FIFOReceivesRace {
			// Two receives at once may split a group (docs/conformance.md).
			o.Receivers = 1
		}
	})
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			mu.Lock()
			seq[m.GroupID] = append(seq[m.GroupID], m.Body)
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			if m.Body == "g1-2" && m.ReceiveCount == 1 {
				return errors.New("g1-2 fails once")
			}
			return nil
		})
	})
	waitUntil(t, 60*time.Second, "every message acknowledged", func() bool {
		return len(it.ids(consumer.EventAcked)) == groups*per
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	for g := range groups {
		var want []string
		for i := range per {
			want = append(want, fmt.Sprintf("g%d-%d", g, i))
			if g == 1 && i == 2 {
				// The failed message comes back first; nothing after it
				// in its group is handled before.
				want = append(want, "g1-2")
			}
		}
		if got := seq[fmt.Sprint("g", g)]; !slices.Equal(got, want) {
			t.Errorf("group g%d: expect %v, got %v", g, want, got)
		}
	}
	if peak < 2 {
		t.Errorf("expect groups handled in parallel, at most %d handler ran at once", peak)
	}
	t.Logf("at most %d groups handled at once; %d released", peak, len(it.ids(consumer.EventReleased)))
}

// TestIntegFIFOFailureReleasesRestOfGroup sends one group of five and
// fails its second message once. Messages of the group received with it
// are not handled after the failure: they are released (visible at once)
// and come back behind it, so the group is handled in order. SQS may
// return several messages of a group in one receive (moto does); fauxqs
// returns one per group per receive, so there nothing is received early
// and nothing needs releasing.
func TestIntegFIFOFailureReleasesRestOfGroup(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, true, nil)
	const per = 5
	ids := map[string]string{}
	for i := range per {
		body := fmt.Sprint("m", i)
		ids[it.send(queue, body, "g", i)] = body
	}
	var mu sync.Mutex
	var seq []string
	c := it.consumer(func(o *consumer.Options) {
		o.Receivers = 1
		o.Backoff = func(int) time.Duration { return time.Second }
	})
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			mu.Lock()
			seq = append(seq, m.Body)
			mu.Unlock()
			if m.Body == "m1" && m.ReceiveCount == 1 {
				return errors.New("m1 fails once")
			}
			return nil
		})
	})
	waitUntil(t, 60*time.Second, "every message acknowledged", func() bool {
		return len(it.ids(consumer.EventAcked)) == per
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"m0", "m1", "m1", "m2", "m3", "m4"}; !slices.Equal(seq, want) {
		t.Errorf("expect %v, got %v", want, seq)
	}
	// Every message received while m1 was held (before its failure) and
	// not yet handled must have been released, not handled.
	var early []string
	received := it.ids(consumer.EventReceived)
	for i, id := range received {
		if ids[id] == "m1" {
			for _, later := range received[i+1:] {
				if ids[later] == "m1" {
					break // m1 again: received after the failure
				}
				early = append(early, ids[later])
			}
			break
		}
	}
	var released []string
	for _, id := range it.ids(consumer.EventReleased) {
		released = append(released, ids[id])
	}
	slices.Sort(early)
	slices.Sort(released)
	if !slices.Equal(early, released) {
		t.Errorf("expect released exactly the messages received behind m1 before it failed, %v; got %v", early, released)
	}
	if it.env.Backend == testenv.BackendMoto && len(released) == 0 {
		// moto returns all of a group's visible messages in one receive.
		t.Error("expect the messages received with m1 released on moto, got none")
	}
	t.Logf("received with or behind m1 before its failure and released: %v", released)
}

func TestIntegShutdownLosesNothing(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, false, nil)
	const n = 30
	for i := range n {
		it.send(queue, fmt.Sprint("m", i), "", i)
	}
	var mu sync.Mutex
	handled := map[string]int{}
	c := it.consumer(func(o *consumer.Options) {
		o.Receivers = 1
		o.Concurrency = 2
		o.Prefetch = 6
		o.VisibilityTimeout = 10 * time.Second
		o.AckInterval = time.Hour // only the shutdown flush sends them
	})
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			time.Sleep(400 * time.Millisecond)
			mu.Lock()
			handled[m.ID]++
			mu.Unlock()
			return nil
		})
	})
	waitUntil(t, 20*time.Second, "handlers running with a full prefetch", func() bool {
		return len(it.ids(consumer.EventStarted)) >= 3 && len(it.ids(consumer.EventReceived)) >= 8
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// Right after Run returns (well within the 10 s visibility timeout),
	// everything not acknowledged is visible.
	left := it.visible(queue)
	acked := it.ids(consumer.EventAcked)
	mu.Lock()
	defer mu.Unlock()
	for id, k := range handled {
		if k != 1 {
			t.Errorf("expect %s handled once, got %d", id, k)
		}
		if !slices.Contains(acked, id) {
			t.Errorf("expect handled message %s acknowledged at shutdown", id)
		}
	}
	seen := map[string]bool{}
	for _, m := range left {
		id := aws.ToString(m.MessageId)
		if handled[id] > 0 {
			t.Errorf("acknowledged message %s is still in the queue", id)
		}
		seen[id] = true
	}
	if len(acked)+len(seen) != n {
		t.Errorf("expect %d acknowledged + visible = %d, got %d + %d", n, n, len(acked), len(seen))
	}
	released := it.ids(consumer.EventReleased)
	if len(released) == 0 {
		t.Error("expect prefetched messages released at shutdown")
	}
	t.Logf("%d handled and acknowledged, %d released, %d visible after shutdown", len(acked), len(released), len(seen))
}

func TestIntegPrefetchBoundedByBytes(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, false, nil)
	const mib = 1 << 20
	const n, size, bound = 20, 8 * mib, 32 * mib
	body := strings.Repeat("x", size)
	for i := range n {
		it.send(queue, body, "", i)
	}
	body = ""

	// Keep garbage small, so that the heap tracks what is held.
	defer debug.SetGCPercent(debug.SetGCPercent(20))
	runtime.GC()
	var peakAll atomic.Int64
	// The live heap as of the last GC (frequent, with GOGC=20), and the
	// heap with its garbage.
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(sample)
	base, baseAll := int64(sample[0].Value.Uint64()), int64(sample[1].Value.Uint64())
	heap := func() int64 {
		metrics.Read(sample)
		if all := int64(sample[1].Value.Uint64()) - baseAll; all > peakAll.Load() {
			peakAll.Store(all)
		}
		return int64(sample[0].Value.Uint64())
	}
	var peak atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(2 * time.Millisecond):
				if h := heap() - base; h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	}()

	var handled atomic.Int32
	hapi := &heldAPI{API: it.client}
	c := it.consumerOn(hapi, func(o *consumer.Options) {
		o.MaxInFlightBytes = bound
		o.Concurrency = 4
		o.Prefetch = 10 // a count bound alone would let 14 payloads (112 MiB) in
	})
	start := time.Now()
	stop := run(t, func(ctx context.Context) error {
		return c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			if int64(len(m.Body)) != size {
				t.Errorf("expect %d bytes, got %d", size, len(m.Body))
			}
			time.Sleep(50 * time.Millisecond)
			hapi.held.Add(-m.Size)
			handled.Add(1)
			return nil
		})
	})
	waitUntil(t, 120*time.Second, "every message acknowledged", func() bool { return len(it.ids(consumer.EventAcked)) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	close(stopSampling)
	<-sampled
	t.Logf("%d × 8 MiB in %v; payload bytes held at most %d MiB; peak live heap above the start %d MiB, with garbage %d MiB (bound %d MiB)",
		n, time.Since(start).Round(time.Millisecond), hapi.peak.Load()/mib, peak.Load()/mib, peakAll.Load()/mib, bound/mib)
	if p := hapi.peak.Load(); p > bound {
		t.Errorf("expect at most %d MiB of payloads read and not yet handled, got %d MiB", bound/mib, p/mib)
	}
	// The bodies held stay within the bound; the rest is read buffers,
	// SDK state and garbage not yet collected.
	if p := peak.Load(); p > bound+24*mib {
		t.Errorf("expect the live heap to grow by at most the bound + 24 MiB, got %d MiB", p/mib)
	}
	if handled.Load() != n {
		t.Errorf("expect %d handled, got %d", n, handled.Load())
	}
}

func TestIntegStreamHandler(t *testing.T) {
	it := newInteg(t)
	queue := it.env.Queue(t, false, nil)
	const size = 20 << 20
	if _, err := it.client.SendMessageStream(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(queue)},
		io.LimitReader(zeros{}, size)); err != nil {
		t.Fatal(err)
	}
	got := make(chan int64, 1)
	c := it.consumer(func(o *consumer.Options) {
		o.MaxInFlightBytes = 1 << 20 // streams hold no payload
		o.MaxPayloadSize = 1 << 20
	})
	stop := run(t, func(ctx context.Context) error {
		return c.RunStream(ctx, queue, func(ctx context.Context, m *consumer.Message, body io.Reader) error {
			n, err := io.Copy(io.Discard, body)
			got <- n
			return err
		})
	})
	if n := <-got; n != size {
		t.Errorf("expect %d bytes streamed, got %d", size, n)
	}
	waitUntil(t, 10*time.Second, "the ack", func() bool { return len(it.ids(consumer.EventAcked)) == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if keys := it.env.Keys(t, it.bucket); len(keys) != 0 {
		t.Errorf("expect the payload deleted after the ack, got %d objects", len(keys))
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// heldAPI counts the payload bytes opened and not yet released by a
// handler (which subtracts its message's size).
type heldAPI struct {
	consumer.API
	held, peak atomic.Int64
}

func (b *heldAPI) OpenPayload(ctx context.Context, m types.Message) (io.ReadCloser, int64, error) {
	rc, n, err := b.API.OpenPayload(ctx, m)
	if err == nil {
		h := b.held.Add(n)
		for p := b.peak.Load(); h > p && !b.peak.CompareAndSwap(p, h); p = b.peak.Load() {
		}
	}
	return rc, n, err
}
