package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/sqsx/sqsx"
)

// Handler handles one message. Returning nil acknowledges it (under
// AckOnSuccess); an error makes it visible again after Options.Backoff. ctx
// ends when the handler runs past Options.HandlerTimeout, or when Run's
// shutdown deadline passes.
type Handler func(ctx context.Context, m *Message) error

// BatchHandler handles the messages of one receive (up to
// Options.BatchSize) together. Returning nil acknowledges them all; a
// *BatchError fails the messages it names and acknowledges the others; any
// other error fails them all.
type BatchHandler func(ctx context.Context, ms []*Message) error

// StreamHandler handles one message whose body it reads from body, which
// streams an offloaded payload from S3 as it is read (verifying its length
// and checksum) while the heartbeat keeps the message invisible. m.Body is
// empty and m.Size is the body's size. A failure to read body is returned by
// body.Read; the handler should return it. body is closed when the handler
// returns.
type StreamHandler func(ctx context.Context, m *Message, body io.Reader) error

// BatchError is what a BatchHandler returns to fail some messages of its
// batch: the others are acknowledged.
//
//	return &consumer.BatchError{Failed: map[string]error{m.ID: err}}
type BatchError struct {
	// Failed maps the IDs of the failed messages to their errors.
	Failed map[string]error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("consumer: %d message(s) of the batch failed", len(e.Failed))
}

// ErrShutdownTimeout is returned by Run when handlers were still running
// Options.ShutdownTimeout after its context ended, and had their contexts
// cancelled.
var ErrShutdownTimeout = errors.New("consumer: handlers did not finish within ShutdownTimeout")

// Consumer receives messages from an SQS queue through an sqsx Client and
// runs a handler for each, or for each batch. See the package documentation.
//
// A Consumer is safe for concurrent use, and may Run on several queues at
// once. Do not change its Options after New.
type Consumer struct {
	api  API
	opts Options
}

// New returns a Consumer that uses api (an *sqsx.Client). The optFns change
// the default Options; New returns an error naming each invalid option.
//
//	c, err := consumer.New(client, func(o *consumer.Options) {
//		o.Concurrency = 20
//	})
func New(api API, optFns ...func(*Options)) (*Consumer, error) {
	if api == nil {
		return nil, errors.New("consumer: API is nil")
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.resolveDefaults()
	resolveTelemetry(api, &o)
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("consumer: invalid Options: %w", err)
	}
	o.MessageAttributeNames = append([]string(nil), o.MessageAttributeNames...)
	return &Consumer{api: api, opts: o}, nil
}

// Run receives messages from queueURL and calls h for each until ctx ends,
// then shuts down gracefully: it stops receiving (a long poll in progress
// is let end, within Options.WaitTime, so that the messages it returns are
// released rather than hidden until their visibility timeout), makes the messages
// received but not yet handled visible again at once, lets the running
// handlers finish (for at most Options.ShutdownTimeout, then cancels their
// contexts), sends the pending acknowledgements and visibility changes, and
// returns. It returns nil after a shutdown caused by ctx, ErrShutdownTimeout
// if handlers had to be cancelled, and an error if the queue cannot be read
// (it does not exist, access is denied); other failures are retried and
// reported to Options.Hooks.
//
// On a FIFO queue (its URL ends in ".fifo") the messages of one
// MessageGroupId are handled one at a time, in order, and different groups
// in parallel. When a handler fails, the messages of its group that the
// Consumer holds are not handled: they are made visible again at once, so
// that SQS delivers them again, in order, after the failed one.
func (c *Consumer) Run(ctx context.Context, queueURL string, h Handler) error {
	if h == nil {
		return errors.New("consumer: Run: handler is nil")
	}
	return c.run(ctx, queueURL, modeSingle, h, nil, nil)
}

