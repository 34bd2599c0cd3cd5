package consumer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/internal/testenv/faulty"
	"github.com/sqsx/sqsx/payload"
)

// The consumer soak's shape. SQSX_SOAK_SEED overrides the seed (time-based
// by default).
const (
	csoakMessages = 400
	// Every csoakOffloadEvery-th message is offloaded (260-600 KiB), the
	// rest are inline (100 B to 8 KiB).
	csoakOffloadEvery = 4
	// The handler fails the first call of every csoakFailEvery-th message
	// (numbers 4, 14, 24, ...: inline and offloaded ones), so that the
	// backoff path runs under the faults too.
	csoakFailEvery = 10
	// The handler of every csoakSlowEvery-th message (numbers 7, 32, 57,
	// ...) takes 1.5 visibility timeouts, so that the heartbeat must keep
	// it invisible through the faults; the others take up to 20 ms.
	csoakSlowEvery = 25
	// csoakFaultRate is the share of the Consumer's requests, to S3 and to
	// SQS, that get a fault during the fault phase.
	csoakFaultRate = 0.15
	// csoakVisibility is the queue's and the Consumer's visibility timeout:
	// short, so that messages whose receive answer was lost come back soon.
	csoakVisibility = 4 * time.Second
	// csoakSlowDelay is how long SlowAfter holds an answer: half the
	// visibility timeout, so that the heartbeat must keep up.
	csoakSlowDelay = csoakVisibility / 2
	// The fault phase lasts until 80% of the messages were handled, or at
	// most csoakFaultPhase; the drain that follows, with the faults off,
	// must empty the queue within csoakDrain.
	csoakFaultPhase = 30 * time.Second
	csoakDrain      = 90 * time.Second
	// csoakSettle is how long after the faults go off a failure may still
	// be theirs (a request already held or in flight).
	csoakSettle = csoakSlowDelay + 3*time.Second
	csoakAttr   = "soak-id"
)

// TestIntegSoak runs a Consumer, with its defaults except for short timeouts,
// through fault-injecting proxies in front of S3 and SQS: every kind of
// fault the proxies know, on every request the Consumer makes (receives,
// payload reads, heartbeats, acknowledgements, payload deletes, backoffs).
// The queue is filled beforehand, without faults. Then the faults go off and
// the queue must drain. It checks the promises a production consumer makes:
//
//   - lost: every message is handled successfully;
//   - corrupted: every body a handler gets is the one sent, with its
//     attributes (a message id a fault changed is logged: SQS gives no
//     digest of it);
//   - stalled: the queue is empty within csoakDrain of the faults going off,
//     and once they are off no receive fails and every payload resolves;
//   - dangling: a message whose payload is missing is a copy of one already
//     acknowledged (its payload was deleted with it);
//   - orphans: every object left in the bucket is one the Consumer reported
//     through Hooks.OnError (a *payload.KeptError, or a failed payload
//     delete).
//
// Duplicates are allowed and counted: SQS is at-least-once, and a heartbeat
// or an acknowledgement lost to a fault lets a message come back.
func TestIntegSoak(t *testing.T) {
	env := testenv.Require(t)
	seed := testenv.EnvUint(t, "SQSX_SOAK_SEED", uint64(time.Now().UnixNano()))
	t.Logf("consumer soak: seed %d (rerun with SQSX_SOAK_SEED=%d), %d messages", seed, seed, csoakMessages)

	bucket := env.Bucket(t)
	queue := env.Queue(t, false, map[string]string{"VisibilityTimeout": strconv.Itoa(int(csoakVisibility / time.Second))})
	s := &csoak{
		sqsIDs: map[string]int{}, calls: map[int]int{}, succeeded: map[int]int{},
		idNum: map[string]int{}, acked: map[int]bool{}, reported: map[payload.Pointer]bool{}, errors: map[string]int{},
	}
	s.fill(t, env, bucket, queue, seed)

	fe := faulty.Start(t, env, faulty.Options{
		Rate: csoakFaultRate,
		Modes: []faultproxy.Mode{faultproxy.ErrorBefore, faultproxy.ResetBefore, faultproxy.ErrorAfter,
			faultproxy.ResetAfter, faultproxy.SlowAfter, faultproxy.Truncate, faultproxy.BitFlip},
		Seed:      seed,
		SlowDelay: csoakSlowDelay,
	})
	client, err := sqsx.New(fe.SQSClient, fe.S3Client, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.VisibilityTimeout = csoakVisibility
		o.WaitTime = time.Second
		o.AckInterval = 100 * time.Millisecond
		o.Backoff = func(int) time.Duration { return time.Second }
		o.Hooks.OnEvent = s.event
		o.Hooks.OnError = s.error
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, queue, s.handle) }()

	// Fault phase.
	for time.Since(start) < csoakFaultPhase && s.handled() < csoakMessages*8/10 {
		time.Sleep(100 * time.Millisecond)
	}
	handledInFaults := s.handled()
	fe.Disable()
	s.mu.Lock()
	s.faultsOff = time.Now()
	s.mu.Unlock()
	faultTime := time.Since(start)

	// Drain: every message handled and the queue empty.
	for deadline := time.Now().Add(csoakDrain); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		if s.handled() == csoakMessages && env.MessageCount(ctx, queue) == 0 {
			break
		}
	}
	drainTime := time.Since(start) - faultTime
	cancel()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of its context ending")
	}
	left := env.MessageCount(context.Background(), queue)
	keys := env.Keys(t, bucket)

	t.Logf("S3 %v", fe.S3.Stats())
	t.Logf("SQS %v", fe.SQS.Stats())
	s.check(t, bucket, keys, left, runErr)
	t.Logf("consumer soak: %d of %d handled during %v of faults, the rest in %v of drain",
		handledInFaults, csoakMessages, faultTime.Round(100*time.Millisecond), drainTime.Round(100*time.Millisecond))
}

