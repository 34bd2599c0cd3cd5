package consumer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"
	"golang.org/x/sync/semaphore"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/telemetry"
)

// Tracing and metrics of a Run; docs/observability.md lists the spans and
// metrics.

// resolveTelemetry fills in the providers of o from api when it says
// which it uses (an *sqsx.Client does) and o names none.
func resolveTelemetry(api API, o *Options) {
	if tp, ok := api.(interface{ TracerProvider() tracing.TracerProvider }); ok && o.TracerProvider == nil {
		o.TracerProvider = tp.TracerProvider()
	}
	if mp, ok := api.(interface{ MeterProvider() metrics.MeterProvider }); ok && o.MeterProvider == nil {
		o.MeterProvider = mp.MeterProvider()
	}
}

// observer traces and measures the handler runs of one Run.
type observer struct {
	tracer  telemetry.Tracer
	metrics *telemetry.ConsumerMetrics
	dest    string
}

func newObserver(o *Options, queueURL string) observer {
	dest := offload.Destination(queueURL)
	return observer{tracer: telemetry.NewTracer(o.TracerProvider), metrics: telemetry.NewConsumerMetrics(o.MeterProvider, dest), dest: dest}
}

// handle runs fn, the handler call for ms, in a process span that
// continues the producer's trace, and measures it: its duration and the
// messages' age.
func (ob *observer) handle(ctx context.Context, ms []*Message, fn func(context.Context) error) error {
	if !ob.tracer.Enabled() && ob.metrics == nil {
		return fn(ctx)
	}
	start := time.Now()
	for _, m := range ms {
		ob.metrics.Age(ctx, start, sentMillis(m))
	}
	props := []any{telemetry.AttrSystem, telemetry.SystemSQS, telemetry.AttrDestination, ob.dest,
		telemetry.AttrOperationName, "process", telemetry.AttrOperationType, telemetry.OpTypeProcess}
	if len(ms) == 1 {
		props = append(props, telemetry.AttrMessageID, ms[0].ID, telemetry.AttrBodySize, ms[0].Size, telemetry.AttrOffloaded, ms[0].Offloaded)
	} else {
		props = append(props, telemetry.AttrBatchCount, int64(len(ms)))
	}
	if links := traceparents(ms); len(links) == 1 {
		props = append(props, telemetry.AttrLinkTraceparent, links[0])
	} else if len(links) > 1 {
		props = append(props, telemetry.AttrLinkTraceparent, links)
	}
	ctx, span := ob.tracer.Start(ctx, "process "+ob.dest, tracing.SpanKindConsumer, props...)
	err := fn(ctx)
	code := handlerErrorType(err)
	ob.metrics.Processed(ctx, time.Since(start), code)
	if err != nil {
		span.Fail(err, code)
	}
	span.End()
	return err
}

// traceparents returns the trace contexts the messages carry, as W3C
// traceparents.
func traceparents(ms []*Message) []string {
	var out []string
	for _, m := range ms {
		var tp string
		if v, ok := m.Raw.MessageAttributes[telemetry.TraceparentAttribute]; ok {
			tp = aws.ToString(v.StringValue)
		}
		if c, ok := telemetry.FromMessage(m.Raw.Attributes[telemetry.AWSTraceHeader], tp); ok {
			out = append(out, c.Traceparent())
		}
	}
	return out
}

// sentMillis returns m's SentTimestamp, in milliseconds since the epoch;
// 0 if SQS did not give it.
func sentMillis(m *Message) int64 {
	if !m.SentTime.IsZero() {
		return m.SentTime.UnixMilli()
	}
	n, _ := strconv.ParseInt(m.Raw.Attributes["SentTimestamp"], 10, 64)
	return n
}

// handlerErrorType returns the error.type of a handler's error: "panic"
// for a *PanicError, the context's end, else the error's Go type.
func handlerErrorType(err error) string {
	var pe *PanicError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &pe):
		return "panic"
	case errors.Is(err, context.DeadlineExceeded):
		return "DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "Canceled"
	}
	return fmt.Sprintf("%T", err)
}

// countedSem is a semaphore that also counts what is held, for the
// in-flight metrics (see ConsumerMetrics.ObserveHeld).
type countedSem struct {
	sem  *semaphore.Weighted
	held atomic.Int64
}

func newCountedSem(n int64) *countedSem { return &countedSem{sem: semaphore.NewWeighted(n)} }

func (s *countedSem) Acquire(ctx context.Context, n int64) error {
	if err := s.sem.Acquire(ctx, n); err != nil {
		return err
	}
	s.held.Add(n)
	return nil
}

func (s *countedSem) TryAcquire(n int64) bool {
	if !s.sem.TryAcquire(n) {
		return false
	}
	s.held.Add(n)
	return true
}

func (s *countedSem) Release(n int64) {
	s.held.Add(-n)
	s.sem.Release(n)
}
