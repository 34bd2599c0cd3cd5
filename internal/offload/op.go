package offload

import (
	"context"
	"io"
	"reflect"

	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// Op is a service's operation that sends one message (SQS SendMessage, SNS
// Publish), as Send and SendStream drive it. In and Out are its input and
// output, O the service's Options.
type Op[V, In, Out, O any] struct {
	// Name names the operation in errors: "SendMessage", "PublishStream".
	Name string
	// Call makes the service call; Install returns the per-call option that
	// installs a tracker on it.
	Call    func(context.Context, In, ...func(*O)) (Out, error)
	Install func(*outcome.Tracker) func(*O)
	// Input returns the input that sends the message as w, its form with the
	// body in S3, with the deduplication id dedupID if it is not nil; with
	// w nil, the caller's input, unchanged.
	Input func(w *Wire[V], dedupID *string) In
	// Metadata returns the output's ResultMetadata (out is not nil).
	Metadata func(out Out) *middleware.Metadata
}

// Send sends m, checked with Check, in call: as it is, or with its body
// stored in S3 first (see Core.Offload). dedup reports whether to send an
// offloaded message with the SHA-256 of its body as its deduplication id
// (see DedupID). A failure after the upload is handled as the package
// function Send says. The output's metadata records what was done.
func (op Op[V, In, Out, O]) Send(ctx context.Context, c *Core[V], m Msg[V], call Call, optFns []func(*O), dedup func() bool) (Out, error) {
	var zero Out
	w, err := c.Offload(ctx, op.Name, m, call)
	if err != nil {
		return zero, err
	}
	var ps []payload.Pointer
	var dedupID *string
	if w != nil {
		ps = append(ps, w.Pointer)
		dedupID = DedupID(nil, m.Body, dedup)
	}
	return op.send(ctx, c, op.Input(w, dedupID), optFns, c.Metadata(m, w, int64(len(m.Body)), call), ps)
}

// SendStream sends a message with attrs (checked with CheckAttributes) whose
// body is read from body: a body that fits in the service (see
// Core.ReadHead) is sent by inline as a message of its own; a longer one is
// streamed to S3 (see Core.OffloadStream) and the message sent as a pointer,
// with the deduplication id dedup asks for computed as the body streams.
func (op Op[V, In, Out, O]) SendStream(ctx context.Context, c *Core[V], body io.Reader, attrs map[string]V, call Call, optFns []func(*O),
	dedup func() bool, inline func(body string) (Out, error)) (Out, error) {
	var zero Out
	head, rest, err := c.ReadHead(op.Name, body, attrs, call)
	if err != nil {
		return zero, err
	}
	if rest == nil {
		return inline(string(head))
	}
	w, size, dedupID, err := c.OffloadStream(ctx, op.Name, rest, attrs, call, dedup)
	if err != nil {
		return zero, err
	}
	return op.send(ctx, c, op.Input(w, dedupID), optFns, c.Metadata(Msg[V]{Attrs: attrs}, w, size, call), []payload.Pointer{w.Pointer})
}

// send calls the service with in, whose payloads are ps, and records md in
// the output's metadata.
func (op Op[V, In, Out, O]) send(ctx context.Context, c *Core[V], in In, optFns []func(*O), md payload.OffloadMetadata, ps []payload.Pointer) (Out, error) {
	var t outcome.Tracker
	out, err := Send(ctx, c.Store, op.Name, op.Call, in, optFns, op.Install, &t, ps...)
	if err != nil {
		var zero Out
		return zero, err
	}
	if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || !v.IsNil() {
		SetMetadata(op.Metadata(out), md)
	}
	return out, nil
}