// RunBatch is Run with a handler for each received batch. The batch's
// payloads are read before the handler is called, within
// Options.MaxInFlightBytes. On a FIFO queue the batches are handled one at
// a time, in the order received; in a *BatchError, a failed message's group
// fails from it on: the later messages of its group in the batch are made
// visible again at once, whatever the handler did with them, so that they
// come back in order.
func (c *Consumer) RunBatch(ctx context.Context, queueURL string, h BatchHandler) error {
	if h == nil {
		return errors.New("consumer: RunBatch: handler is nil")
	}
	return c.run(ctx, queueURL, modeBatch, nil, h, nil)
}

// RunStream is Run with a handler that reads each message's body as a
// stream: payloads of any size are handled without being held in memory,
// so MaxPayloadSize does not apply (the Client's MaxStreamSize does).
func (c *Consumer) RunStream(ctx context.Context, queueURL string, h StreamHandler) error {
	if h == nil {
		return errors.New("consumer: RunStream: handler is nil")
	}
	return c.run(ctx, queueURL, modeStream, nil, nil, h)
}

type mode int

const (
	modeSingle mode = iota
	modeBatch
	modeStream
)

// run is the state of one Run call.
type run struct {
	c        *Consumer
	obs      observer
	queueURL string
	fifo     bool
	mode     mode
	single   Handler
	batch    BatchHandler
	stream   StreamHandler

	ctx  context.Context // ends when the shutdown starts
	fail context.CancelCauseFunc
	hctx context.Context // the handlers'; ends at the shutdown deadline

	opener   messageOpener        // nil: payloads are checked at the receive
	recvOpts []func(*sqs.Options) // of each receive

	slots    *semaphore.Weighted // messages held, and slots a receive has reserved
	fill     int                 // slots a receiver waits for (see fillWait)
	bytes    *countedSem         // bytes of bodies held
	held     atomic.Int64        // messages received and not yet handled to their outcome
	handlers *semaphore.Weighted // handler calls
	// queued counts the messages received whose handler has not started
	// (being read, or waiting for bytes or a handler), running the handler
	// calls in progress: a receiver's wait for a fuller batch ends when
	// handlers run with none queued (see waitSlots).
	queued, running atomic.Int64

	hb         *heartbeat
	acks, viss *batcher
	closeMu    sync.RWMutex
	closed     bool // under closeMu: the batchers are closed

	wg      sync.WaitGroup // goroutines that hold deliveries
	groupMu sync.Mutex
	groups  map[string][][]*delivery // FIFO: items waiting, per group
}

func (c *Consumer) run(ctx context.Context, queueURL string, m mode, single Handler, batch BatchHandler, stream StreamHandler) error {
	if queueURL == "" {
		return errors.New("consumer: queue URL is empty")
	}
	o := &c.opts
	rctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	perHandler := int64(1)
	if m == modeBatch {
		perHandler = int64(o.BatchSize)
	}
	r := &run{
		c: c, queueURL: queueURL, fifo: strings.HasSuffix(queueURL, ".fifo"), mode: m,
		single: single, batch: batch, stream: stream,
		ctx: rctx, fail: fail, hctx: hctx,
		slots:    semaphore.NewWeighted(int64(o.Concurrency)*perHandler + int64(o.Prefetch)),
		bytes:    newCountedSem(o.MaxInFlightBytes),
		handlers: semaphore.NewWeighted(int64(o.Concurrency)),
		groups:   map[string][][]*delivery{},
		obs:      newObserver(o, queueURL),
	}
	r.fill = int(min(int64(o.BatchSize), int64(o.Concurrency)*perHandler+int64(o.Prefetch)))
	if op, ok := c.api.(messageOpener); ok {
		r.opener = op
		r.recvOpts = []func(*sqs.Options){sqsx.WithoutPayloadCheck()}
	}
	defer r.obs.metrics.ObserveHeld(r.held.Load, r.bytes.held.Load)()
	r.hb = &heartbeat{r: r, timeout: o.VisibilityTimeout, interval: o.HeartbeatInterval, maxExt: o.MaxExtension, held: map[*delivery]struct{}{}}
	interval := o.AckInterval
	if r.fifo {
		interval = 0
	}
	r.acks = newBatcher(interval, r.sendAcks)
	r.viss = newBatcher(interval, r.sendVisibility)
	hbStop, hbDone := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(hbDone)
		r.hb.loop(hctx, hbStop)
	}()

	var receivers sync.WaitGroup
	for range o.Receivers {
		receivers.Add(1)
		go func() { defer receivers.Done(); r.receive() }()
	}
	<-rctx.Done()

	// Shutdown: receivers stop (a long poll in progress ends first),
	// unstarted messages are released as their waits end, handlers get
	// ShutdownTimeout.
	deadline := time.AfterFunc(o.ShutdownTimeout, hcancel)
	receivers.Wait()
	r.wg.Wait()
	timedOut := !deadline.Stop()
	r.closeMu.Lock()
	r.closed = true
	r.closeMu.Unlock()
	r.acks.close()
	r.viss.close()
	close(hbStop)
	<-hbDone

	if err := context.Cause(rctx); err != nil && ctx.Err() == nil {
		return err // a failure of the queue, not the caller's shutdown
	}
	if timedOut {
		return ErrShutdownTimeout
	}
	return nil
}

