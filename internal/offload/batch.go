package offload

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/batchplan"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// Entry is one entry of a batch request (SendMessageBatch, PublishBatch).
type Entry[V any] struct {
	batchplan.Item
	Msg[V]
	// ID is the entry's id.
	ID *string
	// Wire is set when the entry's body goes to S3.
	Wire *Wire[V]
	// Failure is set when the entry is not sent, saying why.
	Failure *Failure
}

// Failure is a Failed entry of a batch output, for the service's
// BatchResultErrorEntry.
type Failure struct {
	ID          *string
	Code        string
	SenderFault bool
	Message     string
}

// Batch is a batch request planned by PlanBatch.
type Batch[V any] struct {
	Entries []*Entry[V]
	call    Call
	// uploaded are the payloads stored for the batch.
	uploaded []payload.Pointer
}

// fail marks e as not sent, for err.
func (c *Core[V]) fail(e *Entry[V], code string, senderFault bool, err error) {
	e.Failed = true
	e.Failure = &Failure{ID: e.ID, Code: code, SenderFault: senderFault, Message: fmt.Sprintf("%s: %v", c.Pkg, err)}
}

// PlanBatch plans a batch and uploads the payloads of the entries that go to
// S3. Each entry above the threshold is offloaded; then, while the batch's
// total size is over BatchSizeLimit, the largest remaining entry is
// offloaded too, so that the batch fits with the fewest uploads. Uploads run
// concurrently, at most Concurrency at a time.
//
// A problem with one entry (a reserved attribute, an empty body, too many
// attributes for offloading, a failed upload) makes it a Failure, and the
// rest of the batch is still sent. An error fails the whole call (ctx ended,
// no key could be made), with the uploads removed.
func (c *Core[V]) PlanBatch(ctx context.Context, op string, entries []*Entry[V], call Call) (*Batch[V], error) {
	items := make([]*batchplan.Item, len(entries))
	for i, e := range entries {
		items[i] = &e.Item
		e.Size = c.Size(e.Body, e.Attrs)
		if _, err := c.check(e.Msg); err != nil {
			c.fail(e, payload.CodeFor(err), true, err)
			continue
		}
		_, offErr := c.checkOffload(e.Msg, call)
		e.Fixed = offErr != nil
		if !c.Offloads(e.Msg, e.Size, call) {
			continue
		}
		if offErr != nil {
			c.fail(e, c.code(e.Msg, offErr), true, offErr)
			continue
		}
		if err := c.plan(ctx, e, call); errors.Is(err, payload.ErrAttributesTooLarge) {
			c.fail(e, payload.CodeAttributesTooLarge, true, err)
		} else if err != nil {
			return nil, err
		}
	}
	// Offload the largest entries until the whole batch fits.
	if err := batchplan.Fit(items, c.BatchSizeLimit, func(i int) error {
		if err := c.plan(ctx, entries[i], call); !errors.Is(err, payload.ErrAttributesTooLarge) {
			return err
		}
		return nil // Offloading would not make it fit: it stays.
	}); err != nil {
		return nil, err
	}

	done, err := batchplan.Upload(ctx, items, c.Concurrency, func(i int) error {
		e := entries[i]
		err := c.Store.PutAt(ctx, e.Wire.Pointer, e.Body)
		if err != nil {
			c.fail(e, payload.CodePayloadUploadFailed, false, err)
		}
		return err
	})
	b := &Batch[V]{Entries: entries, call: call}
	for _, i := range done {
		b.uploaded = append(b.uploaded, entries[i].Wire.Pointer)
	}
	if err != nil {
		// Cancelled before the service was called: nothing can point to
		// them.
		return nil, c.Store.Discard(ctx, op, true, err, b.uploaded...)
	}
	return b, nil
}

// code returns the code of a Failed entry for m's problem err.
func (c *Core[V]) code(m Msg[V], err error) string {
	if m.NoOffload != nil && errors.Is(err, m.NoOffload) {
		return m.NoOffloadCode
	}
	return payload.CodeFor(err)
}

// plan picks the key for an entry and the form in which to send it, leaving
// the entry as it was on error (ErrAttributesTooLarge if the offloaded form
// would still be over the threshold).
func (c *Core[V]) plan(ctx context.Context, e *Entry[V], call Call) error {
	w, err := c.prepare(ctx, int64(len(e.Body)), e.Attrs, call)
	if err != nil {
		return err
	}
	e.Wire, e.Offloaded = w, true
	e.Size = c.Size(w.Body, w.Attrs)
	return nil
}

// Failures returns the Failures of the entries that are not sent.
func (b *Batch[V]) Failures() []Failure {
	var out []Failure
	for _, e := range b.Entries {
		if e.Failure != nil {
			out = append(out, *e.Failure)
		}
	}
	return out
}

// SendBatch makes the service call of a planned batch, in, as Send does, and
// then deletes the payloads of the entries the service reported as failed
// (see DiscardFailedEntries) and records the OffloadMetadata of those it
// reported as successful in the output's metadata. result returns the ids of
// the successful and of the failed entries, and the output's metadata.
//
// An entry a garbled answer names in both lists, or in neither, may have
// been sent: its payload is kept. One in both is already a Failed entry of
// the output; one in neither is returned as a Failure (CodeEntryResultMissing)
// for the caller to add, so that nobody takes it for sent.
func SendBatch[V, In, Out, O any](ctx context.Context, c *Core[V], op string, b *Batch[V],
	call func(context.Context, In, ...func(*O)) (Out, error), in In,
	optFns []func(*O), install func(*outcome.Tracker) func(*O),
	result func(Out) (succeeded, failed []*string, md *middleware.Metadata)) (Out, []Failure, error) {
	var t outcome.Tracker
	out, err := Send(ctx, c.Store, op, call, in, optFns, install, &t, b.uploaded...)
	if err != nil {
		return out, nil, err
	}
	succeeded, failed, md := result(out)
	var sent []string
	for _, e := range b.Entries {
		if e.Failure == nil {
			sent = append(sent, aws.ToString(e.ID))
		}
	}
	verdict := outcome.Entries(sent, succeeded, failed)
	var lost []payload.Pointer
	var missing []Failure
	entries := map[string]payload.OffloadMetadata{}
	for _, e := range b.Entries {
		if e.Failure != nil {
			continue
		}
		id := aws.ToString(e.ID)
		switch verdict[id] {
		case outcome.Succeeded:
			entries[id] = c.Metadata(e.Msg, e.Wire, int64(len(e.Body)), b.call)
		case outcome.Failed:
			if e.Wire != nil {
				lost = append(lost, e.Wire.Pointer)
			}
		case outcome.Neither:
			msg := fmt.Sprintf("%s: the answer names this entry neither as successful nor as failed, so it may have been sent or not: sending it again may make a copy", c.Pkg)
			if e.Wire != nil {
				msg += fmt.Sprintf("; its payload %s is kept", e.Wire.Pointer)
			}
			missing = append(missing, Failure{ID: e.ID, Code: payload.CodeEntryResultMissing, Message: msg})
		}
	}
	DiscardFailedEntries(ctx, c.Store, c.Logger, op, &t, lost)
	SetBatchMetadata(md, entries)
	return out, missing, nil
}
