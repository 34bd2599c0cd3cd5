package sqsxlambda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// DefaultConcurrency is the default number of records handled at once.
const DefaultConcurrency = 10

// RecordHandler processes one record of an SQS event, resolved: its Body is
// the payload. Returning an error reports the record as failed, so that
// Lambda leaves it in the queue to come back after its visibility timeout
// (and, with a redrive policy, to reach the dead-letter queue). A panic is
// recovered and counts as an error. ctx is the invocation's context; a
// handler should return when it is done.
type RecordHandler func(ctx context.Context, record *events.SQSMessage) error

// Handler is the function to give lambda.Start: it processes an SQS event and
// returns the records to retry as a partial batch response. The event source
// mapping must have ReportBatchItemFailures in its FunctionResponseTypes;
// without it Lambda ignores the response and deletes every record.
type Handler func(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error)

// Options configures the Handler returned by New.
type Options struct {
	// Concurrency bounds the records resolved and handled at once, and so the
	// payloads held in memory. Default (when 0): DefaultConcurrency.
	Concurrency int

	// DeletePayloads deletes, before the handler returns to Lambda, the
	// payloads of the records whose RecordHandler succeeded, with one
	// DeleteObjects request per bucket. Lambda deletes those messages only
	// after that, and if its delete fails the message comes back without a
	// payload; it is then reported as processed (see Unresolved), which it
	// was. Shared payloads (SNS fan-out, SNS envelopes) are never deleted.
	// A failed deletion is logged and leaves the object to the bucket's
	// lifecycle rule. Default: false: payloads are left in S3 and must be
	// expired by a lifecycle rule (payload.PutExpirationRule).
	DeletePayloads bool

	// Unresolved says what is reported for a record whose payload cannot be
	// resolved; such a record is never given to the RecordHandler.
	//   - sqsx.UnresolvedIsolate (the default): a record whose payload does
	//     not exist is reported as processed, so Lambda deletes it: it is
	//     the duplicate of a message already processed, or its payload has
	//     expired, and it can never be processed. Every other record is
	//     reported as failed and comes back, until the redrive policy moves
	//     it to the dead-letter queue.
	//   - sqsx.UnresolvedDelete: every record that can never resolve (not
	//     found, not allowed, invalid pointer, too large, refused by S3 with
	//     a 4xx other than 403) is reported as processed; the others as
	//     failed.
	//   - sqsx.UnresolvedFail: every unresolved record is reported as
	//     failed, a missing payload too, so nothing is dropped. (The batch is
	//     not failed as a whole: the partial batch response already keeps
	//     one bad record from holding back the others.)
	// sqsx.UnresolvedReturn is not supported.
	Unresolved sqsx.UnresolvedPolicy

	// FIFOFailBatch, for an event from a FIFO queue, stops the whole batch
	// at the first failure: the records of every group not yet started are
	// reported as failed without being handled, which is what the AWS Lambda
	// documentation's examples do. By default only the failing record's
	// message group stops: its later records are reported as failed without
	// being handled, while the other groups go on. Either way the records of
	// one message group are handled one at a time, in order.
	FIFOFailBatch bool

	// Logger receives a warning for each record reported as failed and for
	// each payload that could not be deleted. Default: none.
	Logger *slog.Logger

	// OnResult, if set, is called once for each record of an event, in the
	// event's order, after every record is done and before the response is
	// returned, from the invoking goroutine. It must not block for long.
	OnResult func(Result)
}

// Outcome is what became of a record.
type Outcome int

const (
	// Succeeded: the RecordHandler returned nil. Reported as processed.
	Succeeded Outcome = iota
	// Failed: the RecordHandler returned an error or panicked. Reported as
	// failed.
	Failed
	// Unresolved: the payload could not be resolved and Options.Unresolved
	// keeps the record. Reported as failed; the handler was not called.
	Unresolved
	// Dropped: the payload could not be resolved and Options.Unresolved
	// drops the record (by default, a missing payload: a duplicate).
	// Reported as processed; the handler was not called.
	Dropped
	// Skipped: the record was not handled, because an earlier record of its
	// FIFO message group (or batch, with FIFOFailBatch) failed, or the
	// invocation's context ended first. Reported as failed.
	Skipped
)

func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Unresolved:
		return "unresolved"
	case Dropped:
		return "dropped"
	case Skipped:
		return "skipped"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Reported reports whether a record with this outcome is listed in
