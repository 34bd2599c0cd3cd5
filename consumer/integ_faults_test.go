package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv/faulty"
	"github.com/sqsx/sqsx/payload"
)

// newFaultyInteg is newInteg with its client's S3 and SQS requests going
// through a fault proxy each, which injects only what the test asks for; the
// test's own checks (it.env) go direct.
func newFaultyInteg(t *testing.T) (it *integ, s3p, sqsp *faultproxy.Proxy) {
	t.Helper()
	it = newInteg(t)
	fe := faulty.Start(t, it.env, faulty.Options{})
	it.sqs = &countingSQS{SQSAPI: fe.SQSClient, calls: map[string]int{}}
	c, err := sqsx.New(it.sqs, fe.S3Client, func(o *sqsx.Options) { o.Bucket = it.bucket })
	if err != nil {
		t.Fatal(err)
	}
	it.client = c
	return it, fe.S3, fe.SQS
}

// recordHandled returns a handler that counts the calls per message id.
func recordHandled() (consumer.Handler, func() map[string]int) {
	var mu sync.Mutex
	calls := map[string]int{}
	h := func(_ context.Context, m *consumer.Message) error {
		mu.Lock()
		calls[m.ID]++
		mu.Unlock()
		return nil
	}
	return h, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(calls)
	}
}

// TestIntegFaultOnePayloadUnreadable: S3 answers 503 to every read of one
// payload of five. Its message is neither handled nor deleted, its payload
// stays, and the other four are handled and acknowledged meanwhile; once S3
// answers again it comes back and is handled once.
func TestIntegFaultOnePayloadUnreadable(t *testing.T) {
	it, s3p, _ := newFaultyInteg(t)
	queue := it.env.Queue(t, false, nil)
	bodies := map[string]string{}
	for i := range 5 {
		body := strings.Repeat(fmt.Sprint(i), 300<<10) // offloaded
		bodies[it.send(queue, body, "", i)] = body
	}
	keys := it.env.Keys(t, it.bucket)
	if len(keys) != 5 {
		t.Fatalf("expect 5 payloads, got %v", keys)
	}
	bad := keys[0]
	s3p.Inject(faultproxy.And(faultproxy.S3("GetObject"), func(r *http.Request) bool {
		return strings.HasSuffix(r.URL.Path, "/"+bad)
	}), faultproxy.ErrorBefore, 1000)

	h, handled := recordHandled()
	c := it.consumer(func(o *consumer.Options) { o.VisibilityTimeout = 2 * time.Second })
	stop := run(t, func(ctx context.Context) error { return c.Run(ctx, queue, h) })
	waitUntil(t, 30*time.Second, "the 4 readable messages acknowledged", func() bool {
		return len(it.ids(consumer.EventAcked)) == 4
	})
	if got := handled(); len(got) != 4 {
		t.Errorf("expect 4 messages handled while one payload cannot be read, got %v", got)
	}
	if left := it.env.Keys(t, it.bucket); !slices.Equal(left, []string{bad}) {
		t.Errorf("expect only the unreadable payload left, got %v", left)
	}
	it.mu.Lock()
	var unavailable int
	for _, e := range it.errs {
		if e.Op == consumer.OpPayload && e.Code == sqsx.CodePayloadUnavailable {
			unavailable++
		}
	}
	it.mu.Unlock()
	if unavailable == 0 {
		t.Errorf("expect the unreadable payload reported as %s", sqsx.CodePayloadUnavailable)
	}

	s3p.ClearPending()
	waitUntil(t, 30*time.Second, "the fifth message, once S3 answers", func() bool {
		return len(it.ids(consumer.EventAcked)) == 5
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got := handled()
	for id := range bodies {
		if got[id] != 1 {
			t.Errorf("expect message %s handled once, got %d (all: %v)", id, got[id], got)
		}
	}
	if left := it.visible(queue); len(left) != 0 {
		t.Errorf("expect an empty queue, got %d messages", len(left))
	}
	if left := it.env.Keys(t, it.bucket); len(left) != 0 {
		t.Errorf("expect every payload deleted after its acknowledgement, got %v", left)
	}
}

// TestIntegFaultAckAnswerLost: SQS deletes the messages of an
// acknowledgement batch but every answer is lost (a 503 after the request
// was forwarded). The deletion is ambiguous, so the payloads are kept and
// reported, not deleted; and as SQS did delete the messages, none is
// handled twice.
func TestIntegFaultAckAnswerLost(t *testing.T) {
	it, _, sqsp := newFaultyInteg(t)
	queue := it.env.Queue(t, false, nil)
	const n = 3
	for i := range n {
		it.send(queue, strings.Repeat(fmt.Sprint(i), 300<<10), "", i)
	}
	sqsp.Inject(faultproxy.SQS("DeleteMessageBatch"), faultproxy.ErrorAfter, 3) // every attempt of the SDK's retryer

	h, handled := recordHandled()
	c := it.consumer(func(o *consumer.Options) {
		o.VisibilityTimeout = 2 * time.Second
		o.AckInterval = time.Hour // one batch of the three, sent at the shutdown at the latest
		o.BatchSize = n
	})
	stop := run(t, func(ctx context.Context) error { return c.Run(ctx, queue, h) })
	waitUntil(t, 30*time.Second, "3 messages handled", func() bool { return len(handled()) == n })
	if err := stop(); err != nil { // flushes the acknowledgements
		t.Fatal(err)
	}
	it.mu.Lock()
	kept := map[payload.Pointer]bool{} // each message's error names the batch's payloads
	for _, e := range it.errs {
		if e.Op == consumer.OpAck {
			var ke *payload.KeptError
			if !errors.As(e.Err, &ke) || !ke.Ambiguous {
				t.Errorf("expect an ambiguous *payload.KeptError from the acknowledgement, got %v", e.Err)
			}
			for _, p := range payload.KeptPointers(e.Err) {
				kept[p] = true
			}
		}
	}
	it.mu.Unlock()
	if len(kept) != n {
		t.Errorf("expect the %d payloads reported kept, got %v", n, kept)
	}
	if keys := it.env.Keys(t, it.bucket); len(keys) != n {
		t.Errorf("expect the %d payloads kept in S3, got %v", n, keys)
	}
	// The deletes landed: after the visibility timeout nothing comes back.
	time.Sleep(3 * time.Second)
	if left := it.visible(queue); len(left) != 0 {
		t.Errorf("expect the messages deleted by SQS, got %d back", len(left))
	}
	for id, calls := range handled() {
		if calls != 1 {
			t.Errorf("expect message %s handled once, got %d", id, calls)
		}
	}
}
