package sqsx_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/internal/testenv/faulty"
	"github.com/sqsx/sqsx/payload"
)

// The soak test's shape. SQSX_SOAK_SEED and SQSX_SOAK_MESSAGES override the
// seed (time-based by default) and the message count.
const (
	soakMessages  = 1000
	soakSenders   = 4
	soakReceivers = 3
	// soakAttempts is how often a sender or a deleter tries one message
	// before it gives up, as a user's retry loop would.
	soakAttempts = 5
	// soakFaultRate is the share of requests, to S3 and to SQS, that get a
	// fault during the fault phase.
	soakFaultRate = 0.15
	// soakCallTimeout is the deadline of each call during the fault phase.
	// SlowAfter holds responses longer, so that it makes callers give up on
	// requests that took effect.
	soakCallTimeout = 3 * time.Second
	soakSlowDelay   = soakCallTimeout + time.Second
	// soakDrainCallTimeout is the deadline of each receive once faults are
	// off: long enough that load alone never makes a payload unavailable.
	soakDrainCallTimeout = 15 * time.Second
	// soakVisibility is the visibility timeout of received messages, in
	// seconds: short, so that messages whose receive or delete was lost
	// come back quickly.
	soakVisibility = 4
	// soakTimeout bounds the whole test; the drain ends soakReserve before
	// it, leaving time for the checks.
	soakTimeout = 170 * time.Second
	soakReserve = 20 * time.Second
	// soakAttr is the message attribute that carries a message's id, so
	// that unresolved messages can be identified.
	soakAttr = "soak-id"
)

