package consumer

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/outcome"
)

// heartbeat keeps the messages a Consumer holds invisible: every interval
// it extends, by the visibility timeout, each one with at most 2×interval
// of its visibility left (so at least interval before it would expire),
// with ChangeMessageVisibilityBatch, until the message is settled or
// MaxExtension is reached.
type heartbeat struct {
	r        *run
	timeout  time.Duration
	interval time.Duration
	maxExt   time.Duration

	mu   sync.Mutex
	held map[*delivery]struct{}
}

// add starts keeping d invisible; SQS made it invisible for timeout from
// d.recv.
func (h *heartbeat) add(d *delivery) {
	h.mu.Lock()
	d.deadline = d.recv.Add(h.timeout)
	h.held[d] = struct{}{}
	h.mu.Unlock()
}

// remove stops extending d.
func (h *heartbeat) remove(d *delivery) {
	h.mu.Lock()
	delete(h.held, d)
	h.mu.Unlock()
}

// loop beats every interval until stop is closed.
func (h *heartbeat) loop(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(h.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.beat(ctx)
		}
	}
}

// beat extends the messages that are due.
func (h *heartbeat) beat(ctx context.Context) {
	now := time.Now()
	var due, capped []*delivery
	h.mu.Lock()
	for d := range h.held {
		if d.deadline.Sub(now) > 2*h.interval {
			continue
		}
		if now.Add(time.Second).After(d.recv.Add(h.maxExt)) {
			// No extension left within MaxExtension.
			delete(h.held, d)
			capped = append(capped, d)
			continue
		}
		due = append(due, d)
	}
	h.mu.Unlock()
	for _, d := range capped {
		h.r.c.opts.Hooks.event(EventExtensionCapped, d.id, 0, nil)
	}
	for len(due) > 0 {
		n := min(len(due), MaxBatchSize)
		h.extend(ctx, now, due[:n])
		due = due[n:]
	}
}

// extend extends ds (at most 10), holding each one's vmu across the call
// so that a release queued meanwhile is sent after it.
func (h *heartbeat) extend(ctx context.Context, now time.Time, ds []*delivery) {
	in := &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(h.r.queueURL)}
	var locked []*delivery
	vis := map[string]time.Duration{}
	for _, d := range ds {
		d.vmu.Lock()
		if d.settling {
			d.vmu.Unlock()
			continue
		}
		locked = append(locked, d)
		v := min(h.timeout, d.recv.Add(h.maxExt).Sub(now).Truncate(time.Second))
		id := strconv.Itoa(len(locked) - 1)
		vis[id] = v
		in.Entries = append(in.Entries, types.ChangeMessageVisibilityBatchRequestEntry{
			Id:                aws.String(id),
			ReceiptHandle:     d.handle,
			VisibilityTimeout: int32(v / time.Second),
		})
	}
	defer func() {
		for _, d := range locked {
			d.vmu.Unlock()
		}
	}()
	if len(locked) == 0 {
		return
	}
	cctx, cancel := detached(ctx)
	defer cancel()
	out, err := h.r.c.api.ChangeMessageVisibilityBatch(cctx, in)
	hooks := &h.r.c.opts.Hooks
	if err != nil {
		for _, d := range locked {
			if !d.settled.Load() {
				hooks.error(OpVisibility, d.id, "", err)
			}
		}
		return
	}
	var succeeded []*string
	for _, s := range out.Successful {
		succeeded = append(succeeded, s.Id)
	}
	verdict, failures := verdicts(len(locked), succeeded, out.Failed)
	extended := 0
	for i, d := range locked {
		switch {
		case verdict[i] == outcome.Succeeded:
			extended++
			v := vis[strconv.Itoa(i)]
			h.mu.Lock()
			d.deadline = now.Add(v)
			h.mu.Unlock()
			hooks.event(EventExtended, d.id, v, nil)
		case d.settled.Load():
			// Deleted meanwhile: nothing to extend.
		case verdict[i] == outcome.Failed:
			// The handle is no longer valid (the message expired and was
			// redelivered): further extensions would fail the same way.
			h.remove(d)
			f := failures[i]
			hooks.error(OpVisibility, d.id, aws.ToString(f.Code), errorf("extending the visibility: %s", aws.ToString(f.Message)))
		default:
			// A garbled answer: its deadline stands, so the next beat
			// extends it again.
			hooks.error(OpVisibility, d.id, sqsx.CodeEntryResultMissing, errUnproven)
		}
	}
	h.r.obs.metrics.Extended(cctx, extended)
}
