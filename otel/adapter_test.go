package sqsxotel_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/trace"
)

func withAttr(k, v string) metrics.RecordMetricOption {
	return func(o *metrics.RecordMetricOptions) { o.Properties.Set(k, v) }
}

func unit(u string) metrics.InstrumentOption {
	return func(o *metrics.InstrumentOptions) { o.UnitLabel, o.Description = u, "a test instrument" }
}

// TestMeterInstruments records through every kind of smithy instrument and
// reads the values back from the OpenTelemetry SDK.
func TestMeterInstruments(t *testing.T) {
	p := newPipeline(t)
	m := p.mp.Meter("test")
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ic, err := m.Int64Counter("ic", unit("{x}"))
	must(err)
	ic.Add(ctx, 2, withAttr("k", "a"))
	ic.Add(ctx, 3, withAttr("k", "b"))
	iu, err := m.Int64UpDownCounter("iu")
	must(err)
	iu.Add(ctx, 5)
	iu.Add(ctx, -2)
	ih, err := m.Int64Histogram("ih")
	must(err)
	ih.Record(ctx, 7)
	ig, err := m.Int64Gauge("ig")
	must(err)
	ig.Sample(ctx, 9)
	fc, err := m.Float64Counter("fc")
	must(err)
	fc.Add(ctx, 1.5)
	fu, err := m.Float64UpDownCounter("fu")
	must(err)
	fu.Add(ctx, -1.5)
	fh, err := m.Float64Histogram("fh", unit("s"))
	must(err)
	fh.Record(ctx, 0.25)
	fh.Record(ctx, 0.75)
	fg, err := m.Float64Gauge("fg")
	must(err)
	fg.Sample(ctx, 2.5)
	ag, err := m.Int64AsyncGauge("ag", func(ctx context.Context, o metrics.Int64Observer) { o.Observe(ctx, 42, withAttr("k", "async")) })
	must(err)
	fag, err := m.Float64AsyncCounter("fag", func(ctx context.Context, o metrics.Float64Observer) { o.Observe(ctx, 4.5) })
	must(err)

	rm := p.collect(t)
	if n := sum(t, rm, "ic", map[string]any{"k": "b"}); n != 3 {
		t.Errorf("ic{k=b}: expect 3, got %d", n)
	}
	if got := find(t, rm, "ic"); got.Unit != "{x}" || got.Description != "a test instrument" {
		t.Errorf("ic: expect its unit and description, got %q, %q", got.Unit, got.Description)
	}
	if n := sum(t, rm, "iu", nil); n != 3 {
		t.Errorf("iu: expect 3, got %d", n)
	}
	if n, total := count(t, rm, "ih", nil); n != 1 || total != 7 {
		t.Errorf("ih: expect one 7, got %d, %v", n, total)
	}
	if n, total := count(t, rm, "fh", nil); n != 2 || total != 1 {
		t.Errorf("fh: expect two summing to 1, got %d, %v", n, total)
	}
	if d := find(t, rm, "ig").Data.(metricdata.Gauge[int64]); d.DataPoints[0].Value != 9 {
		t.Errorf("ig: expect 9, got %v", d.DataPoints)
	}
	if d := find(t, rm, "fg").Data.(metricdata.Gauge[float64]); d.DataPoints[0].Value != 2.5 {
		t.Errorf("fg: expect 2.5, got %v", d.DataPoints)
	}
	if d := find(t, rm, "fc").Data.(metricdata.Sum[float64]); d.DataPoints[0].Value != 1.5 || !d.IsMonotonic {
		t.Errorf("fc: expect a monotonic 1.5, got %+v", d)
	}
	if d := find(t, rm, "fu").Data.(metricdata.Sum[float64]); d.DataPoints[0].Value != -1.5 || d.IsMonotonic {
		t.Errorf("fu: expect a non-monotonic -1.5, got %+v", d)
	}
	if d := find(t, rm, "ag").Data.(metricdata.Gauge[int64]); len(d.DataPoints) != 1 || d.DataPoints[0].Value != 42 || !matches(d.DataPoints[0].Attributes, map[string]any{"k": "async"}) {
		t.Errorf("ag: expect 42{k=async}, got %v", d.DataPoints)
	}
	if d := find(t, rm, "fag").Data.(metricdata.Sum[float64]); d.DataPoints[0].Value != 4.5 {
		t.Errorf("fag: expect 4.5, got %v", d.DataPoints)
	}

	// Stopped, an async instrument is no longer observed.
	ag.Stop()
	fag.Stop()
	rm = p.collect(t)
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == "ag" && len(d.DataPoints) != 0 {
				t.Errorf("ag: expect no observation after Stop, got %v", d.DataPoints)
			}
		}
	}
}

// TestTracerSpans checks the span mapping: kinds, properties, events,
// status, and the link (and parent) made from a traceparent property.
func TestTracerSpans(t *testing.T) {
	p := newPipeline(t)
	tr := p.tp.Tracer("test")
	ctx := context.Background()
	const remote = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ctx, s := tr.StartSpan(ctx, "process q", func(o *tracing.SpanOptions) {
		o.Kind = tracing.SpanKindConsumer
		o.Properties.Set("messaging.system", "aws_sqs")
		o.Properties.Set("sqsx.link.traceparent", remote)
	})
	s.SetProperty("n", int64(3))
	s.AddEvent("exception", func(o *tracing.EventOptions) { o.Properties.Set("exception.message", errors.New("boom").Error()) })
	s.SetStatus(tracing.SpanStatusError)
	if sc := s.Context(); sc.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("expect the producer's trace continued, got trace %s", sc.TraceID)
	}
	_, child := tr.StartSpan(ctx, "child", func(o *tracing.SpanOptions) { o.Properties.Set("sqsx.link.traceparent", remote) })
	child.End()
	s.End()

	got := p.span(t, "process q")
	if got.SpanKind() != trace.SpanKindConsumer || got.Status().Code != codes.Error {
		t.Errorf("expect a consumer span with an error status, got %v, %v", got.SpanKind(), got.Status())
	}
	if got.Parent().SpanID().String() != "00f067aa0ba902b7" || !got.Parent().IsRemote() {
		t.Errorf("expect the remote producer as parent of a span without one, got %v", got.Parent())
	}
	if len(got.Links()) != 1 || got.Links()[0].SpanContext.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("expect a link to the producer, got %v", got.Links())
	}
	if _, ok := attrs(got)["sqsx.link.traceparent"]; ok {
		t.Errorf("expect the traceparent property turned into a link, not kept as an attribute")
	}
	expectAttrs(t, got, map[string]any{"messaging.system": "aws_sqs", "n": int64(3)})
	if len(got.Events()) != 1 || got.Events()[0].Name != "exception" {
		t.Errorf("expect the exception event, got %v", got.Events())
	}
	c := p.span(t, "child")
	if c.Parent().SpanID() != got.SpanContext().SpanID() || len(c.Links()) != 1 {
		t.Errorf("expect a span that has a parent to keep it and only link the producer, got parent %v, links %v", c.Parent(), c.Links())
	}
}
