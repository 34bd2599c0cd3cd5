package offload

import (
	"context"
	"errors"
	"maps"
	"strings"

	"github.com/aws/smithy-go/middleware"
	"github.com/aws/smithy-go/tracing"

	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// Telemetry is what a client traces and measures its sends with.
type Telemetry struct {
	Tracer  telemetry.Tracer
	Metrics *telemetry.Metrics
	// Traceparent adds a W3C traceparent message attribute to the
	// messages sent (Options.PropagateTraceparent).
	Traceparent bool
}

// system returns the messaging.system of the service.
func (s *Service[V]) system() string {
	if s.Name == "SNS" {
		return telemetry.SystemSNS
	}
	return telemetry.SystemSQS
}

// Destination returns the name of the queue (the last segment of its URL)
// or topic (the last field of its ARN) target, the messaging.destination.name
// of the conventions.
func Destination(target string) string {
	if i := strings.LastIndexAny(target, "/:"); i >= 0 {
		return target[i+1:]
	}
	return target
}

// SendSpan is the span of one send or publish call.
type SendSpan[V any] struct {
	c    *Core[V]
	span telemetry.Span
	dest string
	// Trace is the span's context, to send with the messages; not Valid
	// when tracing is off.
	Trace telemetry.Context
}

// StartSend starts the producer span of op (operation name opName: "send",
// "publish") to target, for n messages (0: a single-message call).
func (c *Core[V]) StartSend(ctx context.Context, op, opName, target string, n int) (context.Context, *SendSpan[V]) {
	dest := Destination(target)
	s := &SendSpan[V]{c: c, dest: dest}
	if !c.Tracer.Enabled() {
		return ctx, s
	}
	ctx, s.span = c.Tracer.Start(ctx, opName+" "+dest, tracing.SpanKindProducer,
		telemetry.AttrSystem, c.system(), telemetry.AttrDestination, dest,
		telemetry.AttrOperationName, opName, telemetry.AttrOperationType, telemetry.OpTypeSend,
		telemetry.AttrOperation, op)
	if n > 0 {
		s.span.Int(telemetry.AttrBatchCount, int64(n))
	}
	s.Trace = s.span.TraceContext()
	return ctx, s
}

// WithTraceparent returns attrs with a traceparent attribute carrying the
// span's context, in a new map, when the client propagates it, the span
// has a context, the caller did not set one, and the message has room for
// it (at most MaxAttributes-2 attributes, so that an offloaded message
// still fits its size attribute). Otherwise it returns attrs.
func (s *SendSpan[V]) WithTraceparent(attrs map[string]V) map[string]V {
	if !s.c.Traceparent || !s.Trace.Valid() || len(attrs) > s.c.MaxAttributes-2 {
		return attrs
	}
	if _, ok := attrs[telemetry.TraceparentAttribute]; ok {
		return attrs
	}
	out := make(map[string]V, len(attrs)+1)
	maps.Copy(out, attrs)
	out[telemetry.TraceparentAttribute] = s.c.String(s.Trace.Traceparent())
	return out
}

// End ends the span of a single-message call that returned err, whose
// output's metadata is md (nil on error) and message id id, and counts the
// message sent.
func (s *SendSpan[V]) End(ctx context.Context, md *middleware.Metadata, id *string, err error) {
	if md != nil {
		m, _ := Metadata(*md)
		s.c.Metrics.Sent(ctx, s.c.system(), s.dest, m.Offloaded, 1)
		if s.span.Recording() {
			s.setMetadata(m)
			if id != nil {
				s.span.Str(telemetry.AttrMessageID, *id)
			}
		}
	}
	s.end(err)
}

// EndBatch ends the span of a batch call that returned err, whose output's
// metadata is md (nil on error), and counts the entries sent.
func (s *SendSpan[V]) EndBatch(ctx context.Context, md *middleware.Metadata, err error) {
	if md != nil {
		var inline, offloaded int
		var bytes int64
		for _, m := range BatchMetadata(*md) {
			if m.Offloaded {
				offloaded++
				bytes += m.Size
			} else {
				inline++
			}
		}
		s.c.Metrics.Sent(ctx, s.c.system(), s.dest, false, inline)
		s.c.Metrics.Sent(ctx, s.c.system(), s.dest, true, offloaded)
		s.span.Int(telemetry.AttrOffloadedCount, int64(offloaded))
		s.span.Int(telemetry.AttrPayloadBytes, bytes)
	}
	s.end(err)
}

func (s *SendSpan[V]) setMetadata(m payload.OffloadMetadata) {
	s.span.Bool(telemetry.AttrOffloaded, m.Offloaded)
	s.span.Int(telemetry.AttrBodySize, m.Size)
	if m.Offloaded {
		s.span.Str(telemetry.AttrBucket, m.Pointer.Bucket)
		s.span.Str(telemetry.AttrKey, m.Pointer.Key)
		s.span.Int(telemetry.AttrPayloadBytes, m.Size)
	}
}

func (s *SendSpan[V]) end(err error) {
	var ke *payload.KeptError
	if errors.As(err, &ke) && s.span.Recording() {
		s.span.Event(telemetry.EventKept, telemetry.AttrOperation, ke.Op,
			telemetry.AttrAmbiguous, ke.Ambiguous, telemetry.AttrPayloadCount, int64(len(ke.Pointers)))
	}
	s.span.EndErr(err, ErrorType)
}

// ErrorType returns the error.type of a send's error: the code of an
// *payload.InputError's problem, else what telemetry.ErrorType says.
func ErrorType(err error) string {
	var ie *payload.InputError
	if errors.As(err, &ie) {
		return payload.CodeFor(ie.Err)
	}
	return telemetry.ErrorType(err)
}