// BatchItemFailures, so that Lambda leaves it in the queue.
func (o Outcome) Reported() bool { return o == Failed || o == Unresolved || o == Skipped }

// Result is what became of one record of an event.
type Result struct {
	// MessageID is the record's messageId, its itemIdentifier in the
	// response.
	MessageID string
	Outcome   Outcome
	// Offloaded reports whether the record's body was a pointer.
	Offloaded bool
	// Code is sqsx.UnresolvedCode of the error, for Unresolved and Dropped.
	Code string
	// Err is why the record was not Succeeded; nil if it was.
	Err error
}

// ErrSkipped is the Err of a record skipped because an earlier record of its
// FIFO message group (or batch) failed.
var ErrSkipped = errors.New("sqsxlambda: an earlier record of the FIFO message group failed")

// New returns the Handler that resolves each record of an SQS event with
// client, as Resolve does, and gives it to h; records are handled
// concurrently, at most Options.Concurrency at once, except that the records
// of one FIFO message group are handled in order, one at a time. The response
// lists in BatchItemFailures every record whose payload could not be resolved
// (as Options.Unresolved says) or whose handler failed, and the FIFO records
// skipped after a failure. The Handler itself never returns an error.
//
// h receives a resolved copy of the record; the event's records are left as
// Lambda sent them, so that a payload is held in memory only while its
// handler runs.
//
//	handler, err := sqsxlambda.New(client, func(ctx context.Context, r *events.SQSMessage) error {
//		return process(ctx, r.Body)
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	lambda.Start(handler)
//
// New returns an error if client or h is nil or an option is invalid.
func New(client *sqsx.Client, h RecordHandler, optFns ...func(*Options)) (Handler, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	var errs []error
	if client == nil {
		errs = append(errs, errors.New("client is nil"))
	}
	if h == nil {
		errs = append(errs, errors.New("handler is nil"))
	}
	if o.Concurrency < 0 {
		errs = append(errs, fieldError("Concurrency", "must not be negative, is %d", o.Concurrency))
	}
	switch o.Unresolved {
	case sqsx.UnresolvedIsolate, sqsx.UnresolvedDelete, sqsx.UnresolvedFail:
	default:
		errs = append(errs, fieldError("Unresolved", "%v is not supported in Lambda", o.Unresolved))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("sqsxlambda: %w", err)
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &processor{client: client, handle: h, opts: o, tracer: telemetry.NewTracer(client.TracerProvider())}
	return p.process, nil
}

// processor is the state behind a Handler; it is safe for concurrent use.
type processor struct {
	client *sqsx.Client
	handle RecordHandler
	opts   Options
	tracer telemetry.Tracer
}

// outcome is a Result plus, for a record that succeeded, the payload its
// resolved receipt handle names (the zero Pointer for none).
type outcome struct {
	Result
	payload payload.Pointer
}

func (p *processor) process(ctx context.Context, event events.SQSEvent) (events.SQSEventResponse, error) {
	out := make([]outcome, len(event.Records))
	var stopAll atomic.Bool // FIFOFailBatch: a FIFO record failed.
	g := new(errgroup.Group)
	g.SetLimit(p.opts.Concurrency)
	for _, lane := range lanes(event.Records) {
		g.Go(func() error {
			stopped := false
			for _, i := range lane.records {
				r := &event.Records[i]
				switch {
				case stopped || stopAll.Load():
					out[i] = outcome{Result: Result{MessageID: r.MessageId, Outcome: Skipped, Err: ErrSkipped}}
				case ctx.Err() != nil:
					out[i] = outcome{Result: Result{MessageID: r.MessageId, Outcome: Skipped, Err: context.Cause(ctx)}}
				default:
					out[i] = p.record(ctx, r)
				}
				if lane.fifo && out[i].Outcome.Reported() {
					stopped = true
					if p.opts.FIFOFailBatch {
						stopAll.Store(true)
					}
				}
			}
			return nil
		})
	}
	g.Wait() // The lanes return no errors.

	if p.opts.DeletePayloads {
		p.deletePayloads(ctx, out)
	}
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, o := range out {
		if o.Outcome.Reported() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: o.MessageID})
			p.opts.Logger.WarnContext(ctx, "sqsxlambda: record reported as failed",
				telemetry.AttrMessageID, o.MessageID, telemetry.AttrOutcome, o.Outcome.String(), telemetry.AttrErrorType, o.Code, "error", o.Err)
		}
		if p.opts.OnResult != nil {
			p.opts.OnResult(o.Result)
		}
	}
	return resp, nil
}

