package telemetry

import (
	"context"
	"time"

	"github.com/aws/smithy-go/metrics"
)

// IsNopMeter reports whether mp measures nothing.
func IsNopMeter(mp metrics.MeterProvider) bool {
	switch mp.(type) {
	case nil, metrics.NopMeterProvider, *metrics.NopMeterProvider:
		return true
	}
	return false
}

// Metrics are the instruments of the send and receive paths. A nil
// *Metrics records nothing.
type Metrics struct {
	sent             metrics.Int64Counter
	uploadedBytes    metrics.Int64Counter
	downloadedBytes  metrics.Int64Counter
	uploadDuration   metrics.Float64Histogram
	downloadDuration metrics.Float64Histogram
	resolveFailures  metrics.Int64Counter
	orphans          metrics.Int64Counter
	deleted          metrics.Int64Counter
}

// NewMetrics returns the instruments of mp, or nil when mp is nil or
// smithy's no-op provider. An instrument the meter fails to make is
// replaced by a no-op one: telemetry never fails a client's construction.
func NewMetrics(mp metrics.MeterProvider) *Metrics {
	if IsNopMeter(mp) {
		return nil
	}
	m := mp.Meter(Scope)
	return &Metrics{
		sent:             counter(m, MetricSent, "{message}", "Messages sent or published, inline or offloaded to S3 (sqsx.offloaded)."),
		uploadedBytes:    counter(m, MetricUploadedBytes, "By", "Payload bytes stored in S3."),
		downloadedBytes:  counter(m, MetricDownloadedBytes, "By", "Payload bytes read from S3."),
		uploadDuration:   histogram(m, MetricUploadDuration, "s", "Duration of payload uploads to S3."),
		downloadDuration: histogram(m, MetricDownloadDuration, "s", "Duration of payload downloads from S3."),
		resolveFailures:  counter(m, MetricResolveFailures, "{message}", "Received messages whose payload could not be resolved, by reason (error.type)."),
		orphans:          counter(m, MetricOrphans, "{object}", "Payload objects a failed call left in S3 (kept on purpose after an ambiguous failure, or whose clean-up failed)."),
		deleted:          counter(m, MetricDeleted, "{object}", "Payload objects deleted from S3."),
	}
}

func counter(m metrics.Meter, name, unit, desc string) metrics.Int64Counter {
	c, err := m.Int64Counter(name, instrument(unit, desc))
	if err != nil || c == nil {
		c, _ = metrics.NopMeter{}.Int64Counter(name)
	}
	return c
}

func histogram(m metrics.Meter, name, unit, desc string) metrics.Float64Histogram {
	h, err := m.Float64Histogram(name, instrument(unit, desc))
	if err != nil || h == nil {
		h, _ = metrics.NopMeter{}.Float64Histogram(name)
	}
	return h
}

func intHistogram(m metrics.Meter, name, unit, desc string) metrics.Int64Histogram {
	h, err := m.Int64Histogram(name, instrument(unit, desc))
	if err != nil || h == nil {
		h, _ = metrics.NopMeter{}.Int64Histogram(name)
	}
	return h
}

func instrument(unit, desc string) metrics.InstrumentOption {
	return func(o *metrics.InstrumentOptions) { o.UnitLabel, o.Description = unit, desc }
}

// attrs returns the option that sets "key", value pairs on a measurement.
func attrs(kv ...any) metrics.RecordMetricOption {
	return func(o *metrics.RecordMetricOptions) {
		for i := 0; i+1 < len(kv); i += 2 {
			o.Properties.Set(kv[i], kv[i+1])
		}
	}
}

// Sent counts n messages sent to destination of system, inline or
// offloaded.
func (m *Metrics) Sent(ctx context.Context, system, destination string, offloaded bool, n int) {
	if m == nil || n == 0 {
		return
	}
	m.sent.Add(ctx, int64(n), attrs(AttrSystem, system, AttrDestination, destination, AttrOffloaded, offloaded))
}

// Uploaded records an upload of n bytes to bucket that took d (failed: err
// not nil, with its code).
func (m *Metrics) Uploaded(ctx context.Context, bucket string, n int64, d time.Duration, errType string) {
	if m == nil {
		return
	}
	transferred(ctx, m.uploadedBytes, m.uploadDuration, bucket, n, d, errType)
}

// Downloaded records a download of n bytes from bucket that took d, as
// Uploaded does.
func (m *Metrics) Downloaded(ctx context.Context, bucket string, n int64, d time.Duration, errType string) {
	if m == nil {
		return
	}
	transferred(ctx, m.downloadedBytes, m.downloadDuration, bucket, n, d, errType)
}

// transferred records a transfer of n bytes that took d: its bytes only if
// it succeeded (errType empty), its duration either way, with the error
// type if it failed.
func transferred(ctx context.Context, bytes metrics.Int64Counter, dur metrics.Float64Histogram, bucket string, n int64, d time.Duration, errType string) {
	if errType == "" {
		bytes.Add(ctx, n, attrs(AttrBucket, bucket))
		dur.Record(ctx, d.Seconds(), attrs(AttrBucket, bucket))
		return
	}
	dur.Record(ctx, d.Seconds(), attrs(AttrBucket, bucket, AttrErrorType, errType))
}

