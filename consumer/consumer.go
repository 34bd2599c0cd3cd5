package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
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