// receive is one receiver's loop.
func (r *run) receive() {
	o := &r.c.opts
	in := sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(r.queueURL),
		VisibilityTimeout:     int32(o.VisibilityTimeout / time.Second),
		WaitTimeSeconds:       int32(o.WaitTime / time.Second),
		MessageAttributeNames: o.MessageAttributeNames,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
			types.MessageSystemAttributeNameSentTimestamp,
			types.MessageSystemAttributeNameMessageGroupId,
			types.MessageSystemAttributeNameMessageDeduplicationId,
			types.MessageSystemAttributeNameSequenceNumber,
			// A producer's trace context, which the process span continues.
			types.MessageSystemAttributeNameAWSTraceHeader,
		},
	}
	pause := time.Duration(0)
	for r.ctx.Err() == nil {
		// Back-pressure: receive only what the Consumer may hold. When it
		// holds so much that fewer than r.fill slots are free, wait up to
		// fillWait for more: slots free one at a time as handlers return,
		// and a receive for each would cost a request per message or two.
		if err := r.slots.Acquire(r.ctx, 1); err != nil {
			return
		}
		n := 1
		for n < o.BatchSize && r.slots.TryAcquire(1) {
			n++
		}
		if n < r.fill {
			n += r.waitSlots(r.fill - n)
			if r.ctx.Err() != nil {
				r.slots.Release(int64(n))
				return
			}
		}
		req := in
		req.MaxNumberOfMessages = int32(n)
		recv := time.Now()
		// A receive in progress is not cancelled at shutdown: SQS may have
		// made its messages invisible already, and an abandoned answer
		// would hide them for their visibility timeout. It ends within
		// WaitTime, and its messages are released.
		out, err := r.c.api.ReceiveMessageUnresolved(r.hctx, &req, r.recvOpts...)
		var ue *sqsx.UnresolvedError
		if err != nil && !(errors.As(err, &ue) && out != nil) {
			r.slots.Release(int64(n))
			if r.ctx.Err() != nil {
				return
			}
			if fatal(err) {
				r.fail(fmt.Errorf("consumer: %s %s: %w", OpReceive, r.queueURL, err))
				return
			}
			o.Hooks.error(OpReceive, "", "", err)
			pause = min(max(2*pause, 100*time.Millisecond), 5*time.Second)
			select {
			case <-r.ctx.Done():
			case <-time.After(pause):
			}
			continue
		}
		pause = 0
		returned := map[string]bool{}
		for _, u := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
			o.Hooks.event(EventUnresolved, u.MessageID, 0, u.Err)
			o.Hooks.error(OpPayload, u.MessageID, u.Code, u.Err)
			if u.Action == sqsx.UnresolvedReturned {
				// Left in the queue, as UnresolvedIsolate would.
				returned[u.MessageID] = true
			}
		}
		var ds []*delivery
		for _, m := range out.Messages {
			if returned[aws.ToString(m.MessageId)] {
				continue
			}
			d := &delivery{r: r, id: aws.ToString(m.MessageId), handle: m.ReceiptHandle, msg: newMessage(m), recv: recv}
			d.msg.d = d
			ds = append(ds, d)
		}
		if len(ds) > n {
			// More than asked for (SQS never does this): the extra ones
			// are left to come back after their visibility timeout.
			for _, d := range ds[n:] {
				o.Hooks.error(OpReceive, d.id, "", errors.New("more messages received than asked for; left in the queue"))
			}
			ds = ds[:n]
		}
		r.slots.Release(int64(n - len(ds)))
		r.held.Add(int64(len(ds)))
		for _, d := range ds {
			r.hb.add(d)
			o.Hooks.event(EventReceived, d.id, 0, nil)
		}
		if r.ctx.Err() != nil {
			// Received during the shutdown: visible again at once.
			for _, d := range ds {
				r.release(d)
			}
			r.unhold(len(ds))
			return
		}
		if len(ds) > 0 {
			r.queued.Add(int64(len(ds)))
			r.dispatch(ds)
		}
	}
}