// ResolveFailed counts a message of destination whose payload could not be
// resolved, for reason (an Unresolved code).
func (m *Metrics) ResolveFailed(ctx context.Context, destination, reason string) {
	if m == nil {
		return
	}
	m.resolveFailures.Add(ctx, 1, attrs(AttrSystem, SystemSQS, AttrDestination, destination, AttrErrorType, reason))
}

// Orphans counts n payload objects that op left in S3; ambiguous says they
// were kept on purpose.
func (m *Metrics) Orphans(ctx context.Context, op string, n int, ambiguous bool) {
	if m == nil || n == 0 {
		return
	}
	m.orphans.Add(ctx, int64(n), attrs(AttrOperation, op, AttrAmbiguous, ambiguous))
}

// Deleted counts n payload objects deleted from bucket.
func (m *Metrics) Deleted(ctx context.Context, bucket string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.deleted.Add(ctx, int64(n), attrs(AttrBucket, bucket))
}

// ConsumerMetrics are the consumer's instruments. A nil *ConsumerMetrics
// records nothing.
type ConsumerMetrics struct {
	meter      metrics.Meter
	process    metrics.Float64Histogram
	ackBatch   metrics.Int64Histogram
	extensions metrics.Int64Counter
	age        metrics.Float64Histogram
	dest       metrics.RecordMetricOption
}

// NewConsumerMetrics returns the consumer's instruments of mp for the queue
// named destination, or nil when mp measures nothing.
func NewConsumerMetrics(mp metrics.MeterProvider, destination string) *ConsumerMetrics {
	if IsNopMeter(mp) {
		return nil
	}
	m := mp.Meter(Scope)
	return &ConsumerMetrics{
		meter:      m,
		process:    histogram(m, MetricProcessDuration, "s", "Duration of handler runs."),
		ackBatch:   intHistogram(m, MetricAckBatchSize, "{message}", "Entries per DeleteMessageBatch the consumer sends."),
		extensions: counter(m, MetricVisibilityExtended, "{extension}", "Visibility timeout extensions of messages in flight."),
		age:        histogram(m, MetricMessageAge, "s", "Age of a message when its handler starts: now minus its SentTimestamp."),
		dest:       attrs(AttrSystem, SystemSQS, AttrDestination, destination),
	}
}

// ObserveHeld reports, until stop is called, the messages the consumer
// holds (received and not yet handled to their outcome) and the body bytes
// it holds in memory, as messages() and bytes() say when a reader collects
// them. They are asynchronous instruments: counting them at every change
// would cost each message two measurements for a value read a few times a
// minute.
func (m *ConsumerMetrics) ObserveHeld(messages, bytes func() int64) (stop func()) {
	if m == nil {
		return func() {}
	}
	observe := func(f func() int64) metrics.Int64Callback {
		return func(ctx context.Context, o metrics.Int64Observer) { o.Observe(ctx, f(), m.dest) }
	}
	held, err1 := m.meter.Int64AsyncUpDownCounter(MetricInFlight, observe(messages), instrument("{message}",
		"Messages the consumer holds: received, and not yet handled to their outcome (prefetching, waiting for a handler, or being handled)."))
	heldBytes, err2 := m.meter.Int64AsyncUpDownCounter(MetricBytesInFlight, observe(bytes), instrument("By",
		"Body bytes the consumer holds in memory, counted against Options.MaxInFlightBytes."))
	return func() {
		if err1 == nil && held != nil {
			held.Stop()
		}
		if err2 == nil && heldBytes != nil {
			heldBytes.Stop()
		}
	}
}

// Processed records a handler run that took d and ended with outcome
// (errType: "" on success).
func (m *ConsumerMetrics) Processed(ctx context.Context, d time.Duration, errType string) {
	if m == nil {
		return
	}
	if errType == "" {
		m.process.Record(ctx, d.Seconds(), m.dest)
		return
	}
	m.process.Record(ctx, d.Seconds(), m.dest, attrs(AttrErrorType, errType))
}

// AckBatch records a DeleteMessageBatch of n entries.
func (m *ConsumerMetrics) AckBatch(ctx context.Context, n int) {
	if m == nil {
		return
	}
	m.ackBatch.Record(ctx, int64(n), m.dest)
}

// Extended counts n visibility extensions.
func (m *ConsumerMetrics) Extended(ctx context.Context, n int) {
	if m == nil || n == 0 {
		return
	}
	m.extensions.Add(ctx, int64(n), m.dest)
}

// Age records the age of a message at processing, from its SentTimestamp
// (milliseconds since the epoch, as SQS gives it); a missing or malformed
// timestamp records nothing.
func (m *ConsumerMetrics) Age(ctx context.Context, now time.Time, sentMillis int64) {
	if m == nil || sentMillis <= 0 {
		return
	}
	age := now.Sub(time.UnixMilli(sentMillis))
	if age < 0 {
		age = 0 // clocks differ; a message is not from the future
	}
	m.age.Record(ctx, age.Seconds(), m.dest)
}
