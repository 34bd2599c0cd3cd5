package sqsxotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"

	sqsxotel "github.com/sqsx/sqsx/otel"
)

// pipeline is an OpenTelemetry SDK setup that keeps what it records in
// memory: the spans ended, and the metrics on demand.
type pipeline struct {
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
	tp     tracing.TracerProvider
	mp     metrics.MeterProvider
	otelTP *sdktrace.TracerProvider
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		tp.Shutdown(context.Background())
		mp.Shutdown(context.Background())
	})
	return &pipeline{spans: rec, reader: reader, tp: sqsxotel.TracerProvider(tp), mp: sqsxotel.MeterProvider(mp), otelTP: tp}
}

// ended returns the spans ended so far, in the order they ended.
func (p *pipeline) ended() []sdktrace.ReadOnlySpan { return p.spans.Ended() }

// span returns the one ended span named name, failing t if there is not
// exactly one.
func (p *pipeline) span(t *testing.T, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	var found []sdktrace.ReadOnlySpan
	for _, s := range p.ended() {
		if s.Name() == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("expect one span %q, got %d (spans: %v)", name, len(found), names(p.ended()))
	}
	return found[0]
}

// children returns the ended spans whose parent is parent.
func (p *pipeline) children(parent sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range p.ended() {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.Parent().TraceID() == parent.SpanContext().TraceID() {
			out = append(out, s)
		}
	}
	return out
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name()
	}
	return out
}

// attrs returns the attributes of s by key.
func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	out := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value
	}
	return out
}

// expectAttrs fails t for each of want that s does not have with that value
// (compared by their string form).
func expectAttrs(t *testing.T, s sdktrace.ReadOnlySpan, want map[string]any) {
	t.Helper()
	got := attrs(s)
	for k, v := range want {
		g, ok := got[attribute.Key(k)]
		if !ok {
			t.Errorf("span %q: expect attribute %s=%v, it has none (%v)", s.Name(), k, v, s.Attributes())
			continue
		}
		if g.String() != attribute.StringValue(toString(v)).String() {
			t.Errorf("span %q: expect %s=%v, got %v", s.Name(), k, v, g.String())
		}
	}
}

func toString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return attribute.BoolValue(v).String()
	case int:
		return attribute.IntValue(v).String()
	case int64:
		return attribute.Int64Value(v).String()
	}
	panic("unsupported attribute value in a test")
}

// collect returns the metrics recorded so far.
func (p *pipeline) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := p.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

// find returns the metric named name, or fails t.
func find(t *testing.T, rm metricdata.ResourceMetrics, name string) metricdata.Metrics {
	t.Helper()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m
			}
		}
	}
	t.Fatalf("expect metric %s, not recorded", name)
	return metricdata.Metrics{}
}

// matches reports whether set has every pair of want.
func matches(set attribute.Set, want map[string]any) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != toString(v) {
			return false
		}
	}
	return true
}

// sum returns the sum of the data points of the counter or up-down counter
// name whose attributes match want.
func sum(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]any) int64 {
	t.Helper()
	var n int64
	switch d := find(t, rm, name).Data.(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			if matches(dp.Attributes, want) {
				n += dp.Value
			}
		}
	default:
		t.Fatalf("metric %s is a %T, not an int64 sum", name, d)
	}
	return n
}

// count returns the number of measurements of the histogram name whose
// attributes match want, and their sum.
func count(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]any) (n uint64, total float64) {
	t.Helper()
	switch d := find(t, rm, name).Data.(type) {
	case metricdata.Histogram[float64]:
		for _, dp := range d.DataPoints {
			if matches(dp.Attributes, want) {
				n += dp.Count
				total += dp.Sum
			}
		}
	case metricdata.Histogram[int64]:
		for _, dp := range d.DataPoints {
			if matches(dp.Attributes, want) {
				n += dp.Count
				total += float64(dp.Sum)
			}
		}
	default:
		t.Fatalf("metric %s is a %T, not a histogram", name, d)
	}
	return n, total
}