// fillWait is the longest a receiver waits for a fuller batch. The
// messages the Consumer holds keep its handlers busy meanwhile: a receiver
// waits only while at least Capacity - fill messages are held, and only
// while some of them wait for a handler (see waitSlots).
const fillWait = 20 * time.Millisecond

// fillPoll is how often a receiver waiting for a fuller batch checks
// whether its handlers are about to run dry.
const fillPoll = time.Millisecond

// waitSlots acquires up to k more slots, waiting at most fillWait, and
// returns how many it got. It stops waiting once handlers run and no
// received message waits to follow them: their slots then free one at a
// time, at the handlers' pace, and the handlers would go idle for the
// rest of the wait and the receive's round trip. Slots that free all at
// once (quick handlers, a batch just handled) are still gathered.
func (r *run) waitSlots(k int) int {
	deadline := time.Now().Add(fillWait)
	got := 0
	for got < k && !r.runningDry() {
		ctx, cancel := context.WithTimeout(r.ctx, min(time.Until(deadline), fillPoll))
		err := r.slots.Acquire(ctx, 1)
		cancel()
		switch {
		case err == nil:
			got++
		case r.ctx.Err() != nil || !time.Now().Before(deadline):
			return got
		}
	}
	return got
}

// runningDry reports whether handlers run with no received message queued
// to follow them.
func (r *run) runningDry() bool { return r.running.Load() > 0 && r.queued.Load() == 0 }

// fatal reports whether a receive error means the queue cannot be read at
// all, so that retrying is pointless.
func fatal(err error) bool {
	var qe *types.QueueDoesNotExist
	if errors.As(err, &qe) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "AccessDenied",
			"AccessDeniedException", "InvalidAddress", "InvalidClientTokenId", "InvalidSecurity":
			return true
		}
	}
	return false
}

// dispatch starts the handling of a received batch.
func (r *run) dispatch(ds []*delivery) {
	switch {
	case r.mode == modeBatch && r.fifo:
		r.enqueue("", ds)
	case r.mode == modeBatch:
		r.wg.Add(1)
		go func() { defer r.wg.Done(); r.process(ds) }()
	case r.fifo:
		for _, d := range ds {
			r.enqueue(d.msg.GroupID, []*delivery{d})
		}
	default:
		for _, d := range ds {
			r.wg.Add(1)
			go func() { defer r.wg.Done(); r.process([]*delivery{d}) }()
		}
	}
}