// TestIntegSoak sends and receives many messages of mixed sizes, some
// offloaded, through fault-injecting proxies in front of S3 and SQS, with
// several senders and receivers written as a user would write them: retry on
// error, verify every body, delete in batches. Then it turns the faults off,
// drains the queue and checks the library's promises:
//
//   - lost: every message some send reported as sent is delivered;
//   - corrupted: every delivered body matches its SHA-256;
//   - held back: receive errors are SQS's own, never a payload's, and
//     payloads fail only with codes the injected faults explain;
//   - dangling: a message whose payload is missing is the duplicate of one
//     delivered (its payload was deleted with that one), and the queue ends
//     empty;
//   - orphans: every object left in the bucket is one the library reported
//     (a *payload.KeptError, a *payload.Error of a payload delete, or the
//     "payloads" attribute of a log record).
//
// Duplicates are allowed: SQS is at-least-once, and a send retried after a
// lost answer queues a second copy.
func TestIntegSoak(t *testing.T) {
	env := testenv.Require(t)
	seed := testenv.EnvUint(t, "SQSX_SOAK_SEED", uint64(time.Now().UnixNano()))
	n := int(testenv.EnvUint(t, "SQSX_SOAK_MESSAGES", soakMessages))
	t.Logf("soak: seed %d (rerun with SQSX_SOAK_SEED=%d), %d messages", seed, seed, n)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), soakTimeout)
	defer cancel()

	bucket := env.Bucket(t)
	queue := env.Queue(t, false, map[string]string{"VisibilityTimeout": strconv.Itoa(soakVisibility)})
	fe := faulty.Start(t, env, faulty.Options{
		Rate:      soakFaultRate,
		Modes:     []faultproxy.Mode{faultproxy.ErrorBefore, faultproxy.ErrorAfter, faultproxy.ResetAfter, faultproxy.SlowAfter, faultproxy.Truncate, faultproxy.BitFlip},
		Seed:      seed,
		SlowDelay: soakSlowDelay,
	})
	s3Proxy, sqsProxy := fe.S3, fe.SQS

	s := newSoak(soakPlan(seed, n))
	client, err := sqsx.New(fe.SQSClient, fe.S3Client, func(o *sqsx.Options) {
		o.Bucket = bucket
		o.Logger = slog.New(soakLog{s: s})
	})
	if err != nil {
		t.Fatalf("sqsx.New: %v", err)
	}

	// Fault phase: senders and receivers run together.
	stop := make(chan struct{})
	var receivers sync.WaitGroup
	for range soakReceivers {
		receivers.Add(1)
		go func() {
			defer receivers.Done()
			s.receive(ctx, client, queue, stop)
		}()
	}
	work := make(chan []soakMessage)
	var senders sync.WaitGroup
	for range soakSenders {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for group := range work {
				s.send(ctx, client, queue, group)
			}
		}()
	}
	s.feed(ctx, seed, work)
	close(work)
	senders.Wait()
	sendTime := time.Since(start)

	// Drain phase: faults off, receive until every sent message has been
	// delivered and the queue is empty, duplicates and the messages left
	// unresolved included.
	fe.Disable()
	s.draining.Store(true)
	drainDeadline, _ := ctx.Deadline()
	drainDeadline = drainDeadline.Add(-soakReserve)
	var left int
	for {
		left = env.MessageCount(ctx, queue)
		if left == 0 && len(s.undelivered()) == 0 {
			break
		}
		if time.Now().After(drainDeadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	close(stop)
	receivers.Wait()
	left = env.MessageCount(context.Background(), queue)

	t.Logf("S3 %v", s3Proxy.Stats())
	t.Logf("SQS %v", sqsProxy.Stats())
	receiveFaults := sqsProxy.Stats().Ops["sqs:ReceiveMessage"]
	var receiveFaultCount int64
	for m, c := range receiveFaults {
		if m != faultproxy.None {
			receiveFaultCount += c
		}
	}

	// Orphans: what is left in the bucket once every message is deleted.
	keys := env.Keys(t, bucket)
	s.check(t, soakResult{
		bucket:        bucket,
		keys:          keys,
		left:          left,
		receiveFaults: receiveFaultCount,
		sendTime:      sendTime,
		total:         time.Since(start),
	})
}

// soakMessage is one logical message: the same id and body however often it
// is sent.
type soakMessage struct {
	id   string
	size int
	seed uint64
}

// body returns the message's body: a header naming its id and the SHA-256 of
// its content, then size bytes of content.
func (m soakMessage) body() string {
	raw := make([]byte, (m.size+1)/2)
	rand.NewChaCha8(soakKey(m.seed)).Read(raw)
	content := hex.EncodeToString(raw)[:m.size]
	sum := sha256.Sum256([]byte(content))
	return fmt.Sprintf("%s %x\n%s", m.id, sum, content)
}

func soakKey(seed uint64) (key [32]byte) {
	for i := range 4 {
		seed = seed*6364136223846793005 + 1442695040888963407
		for j := range 8 {
			key[i*8+j] = byte(seed >> (8 * j))
		}
	}
	return key
}

// verifyBody returns the id a body names, and whether its content matches
// its hash.
func verifyBody(body string) (id string, ok bool) {
	header, content, found := strings.Cut(body, "\n")
	if !found {
		return "", false
	}
	id, sum, found := strings.Cut(header, " ")
	if !found {
		return id, false
	}
	got := sha256.Sum256([]byte(content))
	return id, sum == hex.EncodeToString(got[:])
}

// soakPlan draws n messages: about a third above the offload threshold
// (300 KiB to 1 MiB), the rest inline (1 KiB to 200 KiB), both with sizes
// spread evenly on a log scale so that small messages are common.
func soakPlan(seed uint64, n int) []soakMessage {
	r := rand.New(rand.NewPCG(seed, 1))
	logUniform := func(lo, hi float64) int { return int(lo * math.Pow(hi/lo, r.Float64())) }
	plan := make([]soakMessage, n)
	for i := range plan {
		size := logUniform(1<<10, 200<<10)
		if r.IntN(3) == 0 {
			size = logUniform(300<<10, 1<<20)
		}
		plan[i] = soakMessage{id: fmt.Sprintf("m%05d", i), size: size, seed: r.Uint64()}
	}
	return plan
}

// soak is the record the senders, receivers and the library's logger share.
type soak struct {
	plan     map[string]soakMessage
	order    []string
	draining atomic.Bool

	mu sync.Mutex
	// sent holds the ids some send attempt reported as sent.
	sent map[string]bool
	// delivered counts deliveries per id; deliveredKeys holds the payload
	// keys of delivered offloaded messages.
	delivered     map[string]int
	deliveredKeys map[string]bool
	corrupted     []string
	// reported holds every object the library said it left in S3.
	reported map[payload.Pointer]bool
	// unresolved counts unresolved messages by phase, code and action.
	unresolved map[string]int
	// history lists what happened to each payload key, and notes what
	// happened that the checks do not judge, for explaining a failure.
	history map[string][]string
	notes   []string
	// unexpected lists what the checks reject, as it happens.
	unexpected []string
	// receiveErrors counts failed receive calls; libraryErrors lists those
	// that were not SQS's own.
	receiveErrors int
	logRecords    int
	sendErrors    int
	deleteErrors  int
}

func newSoak(plan []soakMessage) *soak {
	s := &soak{
		plan:          map[string]soakMessage{},
		sent:          map[string]bool{},
		delivered:     map[string]int{},
		deliveredKeys: map[string]bool{},
		reported:      map[payload.Pointer]bool{},
		unresolved:    map[string]int{},
		history:       map[string][]string{},
	}
	for _, m := range plan {
		s.plan[m.id] = m
		s.order = append(s.order, m.id)
	}
	return s
}

// feed hands the messages to the senders in groups: a single message for
// SendMessage, or up to 10 for SendMessageBatch.
func (s *soak) feed(ctx context.Context, seed uint64, work chan<- []soakMessage) {
	r := rand.New(rand.NewPCG(seed, 2))
	for i := 0; i < len(s.order); {
		k := 1
		if r.IntN(2) == 0 {
			k = 2 + r.IntN(9)
		}
		k = min(k, len(s.order)-i)
		group := make([]soakMessage, k)
		for j := range group {
			group[j] = s.plan[s.order[i+j]]
		}
		i += k
		select {
		case work <- group:
		case <-ctx.Done():
			return
		}
	}
}

func (s *soak) attrs(id string) map[string]types.MessageAttributeValue {
	return map[string]types.MessageAttributeValue{
		soakAttr: {DataType: aws.String("String"), StringValue: aws.String(id)},
	}
}

// send sends group, one message with SendMessage or several with
// SendMessageBatch, retrying what failed.
func (s *soak) send(ctx context.Context, client *sqsx.Client, queue string, group []soakMessage) {
	if len(group) == 1 {
		m := group[0]
		in := &sqs.SendMessageInput{QueueUrl: aws.String(queue), MessageBody: aws.String(m.body()), MessageAttributes: s.attrs(m.id)}
		for attempt := range soakAttempts {
			cctx, cancel := context.WithTimeout(ctx, soakCallTimeout)
			_, err := client.SendMessage(cctx, in)
			cancel()
			if err == nil {
				s.markSent(m.id)
				return
			}
			s.failed(&s.sendErrors, err)
			if !soakPause(ctx, attempt) {
				return
			}
		}
		return
	}
	pending := group
	for attempt := range soakAttempts {
		in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(queue)}
		for _, m := range pending {
			in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(m.id), MessageBody: aws.String(m.body()), MessageAttributes: s.attrs(m.id),
			})
		}
		cctx, cancel := context.WithTimeout(ctx, soakCallTimeout)
		out, err := client.SendMessageBatch(cctx, in)
		cancel()
		if err != nil {
			s.failed(&s.sendErrors, err)
		} else {
			ok := map[string]bool{}
			for _, e := range out.Successful {
				id := aws.ToString(e.Id)
				if !slices.ContainsFunc(pending, func(m soakMessage) bool { return m.id == id }) {
					// A corrupted answer (BitFlip) the SDK let through.
					s.note("", "SendMessageBatch answered for entry %q, which it was not sent", id)
					continue
				}
				ok[id] = true
				s.markSent(id)
			}
			// Retry every entry not reported as sent, failed or missing.
			pending = slices.DeleteFunc(pending, func(m soakMessage) bool { return ok[m.id] })
			if len(pending) == 0 {
				return
			}
		}
		if !soakPause(ctx, attempt) {
			return
		}
	}
}