// csoak is the soak's record of what the Consumer did.
type csoak struct {
	offloaded int
	sqsIDs    map[string]int // SQS message id -> message number

	mu        sync.Mutex
	faultsOff time.Time // zero during the fault phase
	calls     map[int]int
	succeeded map[int]int
	corrupted []string
	idNum     map[string]int // message id as delivered -> message number
	acked     map[int]bool   // message numbers acknowledged
	notFound  []string       // SQS message ids whose payload was missing
	reported  map[payload.Pointer]bool
	errors    map[string]int // by Op and Code
	stalled   []string       // failures with the faults off
	idChanged []string       // messages whose id a fault changed
}

// csoakBody returns message i's body: a header with its number and the
// SHA-256 of the rest, then size letters.
func csoakBody(seed uint64, i, size int) string {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), byte(seed >> 16), byte(seed >> 24), byte(i), byte(i >> 8)}))
	content := make([]byte, size)
	for j := range content {
		content[j] = 'a' + byte(r.IntN(26))
	}
	sum := sha256.Sum256(content)
	return fmt.Sprintf("%d %s\n%s", i, hex.EncodeToString(sum[:]), content)
}

// csoakVerify returns the number in body's header, and whether the rest
// matches the header's SHA-256.
func csoakVerify(body string) (int, bool) {
	header, content, ok := strings.Cut(body, "\n")
	if !ok {
		return -1, false
	}
	num, hash, ok := strings.Cut(header, " ")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return -1, false
	}
	sum := sha256.Sum256([]byte(content))
	return i, hex.EncodeToString(sum[:]) == hash
}