// enqueue appends an item to its FIFO group's queue, starting the group's
// runner if it has none. A group's items are processed one at a time, in
// order; when one fails, those waiting are released.
func (r *run) enqueue(group string, item []*delivery) {
	r.groupMu.Lock()
	defer r.groupMu.Unlock()
	q, running := r.groups[group]
	r.groups[group] = append(q, item)
	if running {
		return
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			r.groupMu.Lock()
			q := r.groups[group]
			if len(q) == 0 {
				delete(r.groups, group)
				r.groupMu.Unlock()
				return
			}
			item := q[0]
			r.groups[group] = q[1:]
			r.groupMu.Unlock()
			if r.process(item) && r.mode != modeBatch {
				// A failure: the rest of the group comes back after it.
				r.groupMu.Lock()
				rest := r.groups[group]
				r.groups[group] = rest[:0:0]
				r.groupMu.Unlock()
				for _, it := range rest {
					for _, d := range it {
						r.release(d)
					}
					r.queued.Add(-int64(len(it)))
					r.unhold(len(it))
				}
			}
		}
	}()
}

// unhold gives back the slots of n messages handled to their outcome (or
// released).
func (r *run) unhold(n int) {
	r.held.Add(-int64(n))
	r.slots.Release(int64(n))
}

// process handles one item (one message, or a batch in RunBatch) from
// prefetch to outcome, and releases its slots. It reports whether a handler
// failed.
func (r *run) process(ds []*delivery) (failed bool) {
	defer r.unhold(len(ds))
	queued := int64(len(ds)) // until the handler starts, or they are settled
	defer func() { r.queued.Add(-queued) }()
	all := ds
	defer func() {
		for _, d := range all {
			d.msg = nil // the body is no longer held; the handler may keep it
		}
	}()
	ds = r.prefetch(ds)
	if len(ds) == 0 {
		return false
	}
	defer func() {
		for _, d := range ds {
			if d.bytes > 0 {
				r.bytes.Release(d.bytes)
			}
		}
	}()
	if err := r.handlers.Acquire(r.ctx, 1); err != nil {
		for _, d := range ds {
			r.release(d)
		}
		return false
	}
	defer r.handlers.Release(1)
	r.running.Add(1)
	defer r.running.Add(-1)
	r.queued.Add(-queued)
	queued = 0
	if r.ctx.Err() != nil {
		for _, d := range ds {
			r.release(d)
		}
		return false
	}
	switch r.mode {
	case modeBatch:
		return r.handleBatch(ds)
	case modeStream:
		return r.handleStream(ds[0])
	default:
		return r.handleOne(ds[0])
	}
}

// weight returns the bytes d holds in memory once prefetched.
func (r *run) weight(d *delivery) int64 {
	o := &r.c.opts
	w := d.msg.Size
	switch {
	case r.mode == modeStream && d.msg.Offloaded:
		return 0
	case w < 0: // offloaded, size not given: reserve the most it may be
		w = o.MaxInFlightBytes
		if o.MaxPayloadSize > 0 {
			w = o.MaxPayloadSize
		}
	}
	return min(w, o.MaxInFlightBytes)
}

// prefetch acquires the bytes of ds and reads their payloads, and returns
// those that are ready; the others it settles (released at shutdown, or
// unresolved).
func (r *run) prefetch(ds []*delivery) []*delivery {
	o := &r.c.opts
	var ready []*delivery
	for _, d := range ds {
		if d.msg.Offloaded && r.mode != modeStream && o.MaxPayloadSize > 0 && d.msg.Size > o.MaxPayloadSize {
			r.unresolved(d, fmt.Errorf("%w: %d bytes, Options.MaxPayloadSize %d (use RunStream)", sqsx.ErrPayloadTooLarge, d.msg.Size, o.MaxPayloadSize))
			continue
		}
		ready = append(ready, d)
	}
	var total int64
	for _, d := range ready {
		d.bytes = r.weight(d)
		total += d.bytes
	}
	if total > o.MaxInFlightBytes {
		// A batch larger than the bound holds the bound alone.
		extra := total - o.MaxInFlightBytes
		for _, d := range ready {
			cut := min(extra, d.bytes)
			d.bytes -= cut
			extra -= cut
		}
		total = o.MaxInFlightBytes
	}
	if total > 0 {
		if err := r.bytes.Acquire(r.ctx, total); err != nil {
			for _, d := range ready {
				d.bytes = 0
				r.release(d)
			}
			return nil
		}
	}
	if r.mode == modeStream {
		return ready
	}
	errs := make([]error, len(ready))
	g := errgroup.Group{}
	g.SetLimit(MaxBatchSize)
	for i, d := range ready {
		if d.msg.Offloaded {
			g.Go(func() error { errs[i] = r.read(d); return nil })
		}
	}
	g.Wait()
	ok := ready[:0]
	for i, d := range ready {
		if errs[i] == nil {
			ok = append(ok, d)
			continue
		}
		if d.bytes > 0 {
			r.bytes.Release(d.bytes)
			d.bytes = 0
		}
		if r.ctx.Err() != nil {
			r.release(d)
		} else {
			r.unresolved(d, errs[i])
		}
	}
	return ok
}