// soakPause waits a little before attempt+1, and reports whether to make it.
func soakPause(ctx context.Context, attempt int) bool {
	if attempt == soakAttempts-1 {
		return false
	}
	select {
	case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *soak) markSent(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent[id] = true
}

// note records an event of payload key (none if ""), for explaining a
// failure.
func (s *soak) note(key, format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noteLocked(key, format, args...)
}

func (s *soak) noteLocked(key, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if key == "" {
		s.notes = append(s.notes, msg)
		return
	}
	s.history[key] = append(s.history[key], msg)
}

// failed counts a failed call and records the objects its error reports
// left in S3.
func (s *soak) failed(counter *int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	*counter++
	for _, p := range testenv.LeftPointers(err) {
		s.reported[p] = true
		s.noteLocked(p.Key, "reported left by: %v", err)
	}
}

// receive receives, verifies and deletes messages until stop is closed.
func (s *soak) receive(ctx context.Context, client *sqsx.Client, queue string, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		draining := s.draining.Load()
		timeout := soakCallTimeout
		if draining {
			timeout = soakDrainCallTimeout
		}
		cctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := client.ReceiveMessage(cctx, &sqs.ReceiveMessageInput{
			QueueUrl:              aws.String(queue),
			MaxNumberOfMessages:   10,
			WaitTimeSeconds:       1,
			VisibilityTimeout:     soakVisibility,
			MessageAttributeNames: []string{soakAttr},
		})
		cancel()
		if err != nil {
			s.receiveFailed(err, draining)
			continue
		}
		s.noteUnresolved(sqsx.GetUnresolvedMessages(out.ResultMetadata), draining)
		var entries []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			s.deliver(m)
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		s.delete(ctx, client, queue, entries)
	}
}

