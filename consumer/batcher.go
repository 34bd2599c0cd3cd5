package consumer

import (
	"context"
	"sync"
	"time"
)

// entry is one acknowledgement or visibility change waiting for a batch
// call.
type entry struct {
	d *delivery
	// vis is the visibility timeout to set (visibility changes only).
	vis time.Duration
	// release: a visibility change of an unhandled message (EventReleased
	// rather than EventRetry).
	release bool
	// dups are earlier deliveries of the same message, replaced by d in
	// this batch: SQS redelivered it within one batching window, and only
	// the newest receipt handle is sent.
	dups []*delivery
}

// maxFlushes bounds the batch calls one batcher has in flight.
const maxFlushes = 4

// batcher coalesces entries into batch calls of up to MaxBatchSize, sent
// when a batch is full or interval after its first entry (interval 0: as
// soon as possible, with the entries pending at that moment). A batch never
// holds two entries for one message id: the newest delivery wins. Close
// sends what is pending and waits for every call.
type batcher struct {
	interval time.Duration
	send     func(es []*entry) // one batch call; runs on its own goroutine
	in       chan *entry
	done     chan struct{}
	flights  sync.WaitGroup
	slots    chan struct{}
}

func newBatcher(interval time.Duration, send func([]*entry)) *batcher {
	b := &batcher{
		interval: interval,
		send:     send,
		in:       make(chan *entry, MaxBatchSize),
		done:     make(chan struct{}),
		slots:    make(chan struct{}, maxFlushes),
	}
	go b.loop()
	return b
}

// add queues e. It blocks while maxFlushes calls are in flight and a batch
// is full: back-pressure on the handlers.
func (b *batcher) add(e *entry) { b.in <- e }

// close sends what is pending and waits for all calls to finish. No add may
// follow.
func (b *batcher) close() {
	close(b.in)
	<-b.done
}

func (b *batcher) loop() {
	defer close(b.done)
	var pending []*entry
	byID := map[string]*entry{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	flush := func() {
		timer.Stop()
		for len(pending) > 0 {
			n := min(len(pending), MaxBatchSize)
			batch := pending[:n:n]
			pending = pending[n:]
			for _, e := range batch {
				delete(byID, e.d.id)
			}
			b.slots <- struct{}{}
			b.flights.Add(1)
			go func() {
				defer func() { <-b.slots; b.flights.Done() }()
				b.send(batch)
			}()
		}
		pending = nil
	}
	add := func(e *entry) {
		if old, ok := byID[e.d.id]; ok {
			// The same message twice in one window: keep the newest
			// receipt handle.
			if e.d.recv.After(old.d.recv) {
				old.dups = append(old.dups, old.d)
				old.d, old.vis, old.release = e.d, e.vis, e.release
				old.dups = append(old.dups, e.dups...)
			} else {
				old.dups = append(old.dups, e.d)
				old.dups = append(old.dups, e.dups...)
			}
			return
		}
		byID[e.d.id] = e
		pending = append(pending, e)
		if len(pending) == 1 && b.interval > 0 {
			timer.Reset(b.interval)
		}
	}
	for {
		select {
		case e, ok := <-b.in:
			if !ok {
				flush()
				b.flights.Wait()
				return
			}
			add(e)
			if b.interval == 0 {
				// As soon as possible: take what else is queued now.
			drain:
				for len(pending) < MaxBatchSize {
					select {
					case e, ok := <-b.in:
						if !ok {
							flush()
							b.flights.Wait()
							return
						}
						add(e)
					default:
						break drain
					}
				}
				flush()
			} else if len(pending) >= MaxBatchSize {
				flush()
			}
		case <-timer.C:
			flush()
		}
	}
}

// callTimeout bounds one batch call the Consumer makes on its own (acks,
// visibility changes, heartbeats), which run without Run's context so that
// they complete during shutdown.
const callTimeout = 30 * time.Second

// detached returns a context for such a call.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), callTimeout)
}