// fill sends the messages straight to the servers, in batches of 10.
func (s *csoak) fill(t *testing.T, env *testenv.Clients, bucket, queue string, seed uint64) {
	t.Helper()
	sender, err := sqsx.New(env.SQS, env.S3, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(seed, 0))
	for first := 0; first < csoakMessages; first += 10 {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue)}
		for i := first; i < min(first+10, csoakMessages); i++ {
			size := 100 + r.IntN(8<<10)
			if i%csoakOffloadEvery == 0 {
				size = 260<<10 + r.IntN(340<<10)
				s.offloaded++
			}
			in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
				Id:          aws.String(strconv.Itoa(i)),
				MessageBody: aws.String(csoakBody(seed, i, size)),
				MessageAttributes: map[string]types.MessageAttributeValue{
					csoakAttr: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(i))},
				},
			})
		}
		out, err := sender.SendMessageBatch(context.Background(), in)
		if err != nil || len(out.Failed) > 0 {
			t.Fatalf("filling the queue: %v %v", err, out)
		}
		for _, e := range out.Successful {
			i, _ := strconv.Atoi(aws.ToString(e.Id))
			s.sqsIDs[aws.ToString(e.MessageId)] = i
		}
	}
}

// handle is the handler: it checks the body and its number, takes its time,
// fails the first call of every csoakFailEvery-th message, and records the
// rest.
func (s *csoak) handle(ctx context.Context, m *consumer.Message) error {
	i, ok := csoakVerify(m.Body)
	attr := ""
	if a, found := m.Attributes[csoakAttr]; found {
		attr = aws.ToString(a.StringValue)
	}
	if !ok || i < 0 || i >= csoakMessages || attr != strconv.Itoa(i) {
		s.mu.Lock()
		s.corrupted = append(s.corrupted, fmt.Sprintf("message %s: body number %d (hash ok %v), attribute %q, %d bytes",
			m.ID, i, ok, attr, len(m.Body)))
		s.mu.Unlock()
		return errors.New("corrupted body")
	}
	s.mu.Lock()
	if want, known := s.sqsIDs[m.ID]; !known || want != i {
		// A BitFlip in the ReceiveMessage answer hit the message id. SQS
		// gives digests of the body and the attributes, which the SDK and
		// sqsx check, and of nothing else: no client can tell.
		s.idChanged = append(s.idChanged, fmt.Sprintf("message %d arrived as %s", i, m.ID))
	}
	s.idNum[m.ID] = i
	s.calls[i]++
	first := s.calls[i] == 1
	s.mu.Unlock()

	work := time.Duration(i*7%20) * time.Millisecond
	if i%csoakSlowEvery == 7 {
		work = csoakVisibility * 3 / 2
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(work):
	}
	if i%csoakFailEvery == 4 && first {
		return errors.New("the first try of this message fails")
	}
	s.mu.Lock()
	s.succeeded[i]++
	s.mu.Unlock()
	return nil
}

// handled returns how many messages were handled successfully.
func (s *csoak) handled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.succeeded)
}

// settled reports whether the faults have been off long enough that no
// request still in flight carries one. Call with s.mu held.
func (s *csoak) settledLocked() bool {
	return !s.faultsOff.IsZero() && time.Since(s.faultsOff) > csoakSettle
}

func (s *csoak) event(e consumer.Event) {
	if e.Type != consumer.EventAcked {
		return
	}
	s.mu.Lock()
	if i, ok := s.idNum[e.MessageID]; ok {
		s.acked[i] = true
	}
	s.mu.Unlock()
}