// receiveFailed records a failed receive. The library may fail a receive
// only for SQS's own failure (with UnresolvedIsolate a payload never fails
// the call), so any other error is held-back messages.
func (s *soak) receiveFailed(err error, draining bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.receiveErrors++
	var oe *smithy.OperationError
	if !errors.As(err, &oe) || oe.ServiceID != "SQS" || oe.OperationName != "ReceiveMessage" {
		s.unexpected = append(s.unexpected, fmt.Sprintf("held back: ReceiveMessage failed with a non-SQS error (draining %v): %v", draining, err))
	}
}

// noteUnresolved checks the unresolved messages of one receive. During the
// fault phase a payload may fail as the injected faults make it fail; once
// they are off, only duplicates whose payload is gone may be unresolved. A
// missing payload must be the payload of a message delivered before: one
// created missing is a dangling pointer.
func (s *soak) noteUnresolved(us []sqsx.UnresolvedMessage, draining bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	phase := "faults"
	if draining {
		phase = "drain"
	}
	for _, u := range us {
		s.unresolved[fmt.Sprintf("%s %s %s", phase, u.Code, u.Action)]++
		if p, err := payload.DecodePointer(aws.ToString(u.Message.Body)); err == nil {
			s.noteLocked(p.Key, "message %s unresolved (%s): %s, %s", u.MessageID, phase, u.Code, u.Action)
		}
		id := ""
		if a, ok := u.Message.MessageAttributes[soakAttr]; ok {
			id = aws.ToString(a.StringValue)
		}
		switch u.Code {
		case sqsx.CodePayloadNotFound:
			p, err := payload.DecodePointer(aws.ToString(u.Message.Body))
			if err != nil || s.delivered[id] == 0 || !s.deliveredKeys[p.Key] {
				s.unexpected = append(s.unexpected, fmt.Sprintf("dangling: message %s (%s) points to missing %v, which no delivered message had (delivered %d times): %v",
					u.MessageID, id, p, s.delivered[id], u.Err))
			}
		case sqsx.CodePayloadUnavailable, sqsx.CodePayloadChecksumMismatch, sqsx.CodePayloadAccessDenied,
			// A BitFlip in a ReceiveMessage answer that hit an attribute or
			// the key of a member: the SDK checks only the MD5 of a body
			// present, sqsx the rest.
			sqsx.CodeAttributesChecksumMismatch, sqsx.CodeMessageIncomplete, sqsx.CodeBodyChecksumMismatch:
			if draining {
				s.unexpected = append(s.unexpected, fmt.Sprintf("held back: message %s (%s) unresolved with faults off: %s: %v", u.MessageID, id, u.Code, u.Err))
			}
		default:
			s.unexpected = append(s.unexpected, fmt.Sprintf("held back: message %s (%s) unresolved with %s, which no fault explains: %v", u.MessageID, id, u.Code, u.Err))
		}
	}
}

