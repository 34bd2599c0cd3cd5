package telemetry

import (
	"context"
	"errors"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/tracing"
)

// Tracer starts the library's spans. Its zero value (or one made from a
// no-op provider) starts none, and its spans' methods do nothing.
type Tracer struct{ t tracing.Tracer }

// NewTracer returns the tracer of tp, or a disabled one when tp is nil or
// smithy's no-op provider.
func NewTracer(tp tracing.TracerProvider) Tracer {
	if IsNopTracer(tp) {
		return Tracer{}
	}
	return Tracer{t: tp.Tracer(Scope)}
}

// IsNopTracer reports whether tp traces nothing.
func IsNopTracer(tp tracing.TracerProvider) bool {
	switch tp.(type) {
	case nil, tracing.NopTracerProvider, *tracing.NopTracerProvider:
		return true
	}
	return false
}

// Enabled reports whether the tracer records anything.
func (t Tracer) Enabled() bool { return t.t != nil }

// Start starts a span of kind named name under the span in ctx and returns
// the context that carries it. props are "key", value pairs set on the span
// as it starts (samplers see them).
func (t Tracer) Start(ctx context.Context, name string, kind tracing.SpanKind, props ...any) (context.Context, Span) {
	if t.t == nil {
		return ctx, Span{}
	}
	ctx, s := t.t.StartSpan(ctx, name, func(o *tracing.SpanOptions) {
		o.Kind = kind
		for i := 0; i+1 < len(props); i += 2 {
			o.Properties.Set(props[i], props[i+1])
		}
	})
	if r, ok := s.(interface{ IsRecording() bool }); ok && !r.IsRecording() {
		return ctx, Span{s: s, quiet: true}
	}
	return ctx, Span{s: s}
}

// Span is one of the library's spans. The zero Span does nothing.
type Span struct {
	s tracing.Span
	// quiet: the span records nothing (not sampled), so attributes are not
	// worth building; it must still be ended.
	quiet bool
}

// Recording reports whether attributes set on the span are kept: callers
// test it before building costly ones.
func (s Span) Recording() bool { return s.s != nil && !s.quiet }

// Str sets a string attribute.
func (s Span) Str(k, v string) {
	if s.Recording() {
		s.s.SetProperty(k, v)
	}
}

// Int sets an integer attribute.
func (s Span) Int(k string, v int64) {
	if s.Recording() {
		s.s.SetProperty(k, v)
	}
}

// Bool sets a boolean attribute.
func (s Span) Bool(k string, v bool) {
	if s.Recording() {
		s.s.SetProperty(k, v)
	}
}

// Event adds an event with "key", value pairs.
func (s Span) Event(name string, props ...any) {
	if !s.Recording() {
		return
	}
	s.s.AddEvent(name, func(o *tracing.EventOptions) {
		for i := 0; i+1 < len(props); i += 2 {
			o.Properties.Set(props[i], props[i+1])
		}
	})
}

// Fail records err on the span: its status, error.type (code, the typed
// error's code) and an "exception" event, the form OpenTelemetry's
// RecordError gives it. A nil err does nothing.
func (s Span) Fail(err error, code string) {
	if err == nil || s.s == nil {
		return
	}
	s.s.SetStatus(tracing.SpanStatusError)
	if s.quiet {
		return
	}
	s.s.SetProperty(AttrErrorType, code)
	s.s.AddEvent("exception", func(o *tracing.EventOptions) {
		o.Properties.Set("exception.type", code)
		o.Properties.Set("exception.message", err.Error())
	})
}

// End ends the span.
func (s Span) End() {
	if s.s != nil {
		s.s.End()
	}
}

// EndErr records err (see Fail), with code computed only when there is an
// error, and ends the span.
func (s Span) EndErr(err error, code func(error) string) {
	if err != nil && s.s != nil {
		s.Fail(err, code(err))
	}
	s.End()
}

// TraceContext returns the span's context as a W3C traceparent, "" when the
// span has none (disabled tracing, an adapter that gives no ids).
func (s Span) TraceContext() Context {
	if s.s == nil {
		return Context{}
	}
	sc := s.s.Context()
	c := Context{TraceID: sc.TraceID, SpanID: sc.SpanID}
	if smp, ok := s.s.(interface{ IsSampled() bool }); ok {
		c.Sampled, c.SampledKnown = smp.IsSampled(), true
	} else {
		// Without the adapter's word, a recording span is taken as sampled.
		c.Sampled, c.SampledKnown = !s.quiet, false
	}
	if !c.Valid() {
		return Context{}
	}
	return c
}

// ErrorType returns the error.type of err: the code of an API error (the
// service's, as smithy.APIError gives it), "Canceled" or "DeadlineExceeded"
// for a context's end, else "_OTHER", the conventions' fallback.
func ErrorType(err error) string {
	var ae smithy.APIError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae):
		return ae.ErrorCode()
	case errors.Is(err, context.Canceled):
		return "Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	}
	return "_OTHER"
}
