// Package offload holds the send-side rules that sqsx and snsx share.
package offload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// Send makes the service call of a send whose messages carry the payloads
// ps, with t watching its attempts (install returns the per-call option
// that installs a tracker on the service's client). On failure it deletes
// ps only if the service definitely did not take the messages, as
// payload.Store.Discard says: after an ambiguous failure a queued message may
// point to them. Without ps it is the plain service call.
func Send[In, Out, O any](ctx context.Context, store *payload.Store, op string,
	call func(context.Context, In, ...func(*O)) (Out, error), in In,
	optFns []func(*O), install func(*outcome.Tracker) func(*O), t *outcome.Tracker, ps ...payload.Pointer) (Out, error) {
	if len(ps) == 0 {
		return call(ctx, in, optFns...)
	}
	var zero Out
	if err := ctx.Err(); err != nil {
		// Nothing written.
		return zero, store.Discard(ctx, op, true, err, ps...)
	}
	out, err := guarded(func() (Out, error) { return call(ctx, in, append(slices.Clip(optFns), install(t))...) })
	if err != nil {
		return zero, store.Discard(ctx, op, t.Definite(err), err, ps...)
	}
	return out, nil
}

// ErrSDKPanic wraps a panic of the SDK while it handled an answer. The SQS
// client's checksum validation of SendMessageBatch (aws-sdk-go-v2
// service/sqs v1.52) dereferences an entry's Id without a check, so a
// corrupted answer (an entry without its Id) crashes the caller's process;
// the request had landed. A send with payloads turns such a panic into this
// error, an ambiguous failure, so that the payloads are kept and the process
// lives. (sqsx's SendMessageBatch also drops such entries before the SDK
// sees them; this covers a panic nobody foresaw.)
var ErrSDKPanic = errors.New("the AWS SDK panicked while handling the answer")

// guarded calls call and returns a panic it raises as an error wrapping
// ErrSDKPanic.
func guarded[Out any](call func() (Out, error)) (out Out, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrSDKPanic, r)
		}
	}()
	return call()
}

// DiscardFailedEntries deletes the payloads of batch entries that the
// service reported as failed, unless an earlier attempt of the call, whose
// answer was lost, may have sent them (t saw more than one attempt that may
// have landed). A batch output has no error to carry a clean-up failure, so
// what is left is logged.
func DiscardFailedEntries(ctx context.Context, store *payload.Store, logger *slog.Logger, op string, t *outcome.Tracker, ps []payload.Pointer) {
	if len(ps) == 0 {
		return
	}
	err := store.Discard(ctx, op, t.Uncertain() <= 1, errEntryFailed, ps...)
	var ke *payload.KeptError
	if errors.As(err, &ke) {
		logger.WarnContext(ctx, "payloads of failed batch entries left in S3", telemetry.AttrOperation, op,
			"payloads", ke.Pointers, telemetry.AttrAmbiguous, ke.Ambiguous, "error", err)
	}
}

// errEntryFailed is the failure DiscardFailedEntries handles.
var errEntryFailed = errors.New("the service reported the entries as failed")