// read reads d's payload into d.msg.Body, and gives back the bytes reserved
// beyond its size.
func (r *run) read(d *delivery) error {
	o := &r.c.opts
	rc, n, err := r.open(r.ctx, d)
	if err != nil {
		return err
	}
	defer rc.Close()
	if o.MaxPayloadSize > 0 && n > o.MaxPayloadSize {
		return fmt.Errorf("%w: %d bytes, Options.MaxPayloadSize %d (use RunStream)", sqsx.ErrPayloadTooLarge, n, o.MaxPayloadSize)
	}
	b, err := readBody(rc, n, o.MaxPayloadSize)
	if err != nil {
		return err
	}
	// b is never written again: the string shares its bytes.
	d.msg.Body = unsafe.String(unsafe.SliceData(b), len(b))
	d.msg.Size = int64(len(b))
	if excess := d.bytes - min(d.msg.Size, o.MaxInFlightBytes); excess > 0 {
		r.bytes.Release(excess)
		d.bytes -= excess
	}
	return nil
}

// open opens d's payload. Through a messageOpener, which the receive did
// not check the payload with, it also takes the receipt handle that names
// the payload (unless it is shared), for the acknowledgement to delete both.
func (r *run) open(ctx context.Context, d *delivery) (io.ReadCloser, int64, error) {
	if r.opener == nil {
		return r.c.api.OpenPayload(ctx, d.msg.Raw)
	}
	raw := d.msg.Raw
	rc, n, err := r.opener.OpenMessagePayload(ctx, &raw)
	if err == nil && raw.ReceiptHandle != d.msg.Raw.ReceiptHandle {
		d.vmu.Lock() // the heartbeat reads it
		d.handle = raw.ReceiptHandle
		d.vmu.Unlock()
		d.msg.Raw.ReceiptHandle = raw.ReceiptHandle
	}
	return rc, n, err
}