func (s *csoak) error(e *consumer.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errors[strings.TrimSuffix(e.Op+" "+e.Code, " ")]++
	for _, p := range testenv.LeftPointers(e.Err) {
		s.reported[p] = true
	}
	switch {
	case e.Op == consumer.OpHandler:
		return // the handler's own failures, above
	case e.Op == consumer.OpPayload && e.Code == sqsx.CodePayloadNotFound:
		s.notFound = append(s.notFound, e.MessageID)
		return // checked at the end: a copy of a message acknowledged
	case e.Op == consumer.OpPayload:
		switch e.Code {
		case sqsx.CodePayloadUnavailable, sqsx.CodePayloadChecksumMismatch, sqsx.CodePayloadAccessDenied,
			// A BitFlip in a ReceiveMessage answer that hit an attribute or
			// the key of a member: the SDK checks only the MD5 of a body
			// present, sqsx the rest.
			sqsx.CodeAttributesChecksumMismatch, sqsx.CodeMessageIncomplete, sqsx.CodeBodyChecksumMismatch:
		default:
			s.stalled = append(s.stalled, fmt.Sprintf("message %s unresolved with %s, which no fault explains: %v", e.MessageID, e.Code, e.Err))
			return
		}
	}
	// A receive or a payload read that fails with the faults off holds
	// messages back. An acknowledgement or a visibility change may still
	// fail then, and rightly: its receipt handle can be one a fault made
	// stale (the message came back meanwhile), and the message is then
	// handled again.
	if (e.Op == consumer.OpReceive || e.Op == consumer.OpPayload) && s.settledLocked() {
		s.stalled = append(s.stalled, fmt.Sprintf("%s failed with the faults off: message %q: %v", e.Op, e.MessageID, e.Err))
	}
}

// check prints the counts and fails t for every broken promise.
func (s *csoak) check(t *testing.T, bucket string, keys []string, left int, runErr error) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var lost []string
	duplicates := 0
	for i := range csoakMessages {
		switch n := s.succeeded[i]; {
		case n == 0:
			lost = append(lost, fmt.Sprintf("message %d (%d handler calls)", i, s.calls[i]))
		case n > 1:
			duplicates += n - 1
		}
	}
	var dangling []string
	unattributed := 0
	for _, id := range s.notFound {
		i, known := s.sqsIDs[id]
		if !known {
			unattributed++ // its id changed in transit, see idChanged
			continue
		}
		if !s.acked[i] {
			dangling = append(dangling, fmt.Sprintf("message %s (number %d) points to a missing payload, and no copy of it was acknowledged", id, i))
		}
	}
	if left != 0 {
		dangling = append(dangling, fmt.Sprintf("%d messages left in the queue (-1: could not count)", left))
	}
	var orphans []string
	for _, k := range keys {
		if !s.reported[payload.Pointer{Bucket: bucket, Key: k}] {
			orphans = append(orphans, k)
		}
	}
	errs := make([]string, 0, len(s.errors))
	for _, k := range slices.Sorted(maps.Keys(s.errors)) {
		errs = append(errs, fmt.Sprintf("%s %d", k, s.errors[k]))
	}
	t.Logf("consumer soak: errors reported: %s", strings.Join(errs, ", "))
	if len(s.idChanged) > 0 || unattributed > 0 {
		t.Logf("consumer soak: %d deliveries with a message id changed by a fault (%s), %d missing payloads of such ids",
			len(s.idChanged), strings.Join(s.idChanged, ", "), unattributed)
	}
	t.Logf("consumer soak: %d messages (%d offloaded): lost %d, corrupted %d, stalled %d, dangling %d, duplicates %d, payloads missing %d, objects left %d (reported %d)",
		csoakMessages, s.offloaded, len(lost), len(s.corrupted), len(s.stalled), len(dangling), duplicates, len(s.notFound), len(keys), len(keys)-len(orphans))

	if runErr != nil {
		t.Errorf("Run: %v", runErr)
	}
	for _, c := range []struct {
		what  string
		items []string
	}{
		{"lost", lost}, {"corrupted", s.corrupted}, {"stalled", s.stalled}, {"dangling", dangling},
		{"objects left in S3 that the Consumer never reported", orphans},
	} {
		if len(c.items) > 0 {
			t.Errorf("%s: %d: %s", c.what, len(c.items), firstFew(c.items))
		}
	}
}

// firstFew lists the first few of items, for an error message.
func firstFew(items []string) string {
	const n = 10
	if len(items) <= n {
		return strings.Join(items, "\n\t")
	}
	return strings.Join(items[:n], "\n\t") + fmt.Sprintf("\n\t... and %d more", len(items)-n)
}
