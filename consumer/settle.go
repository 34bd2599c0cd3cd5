package consumer

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/outcome"
)

// Settling messages: acknowledgements, visibility changes and releases,
// coalesced into batch calls.

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
	var succeeded []*string
	for _, s := range out.Successful {
		succeeded = append(succeeded, s.Id)
	}
	verdict, failures := verdicts(len(es), succeeded, out.Failed)
	for i, e := range es {
		switch verdict[i] {
		case outcome.Succeeded:
			ok(e)
		case outcome.Failed:
			hooks.error(op, e.d.id, aws.ToString(failures[i].Code), errors.New(aws.ToString(failures[i].Message)))
		default:
			hooks.error(op, e.d.id, sqsx.CodeEntryResultMissing, errUnproven)
		}
	}
}

// errUnproven is the error of a batch entry a garbled answer names both
// successful and failed, or neither: its message may come back.
var errUnproven = errors.New("the answer names this entry neither as successful nor as failed, or as both; the message may come back")

// verdicts reads the answer to a batch call whose n entries have the ids
// "0" to n-1: what it says of each (see outcome.Entries: a garbled answer
// can name an entry both successful and failed, or neither), and the Failed
// entry of each entry it names failed.
func verdicts(n int, succeeded []*string, failed []types.BatchResultErrorEntry) ([]outcome.Entry, map[int]types.BatchResultErrorEntry) {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	failedIDs := make([]*string, len(failed))
	failures := map[int]types.BatchResultErrorEntry{}
	for k, f := range failed {
		failedIDs[k] = f.Id
		if i, err := strconv.Atoi(aws.ToString(f.Id)); err == nil && i >= 0 && i < n {
			failures[i] = f
		}
	}
	byID := outcome.Entries(ids, succeeded, failedIDs)
	out := make([]outcome.Entry, n)
	for i, id := range ids {
		out[i] = byID[id]
	}
	return out, failures
}

// errorf is fmt.Errorf, for errors of this package.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