// readBody reads a payload of n bytes (-1: unknown) from rc to its end,
// where rc verifies its length and checksum. A known size is read straight
// into one buffer of that size; an unknown one grows a buffer up to limit
// bytes (0: no limit).
func readBody(rc io.Reader, n, limit int64) ([]byte, error) {
	if n < 0 {
		src := rc
		if limit > 0 {
			src = io.LimitReader(rc, limit+1)
		}
		b, err := io.ReadAll(src)
		if err == nil && limit > 0 && int64(len(b)) > limit {
			err = fmt.Errorf("%w: more than Options.MaxPayloadSize %d bytes", sqsx.ErrPayloadTooLarge, limit)
		}
		return b, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(rc, b); err != nil {
		return nil, err
	}
	var one [1]byte
	if m, err := rc.Read(one[:]); err != io.EOF {
		if m > 0 && err == nil {
			err = fmt.Errorf("the payload is longer than the %d bytes announced", n)
		}
		return nil, err
	}
	return b, nil
}

// handlerContext returns the context of one handler call.
func (r *run) handlerContext() (context.Context, context.CancelFunc) {
	if t := r.c.opts.HandlerTimeout; t > 0 {
		return context.WithTimeout(r.hctx, t)
	}
	return context.WithCancel(r.hctx)
}

// call runs fn, turning a panic into a *PanicError.
func call(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

func (r *run) handleOne(d *delivery) bool {
	r.c.opts.Hooks.event(EventStarted, d.id, 0, nil)
	ctx, cancel := r.handlerContext()
	err := r.obs.handle(ctx, []*Message{d.msg}, func(ctx context.Context) error {
		return call(func() error { return r.single(ctx, d.msg) })
	})
	cancel()
	r.outcome(d, err)
	return err != nil
}

func (r *run) handleStream(d *delivery) bool {
	// The stream is read by the handler, so it lives in the handler's
	// context, which a shutdown does not end before ShutdownTimeout.
	ctx, cancel := r.handlerContext()
	defer cancel()
	rc, n, err := r.open(ctx, d)
	if err != nil {
		if r.ctx.Err() != nil {
			r.release(d)
		} else {
			r.unresolved(d, err)
		}
		return false
	}
	defer rc.Close()
	d.msg.Body = ""
	if n >= 0 {
		d.msg.Size = n
	}
	r.c.opts.Hooks.event(EventStarted, d.id, 0, nil)
	err = r.obs.handle(ctx, []*Message{d.msg}, func(ctx context.Context) error {
		return call(func() error { return r.stream(ctx, d.msg, rc) })
	})
	r.outcome(d, err)
	return err != nil
}

func (r *run) handleBatch(ds []*delivery) bool {
	msgs := make([]*Message, len(ds))
	for i, d := range ds {
		msgs[i] = d.msg
		r.c.opts.Hooks.event(EventStarted, d.id, 0, nil)
	}
	ctx, cancel := r.handlerContext()
	err := r.obs.handle(ctx, msgs, func(ctx context.Context) error {
		return call(func() error { return r.batch(ctx, msgs) })
	})
	cancel()
	var be *BatchError
	if !errors.As(err, &be) {
		for _, d := range ds {
			r.outcome(d, err)
		}
		return err != nil
	}
	failedGroups := map[string]bool{}
	for _, d := range ds {
		ferr := be.Failed[d.id]
		if r.fifo && failedGroups[d.msg.GroupID] {
			r.release(d)
			continue
		}
		if ferr != nil && r.fifo {
			failedGroups[d.msg.GroupID] = true
		}
		r.outcome(d, ferr)
	}
	return len(be.Failed) > 0
}

// outcome settles a handled message as Options.AckMode says.
func (r *run) outcome(d *delivery, err error) {
	o := &r.c.opts
	if err == nil {
		o.Hooks.event(EventSucceeded, d.id, 0, nil)
		if o.AckMode == AckManual {
			r.hb.remove(d) // until Ack, if it comes
			return
		}
		r.ack(d)
		return
	}
	o.Hooks.event(EventFailed, d.id, 0, err)
	o.Hooks.error(OpHandler, d.id, "", err)
	if o.AckMode == AckAlways {
		r.ack(d)
		return
	}
	r.retry(d, backoff(o.Backoff, d.msg.ReceiveCount))
}

// backoff returns fn(n) in whole seconds, within 0..12h.
func backoff(fn func(int) time.Duration, n int) time.Duration {
	d := fn(max(n, 1))
	if d <= 0 {
		return 0
	}
	return min((d + time.Second - 1).Truncate(time.Second), MaxVisibilityExtension)
}

// ack queues d's deletion.
func (r *run) ack(d *delivery) {
	if !d.settled.CompareAndSwap(false, true) {
		return
	}
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		r.c.opts.Hooks.error(OpAck, d.id, "", errors.New("Ack after Run returned"))
		return
	}
	r.acks.add(&entry{d: d})
}

// retry queues making d visible after vis.
func (r *run) retry(d *delivery, vis time.Duration) { r.changeVisibility(d, vis, false) }

// release queues making d, which was not handled, visible at once.
func (r *run) release(d *delivery) { r.changeVisibility(d, 0, true) }

func (r *run) changeVisibility(d *delivery, vis time.Duration, release bool) {
	if !d.settled.CompareAndSwap(false, true) {
		return
	}
	d.vmu.Lock() // after any extension in flight
	d.settling = true
	d.vmu.Unlock()
	r.closeMu.RLock()
	defer r.closeMu.RUnlock()
	if r.closed {
		return
	}
	r.viss.add(&entry{d: d, vis: vis, release: release})
}

// unresolved settles a message whose payload could not be read after its
// receive, as sqsx's UnresolvedIsolate does: a payload that does not exist
// means a duplicate of a message already processed, which is deleted;
// otherwise the message is left in the queue, to come back after its
// visibility timeout and, with a redrive policy, reach the dead-letter
// queue.
func (r *run) unresolved(d *delivery, err error) {
	o := &r.c.opts
	code := sqsx.UnresolvedCode(err)
	o.Hooks.event(EventUnresolved, d.id, 0, err)
	o.Hooks.error(OpPayload, d.id, code, err)
	if code == sqsx.CodePayloadNotFound {
		r.ack(d)
		return
	}
	if d.settled.CompareAndSwap(false, true) {
		r.hb.remove(d)
	}
}

// sendAcks deletes a batch of acknowledged messages (and then their
// payloads).
func (r *run) sendAcks(es []*entry) {
	in := &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.queueURL)}
	for i, e := range es {
		in.Entries = append(in.Entries, types.DeleteMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: e.d.handle,
		})
	}
	ctx, cancel := detached(r.hctx)
	defer cancel()
	r.obs.metrics.AckBatch(ctx, len(in.Entries))
	out, err := r.c.api.DeleteMessageBatch(ctx, in)
	r.settled(OpAck, es, out, err, func(e *entry) {
		r.c.opts.Hooks.event(EventAcked, e.d.id, 0, nil)
	})
}

