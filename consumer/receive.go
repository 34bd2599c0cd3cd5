package consumer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/sqsx/sqsx"
)

// The receivers: long polls that take only what the Consumer may hold.

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
