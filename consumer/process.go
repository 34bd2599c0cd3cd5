package consumer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"unsafe"

	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx"
)

// From a received batch to a handler's outcome: dispatch (FIFO groups
// in order), prefetch within the byte bound, and the handler calls.

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