// deliver records a received message after checking its body.
func (s *soak) deliver(m types.Message) {
	id, ok := verifyBody(aws.ToString(m.Body))
	var attr string
	if a, found := m.MessageAttributes[soakAttr]; found {
		attr = aws.ToString(a.StringValue)
	}
	h, err := payload.ParseReceiptHandle(aws.ToString(m.ReceiptHandle))
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, planned := s.plan[id]; !ok || !planned || id != attr || err != nil {
		s.corrupted = append(s.corrupted, fmt.Sprintf("message %s: body id %q, attribute %q, hash ok %v, handle error %v",
			aws.ToString(m.MessageId), id, attr, ok, err))
		return
	}
	s.delivered[id]++
	if h.HasPointer() {
		s.deliveredKeys[h.Pointer.Key] = true
		s.noteLocked(h.Pointer.Key, "%s delivered as message %s", id, aws.ToString(m.MessageId))
	}
}

// delete deletes the entries with DeleteMessageBatch, retrying failed
// entries and failed calls. A message not deleted comes back after its
// visibility timeout and is delivered again.
func (s *soak) delete(ctx context.Context, client *sqsx.Client, queue string, entries []types.DeleteMessageBatchRequestEntry) {
	for attempt := 0; len(entries) > 0; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, soakCallTimeout)
		out, err := client.DeleteMessageBatch(cctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queue), Entries: entries})
		cancel()
		if err != nil {
			// With an output, the messages are deleted and err names the
			// payloads that are not; without, the call failed.
			s.failed(&s.deleteErrors, err)
		}
		s.noteDeletes(entries, out, err)
		if out != nil {
			failed := map[string]bool{}
			for _, f := range out.Failed {
				failed[aws.ToString(f.Id)] = true
			}
			entries = slices.DeleteFunc(entries, func(e types.DeleteMessageBatchRequestEntry) bool { return !failed[aws.ToString(e.Id)] })
		}
		if len(entries) == 0 || !soakPause(ctx, attempt) {
			return
		}
	}
}

// noteDeletes records the outcome of a DeleteMessageBatch call for the
// payload of each entry.
func (s *soak) noteDeletes(entries []types.DeleteMessageBatchRequestEntry, out *sqs.DeleteMessageBatchOutput, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	outcome := map[string]string{}
	if out != nil {
		for _, e := range out.Successful {
			outcome[aws.ToString(e.Id)] = "deleted"
		}
		for _, f := range out.Failed {
			outcome[aws.ToString(f.Id)] = "failed: " + aws.ToString(f.Code)
		}
	}
	for _, e := range entries {
		h, herr := payload.ParseReceiptHandle(aws.ToString(e.ReceiptHandle))
		if herr != nil || !h.HasPointer() {
			continue
		}
		o, ok := outcome[aws.ToString(e.Id)]
		switch {
		case ok:
		case out == nil:
			o = "call failed"
		default:
			o = "neither successful nor failed in the answer"
		}
		s.noteLocked(h.Pointer.Key, "DeleteMessageBatch entry %s: %s (error: %v)", aws.ToString(e.Id), o, err)
	}
}

func (s *soak) undelivered() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for _, id := range s.order {
		if s.sent[id] && s.delivered[id] == 0 {
			ids = append(ids, id)
		}
	}
	return ids
}

// soakLog is an slog.Handler that records the objects named by the
// "payloads" attribute of the library's log records.
type soakLog struct {
	s     *soak
	attrs []slog.Attr
}

func (h soakLog) Enabled(context.Context, slog.Level) bool { return true }

func (h soakLog) Handle(_ context.Context, r slog.Record) error {
	var ps []payload.Pointer
	var bad []string
	note := func(a slog.Attr) bool {
		if a.Key != "payloads" {
			return true
		}
		switch v := a.Value.Any().(type) {
		case []payload.Pointer:
			ps = append(ps, v...)
		case payload.Pointer:
			ps = append(ps, v)
		default:
			bad = append(bad, fmt.Sprintf("log record %q has payloads of type %T", r.Message, v))
		}
		return true
	}
	for _, a := range h.attrs {
		note(a)
	}
	r.Attrs(note)
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.logRecords++
	for _, p := range ps {
		h.s.reported[p] = true
	}
	h.s.unexpected = append(h.s.unexpected, bad...)
	return nil
}