// lane is a sequence of records handled one after the other.
type lane struct {
	records []int // indexes into the event's records, in order
	fifo    bool
}

// lanes splits records into lanes: one per message group for a FIFO queue's
// records, one per record otherwise, in the order of their first record.
func lanes(records []events.SQSMessage) []lane {
	var out []lane
	group := map[string]int{} // message group id -> index into out
	for i, r := range records {
		if !strings.HasSuffix(r.EventSourceARN, ".fifo") {
			out = append(out, lane{records: []int{i}})
			continue
		}
		id := r.Attributes["MessageGroupId"]
		n, ok := group[id]
		if !ok {
			n = len(out)
			group[id] = n
			out = append(out, lane{fifo: true})
		}
		out[n].records = append(out[n].records, i)
	}
	return out
}

// record resolves a copy of r and runs the handler on it.
func (p *processor) record(ctx context.Context, r *events.SQSMessage) outcome {
	ctx, span := p.startProcess(ctx, r)
	o := p.handleRecord(ctx, r)
	p.endProcess(span, o)
	return o
}

// handleRecord is record without its span.
func (p *processor) handleRecord(ctx context.Context, r *events.SQSMessage) outcome {
	o := outcome{Result: Result{MessageID: r.MessageId}}
	rec := *r
	offloaded, err := Resolve(ctx, p.client, &rec)
	o.Offloaded = offloaded
	if err != nil {
		o.Code, o.Err = sqsx.UnresolvedCode(err), err
		o.Outcome = Unresolved
		if p.drops(o.Code) {
			o.Outcome = Dropped
			p.opts.Logger.WarnContext(ctx, "sqsxlambda: record dropped: its payload cannot be resolved",
				telemetry.AttrMessageID, o.MessageID, telemetry.AttrErrorType, o.Code, "error", err)
		}
		return o
	}
	// The handle as resolved, before the handler can change the copy.
	handle := rec.ReceiptHandle
	if err := p.call(ctx, &rec); err != nil {
		o.Outcome, o.Err = Failed, err
		return o
	}
	o.Outcome = Succeeded
	if h, err := payload.ParseReceiptHandle(handle); err == nil && h.HasPointer() {
		o.payload = h.Pointer
	}
	return o
}

// call runs the handler, turning a panic into an error.
func (p *processor) call(ctx context.Context, rec *events.SQSMessage) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("sqsxlambda: handler panicked: %v\n%s", v, debug.Stack())
		}
	}()
	return p.handle(ctx, rec)
}

// drops reports whether Options.Unresolved reports a record whose payload
// failed with code as processed.
func (p *processor) drops(code string) bool {
	switch p.opts.Unresolved {
	case sqsx.UnresolvedIsolate:
		return code == sqsx.CodePayloadNotFound
	case sqsx.UnresolvedDelete:
		switch code {
		case sqsx.CodePayloadNotFound, sqsx.CodeBucketNotAllowed, sqsx.CodeKeyNotAllowed,
			sqsx.CodeInvalidPointer, sqsx.CodePayloadTooLarge, sqsx.CodePayloadRejected:
			return true
		}
	}
	return false
}

// deletePayloads deletes the payloads of the records that succeeded, within
// ctx (the invocation must still return before its deadline) and at most
// payload.CleanupTimeout.
func (p *processor) deletePayloads(ctx context.Context, out []outcome) {
	var ps []payload.Pointer
	for _, o := range out {
		if o.Outcome == Succeeded && o.payload != (payload.Pointer{}) {
			ps = append(ps, o.payload)
		}
	}
	if len(ps) == 0 {
		return
	}
	dctx, cancel := context.WithTimeout(ctx, payload.CleanupTimeout)
	defer cancel()
	if err := p.client.Store().DeleteAll(dctx, ps); err != nil {
		p.opts.Logger.Warn("sqsxlambda: payloads of processed records not deleted; the lifecycle rule will expire them",
			"error", err)
	}
}

// fieldError returns an error that starts with the name of the invalid option.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}
