package sqsxotel

import (
	"context"
	"fmt"

	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/tracing"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sqsx/sqsx/internal/telemetry"
)

// TracerProvider adapts an OpenTelemetry tracer provider to smithy-go's
// tracing.TracerProvider, the interface that sqsx, snsx, the consumer,
// payload.Store and the AWS SDK's clients take as Options.TracerProvider.
//
// Span kinds, statuses, events and properties map one to one (a property
// becomes an attribute). A span property named "sqsx.link.traceparent"
// holding a W3C traceparent, which the consumer sets from a received
// message's trace context, becomes a link to that context, and the parent
// of the span when ctx holds no span: the messaging conventions' way to
// continue a producer's trace. Holding several traceparents (a batch
// handler's messages), it becomes a link to each, and no parent.
func TracerProvider(tp trace.TracerProvider) tracing.TracerProvider {
	return &tracerProvider{tp: tp}
}

type tracerProvider struct{ tp trace.TracerProvider }

func (p *tracerProvider) Tracer(scope string, opts ...tracing.TracerOption) tracing.Tracer {
	var o tracing.TracerOptions
	for _, fn := range opts {
		fn(&o)
	}
	return &tracer{t: p.tp.Tracer(scope, trace.WithInstrumentationAttributes(attributes(&o.Properties)...))}
}

type tracer struct{ t trace.Tracer }

func (t *tracer) StartSpan(ctx context.Context, name string, opts ...tracing.SpanOption) (context.Context, tracing.Span) {
	var o tracing.SpanOptions
	for _, fn := range opts {
		fn(&o)
	}
	start := []trace.SpanStartOption{trace.WithSpanKind(spanKind(o.Kind))}
	var remotes []string
	switch v := o.Properties.Get(telemetry.AttrLinkTraceparent).(type) {
	case string:
		remotes = []string{v}
	case []string:
		remotes = v
	}
	if remotes != nil {
		o.Properties.Set(telemetry.AttrLinkTraceparent, nil)
		var links []trace.Link
		for _, tp := range remotes {
			if remote := remoteContext(tp); remote.IsValid() {
				links = append(links, trace.Link{SpanContext: remote})
			}
		}
		start = append(start, trace.WithLinks(links...))
		if len(links) == 1 && !trace.SpanContextFromContext(ctx).IsValid() {
			ctx = trace.ContextWithRemoteSpanContext(ctx, links[0].SpanContext)
		}
	}
	start = append(start, trace.WithAttributes(attributes(&o.Properties)...))
	ctx, s := t.t.Start(ctx, name, start...)
	return ctx, &span{s: s, name: name}
}

// remoteContext returns the span context a traceparent names.
func remoteContext(traceparent string) trace.SpanContext {
	ctx := propagation.TraceContext{}.Extract(context.Background(),
		propagation.MapCarrier{"traceparent": traceparent})
	return trace.SpanContextFromContext(ctx)
}

func spanKind(k tracing.SpanKind) trace.SpanKind {
	switch k {
	case tracing.SpanKindClient:
		return trace.SpanKindClient
	case tracing.SpanKindServer:
		return trace.SpanKindServer
	case tracing.SpanKindProducer:
		return trace.SpanKindProducer
	case tracing.SpanKindConsumer:
		return trace.SpanKindConsumer
	}
	return trace.SpanKindInternal
}

// span is an OpenTelemetry span seen through smithy's interface. Besides
// it, it tells the library whether the span records (IsRecording) and is
// sampled (IsSampled), which smithy's interface does not say.
type span struct {
	s    trace.Span
	name string
}

func (s *span) Name() string { return s.name }

func (s *span) Context() tracing.SpanContext {
	sc := s.s.SpanContext()
	return tracing.SpanContext{TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(), IsRemote: sc.IsRemote()}
}

func (s *span) AddEvent(name string, opts ...tracing.EventOption) {
	var o tracing.EventOptions
	for _, fn := range opts {
		fn(&o)
	}
	s.s.AddEvent(name, trace.WithAttributes(attributes(&o.Properties)...))
}

func (s *span) SetStatus(status tracing.SpanStatus) {
	switch status {
	case tracing.SpanStatusOK:
		s.s.SetStatus(codes.Ok, "")
	case tracing.SpanStatusError:
		s.s.SetStatus(codes.Error, "")
	}
}

func (s *span) SetProperty(k, v any) {
	s.s.SetAttributes(attribute.KeyValue{Key: key(k), Value: value(v)})
}

func (s *span) End() { s.s.End() }

// IsRecording reports whether the span keeps what is set on it.
func (s *span) IsRecording() bool { return s.s.IsRecording() }

// IsSampled reports whether the span's trace is sampled.
func (s *span) IsSampled() bool { return s.s.SpanContext().IsSampled() }

// attributes returns the properties, but for those with a nil value, as
// attributes.
func attributes(p *smithy.Properties) []attribute.KeyValue {
	vs := p.Values()
	out := make([]attribute.KeyValue, 0, len(vs))
	for k, v := range vs {
		if v != nil {
			out = append(out, attribute.KeyValue{Key: key(k), Value: value(v)})
		}
	}
	return out
}

func key(k any) attribute.Key {
	if s, ok := k.(string); ok {
		return attribute.Key(s)
	}
	return attribute.Key(fmt.Sprint(k))
}

func value(v any) attribute.Value {
	switch v := v.(type) {
	case string:
		return attribute.StringValue(v)
	case bool:
		return attribute.BoolValue(v)
	case int:
		return attribute.IntValue(v)
	case int32:
		return attribute.Int64Value(int64(v))
	case int64:
		return attribute.Int64Value(v)
	case float32:
		return attribute.Float64Value(float64(v))
	case float64:
		return attribute.Float64Value(v)
	case []string:
		return attribute.StringSliceValue(v)
	case []int64:
		return attribute.Int64SliceValue(v)
	case []bool:
		return attribute.BoolSliceValue(v)
	case []float64:
		return attribute.Float64SliceValue(v)
	case fmt.Stringer:
		return attribute.StringValue(v.String())
	}
	return attribute.StringValue(fmt.Sprint(v))
}
