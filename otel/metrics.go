package sqsxotel

import (
	"context"

	"github.com/aws/smithy-go/metrics"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// MeterProvider adapts an OpenTelemetry meter provider to smithy-go's
// metrics.MeterProvider, the interface that sqsx, snsx, the consumer,
// payload.Store and the AWS SDK's clients take as Options.MeterProvider.
// Every smithy instrument maps to the OpenTelemetry instrument of the same
// kind, with its unit and description; a measurement's properties become
// its attributes.
func MeterProvider(mp metric.MeterProvider) metrics.MeterProvider {
	return &meterProvider{mp: mp}
}

type meterProvider struct{ mp metric.MeterProvider }

func (p *meterProvider) Meter(scope string, opts ...metrics.MeterOption) metrics.Meter {
	var o metrics.MeterOptions
	for _, fn := range opts {
		fn(&o)
	}
	return &meter{m: p.mp.Meter(scope, metric.WithInstrumentationAttributes(attributes(&o.Properties)...))}
}

type meter struct{ m metric.Meter }

// instrumentConfig returns the unit and description of opts.
func instrumentConfig(opts []metrics.InstrumentOption) (unit, desc string) {
	var o metrics.InstrumentOptions
	for _, fn := range opts {
		fn(&o)
	}
	return o.UnitLabel, o.Description
}

// measurement returns the attributes of a measurement's options.
func measurement(opts []metrics.RecordMetricOption) metric.MeasurementOption {
	var o metrics.RecordMetricOptions
	for _, fn := range opts {
		fn(&o)
	}
	return metric.WithAttributeSet(attribute.NewSet(attributes(&o.Properties)...))
}

func (m *meter) Int64Counter(name string, opts ...metrics.InstrumentOption) (metrics.Int64Counter, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64Counter(name, metric.WithUnit(u), metric.WithDescription(d))
	return int64Adder(i.Add), err
}

func (m *meter) Int64UpDownCounter(name string, opts ...metrics.InstrumentOption) (metrics.Int64UpDownCounter, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64UpDownCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return int64Adder(i.Add), err
}

func (m *meter) Int64Gauge(name string, opts ...metrics.InstrumentOption) (metrics.Int64Gauge, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64Gauge(name, metric.WithUnit(u), metric.WithDescription(d))
	return int64Sampler(i.Record), err
}

func (m *meter) Int64Histogram(name string, opts ...metrics.InstrumentOption) (metrics.Int64Histogram, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64Histogram(name, metric.WithUnit(u), metric.WithDescription(d))
	return int64Recorder(i.Record), err
}

func (m *meter) Float64Counter(name string, opts ...metrics.InstrumentOption) (metrics.Float64Counter, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64Counter(name, metric.WithUnit(u), metric.WithDescription(d))
	return float64Adder(i.Add), err
}

func (m *meter) Float64UpDownCounter(name string, opts ...metrics.InstrumentOption) (metrics.Float64UpDownCounter, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64UpDownCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return float64Adder(i.Add), err
}

func (m *meter) Float64Gauge(name string, opts ...metrics.InstrumentOption) (metrics.Float64Gauge, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64Gauge(name, metric.WithUnit(u), metric.WithDescription(d))
	return float64Sampler(i.Record), err
}

func (m *meter) Float64Histogram(name string, opts ...metrics.InstrumentOption) (metrics.Float64Histogram, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64Histogram(name, metric.WithUnit(u), metric.WithDescription(d))
	return float64Recorder(i.Record), err
}

func (m *meter) Int64AsyncCounter(name string, cb metrics.Int64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64ObservableCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerInt64(i, cb, err)
}

func (m *meter) Int64AsyncUpDownCounter(name string, cb metrics.Int64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64ObservableUpDownCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerInt64(i, cb, err)
}

func (m *meter) Int64AsyncGauge(name string, cb metrics.Int64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Int64ObservableGauge(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerInt64(i, cb, err)
}

func (m *meter) Float64AsyncCounter(name string, cb metrics.Float64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64ObservableCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerFloat64(i, cb, err)
}

func (m *meter) Float64AsyncUpDownCounter(name string, cb metrics.Float64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64ObservableUpDownCounter(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerFloat64(i, cb, err)
}

func (m *meter) Float64AsyncGauge(name string, cb metrics.Float64Callback, opts ...metrics.InstrumentOption) (metrics.AsyncInstrument, error) {
	u, d := instrumentConfig(opts)
	i, err := m.m.Float64ObservableGauge(name, metric.WithUnit(u), metric.WithDescription(d))
	return m.registerFloat64(i, cb, err)
}

// registerInt64 registers cb as the callback of the observable i; Stop
// unregisters it.
func (m *meter) registerInt64(i metric.Int64Observable, cb metrics.Int64Callback, err error) (metrics.AsyncInstrument, error) {
	if err != nil {
		return nil, err
	}
	reg, err := m.m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		cb(ctx, int64Observer{o: o, i: i})
		return nil
	}, i)
	if err != nil {
		return nil, err
	}
	return registration{reg}, nil
}

func (m *meter) registerFloat64(i metric.Float64Observable, cb metrics.Float64Callback, err error) (metrics.AsyncInstrument, error) {
	if err != nil {
		return nil, err
	}
	reg, err := m.m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		cb(ctx, float64Observer{o: o, i: i})
		return nil
	}, i)
	if err != nil {
		return nil, err
	}
	return registration{reg}, nil
}

type registration struct{ r metric.Registration }

func (r registration) Stop() { _ = r.r.Unregister() }

type int64Observer struct {
	o metric.Observer
	i metric.Int64Observable
}

func (o int64Observer) Observe(_ context.Context, v int64, opts ...metrics.RecordMetricOption) {
	o.o.ObserveInt64(o.i, v, observation(opts))
}

type float64Observer struct {
	o metric.Observer
	i metric.Float64Observable
}

func (o float64Observer) Observe(_ context.Context, v float64, opts ...metrics.RecordMetricOption) {
	o.o.ObserveFloat64(o.i, v, observation(opts))
}

// observation returns the attributes of an observation's options.
func observation(opts []metrics.RecordMetricOption) metric.ObserveOption {
	var o metrics.RecordMetricOptions
	for _, fn := range opts {
		fn(&o)
	}
	return metric.WithAttributeSet(attribute.NewSet(attributes(&o.Properties)...))
}

// The synchronous instruments: an OpenTelemetry instrument's method, with
// smithy's options turned into attributes.
type (
	int64Adder      func(context.Context, int64, ...metric.AddOption)
	int64Recorder   func(context.Context, int64, ...metric.RecordOption)
	int64Sampler    func(context.Context, int64, ...metric.RecordOption)
	float64Adder    func(context.Context, float64, ...metric.AddOption)
	float64Recorder func(context.Context, float64, ...metric.RecordOption)
	float64Sampler  func(context.Context, float64, ...metric.RecordOption)
)

func (f int64Adder) Add(ctx context.Context, v int64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}

func (f int64Recorder) Record(ctx context.Context, v int64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}

func (f int64Sampler) Sample(ctx context.Context, v int64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}

func (f float64Adder) Add(ctx context.Context, v float64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}

func (f float64Recorder) Record(ctx context.Context, v float64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}

func (f float64Sampler) Sample(ctx context.Context, v float64, opts ...metrics.RecordMetricOption) {
	f(ctx, v, measurement(opts))
}