func (h soakLog) WithAttrs(as []slog.Attr) slog.Handler {
	return soakLog{s: h.s, attrs: append(slices.Clip(h.attrs), as...)}
}

func (h soakLog) WithGroup(string) slog.Handler { return h }

type soakResult struct {
	bucket        string
	keys          []string
	left          int
	receiveFaults int64
	sendTime      time.Duration
	total         time.Duration
}

// check prints the counts and fails t for every broken promise.
func (s *soak) check(t *testing.T, r soakResult) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var offloaded, duplicates int
	for id := range s.sent {
		if s.plan[id].size > sqsx.DefaultThreshold {
			offloaded++
		}
	}
	deliveredSent := 0
	for id, c := range s.delivered {
		if s.sent[id] {
			deliveredSent++
		}
		duplicates += c - 1
	}
	var lost []string
	for _, id := range s.order {
		if s.sent[id] && s.delivered[id] == 0 {
			lost = append(lost, id)
		}
	}
	var heldBack, dangling []string
	for _, u := range s.unexpected {
		switch {
		case strings.HasPrefix(u, "dangling:"):
			dangling = append(dangling, u)
		default:
			heldBack = append(heldBack, u)
		}
	}
	switch {
	case r.left < 0:
		dangling = append(dangling, "dangling: the messages left in the queue could not be counted")
	case r.left > 0:
		dangling = append(dangling, fmt.Sprintf("dangling: %d messages left in the queue at the end", r.left))
	}
	var orphans []string
	accounted := 0
	for _, k := range r.keys {
		if s.reported[payload.Pointer{Bucket: r.bucket, Key: k}] {
			accounted++
		} else {
			orphans = append(orphans, fmt.Sprintf("%s: %s", k, strings.Join(s.history[k], "; ")))
		}
	}
	if int64(s.receiveErrors) > r.receiveFaults {
		heldBack = append(heldBack, fmt.Sprintf("held back: %d receives failed, more than the %d faults injected into them", s.receiveErrors, r.receiveFaults))
	}

	t.Logf("soak: %d sends failed, %d receives failed (%d faults on ReceiveMessage), %d deletes failed, %d log records, %d objects reported left, %d duplicates delivered, %d ids delivered without a successful send",
		s.sendErrors, s.receiveErrors, r.receiveFaults, s.deleteErrors, s.logRecords, len(s.reported), duplicates, len(s.delivered)-deliveredSent)
	for _, k := range slices.Sorted(maps.Keys(s.unresolved)) {
		t.Logf("soak: unresolved %s: %d", k, s.unresolved[k])
	}
	t.Logf("soak: sent %d (offloaded %d) delivered %d lost %d corrupted %d held-back %d dangling %d orphans %d (accounted %d) in %v (sending %v)",
		len(s.sent), offloaded, deliveredSent, len(lost), len(s.corrupted), len(heldBack), len(dangling), len(r.keys), accounted,
		r.total.Round(time.Second), r.sendTime.Round(time.Second))

	for _, n := range s.notes {
		t.Logf("soak: note: %s", n)
	}
	if len(s.sent) == 0 {
		t.Errorf("no message was sent")
	}
	if len(lost) > 0 {
		t.Errorf("lost %d messages: %s", len(lost), soakFirst(lost))
	}
	if len(s.corrupted) > 0 {
		t.Errorf("corrupted %d deliveries: %s", len(s.corrupted), soakFirst(s.corrupted))
	}
	if len(heldBack) > 0 {
		t.Errorf("%d held back: %s", len(heldBack), soakFirst(heldBack))
	}
	if len(dangling) > 0 {
		t.Errorf("%d dangling: %s", len(dangling), soakFirst(dangling))
	}
	if len(orphans) > 0 {
		t.Errorf("%d objects left in S3 that the library never reported: %s", len(orphans), soakFirst(orphans))
	}
}

// soakFirst lists the first few of items, for an error message.
func soakFirst(items []string) string {
	const max = 10
	if len(items) <= max {
		return strings.Join(items, "\n\t")
	}
	return strings.Join(items[:max], "\n\t") + fmt.Sprintf("\n\t... and %d more", len(items)-max)
}