// sendVisibility changes the visibility of a batch of messages.
func (r *run) sendVisibility(es []*entry) {
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(r.queueURL)}
	for i, e := range es {
		in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), ReceiptHandle: e.d.handle,
			VisibilityTimeout: int32(e.vis / time.Second),
		})
	}
	ctx, cancel := detached(r.hctx)
	defer cancel()
	var out *sqs.DeleteMessageBatchOutput
	cout, err := r.c.api.ChangeMessageVisibilityBatch(ctx, in)
	if cout != nil {
		out = &sqs.DeleteMessageBatchOutput{Failed: cout.Failed}
		for _, s := range cout.Successful {
			out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: s.Id})
		}
	}
	r.settled(OpVisibility, es, out, err, func(e *entry) {
		if e.release {
			r.c.opts.Hooks.event(EventReleased, e.d.id, 0, nil)
		} else {
			r.c.opts.Hooks.event(EventRetry, e.d.id, e.vis, nil)
		}
	})
}

// settled ends the heartbeat of a batch's messages and reports the
// outcome of each entry.
func (r *run) settled(op string, es []*entry, out *sqs.DeleteMessageBatchOutput, err error, ok func(*entry)) {
	hooks := &r.c.opts.Hooks
	for _, e := range es {
		r.hb.remove(e.d)
		for _, d := range e.dups {
			r.hb.remove(d)
		}
	}
	if out == nil {
		for _, e := range es {
			hooks.error(op, e.d.id, "", err)
		}
		return
	}
	if err != nil {
		// The messages were deleted but some payloads were not (see
		// sqsx.Client.DeleteMessageBatch).
		hooks.error(op, "", "", err)
	}
	for _, s := range out.Successful {
		if i, aerr := strconv.Atoi(aws.ToString(s.Id)); aerr == nil && i >= 0 && i < len(es) {
			ok(es[i])
		}
	}
	for _, f := range out.Failed {
		if i, aerr := strconv.Atoi(aws.ToString(f.Id)); aerr == nil && i >= 0 && i < len(es) {
			hooks.error(op, es[i].d.id, aws.ToString(f.Code), errors.New(aws.ToString(f.Message)))
		}
	}
}

// errorf is fmt.Errorf, for errors of this package.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
