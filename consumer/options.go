package consumer

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"

	"github.com/sqsx/sqsx/payload"
)

// Defaults and limits.
const (
	// DefaultReceivers is the default number of goroutines that long-poll
	// the queue.
	DefaultReceivers = 2

	// DefaultConcurrency is the default number of handler calls that run
	// at once.
	DefaultConcurrency = 10

	// DefaultPrefetchPerHandler is the default number of messages received
	// ahead of the handlers, on top of those being handled, per unit of
	// Concurrency: by default Prefetch is 2×Concurrency.
	DefaultPrefetchPerHandler = 2

	// DefaultMaxInFlightBytes is the default bound, in bytes, on the bodies
	// a Consumer holds in memory at once, prefetched or being handled:
	// 256 MiB.
	DefaultMaxInFlightBytes = 256 << 20

	// DefaultVisibilityTimeout is the default visibility timeout asked for
	// on each receive, and the length of each heartbeat extension.
	DefaultVisibilityTimeout = 30 * time.Second

	// DefaultWaitTime is the default long-poll wait of one receive: SQS's
	// maximum.
	DefaultWaitTime = 20 * time.Second

	// DefaultAckInterval is the default longest time an acknowledgement
	// waits for others to share its DeleteMessageBatch call.
	DefaultAckInterval = time.Second

	// DefaultShutdownTimeout is the default time in-flight handlers get to
	// finish once Run's context is done.
	DefaultShutdownTimeout = 30 * time.Second

	// MaxVisibilityExtension is the longest a message can be kept
	// invisible, counted from its receive: SQS's limit of 12 hours.
	MaxVisibilityExtension = 12 * time.Hour

	// MaxBatchSize is the most messages one SQS receive, delete or
	// visibility-change call carries.
	MaxBatchSize = 10
)

// AckMode says when a handled message is acknowledged (deleted from the
// queue, with its payload).
type AckMode int

const (
	// AckOnSuccess, the default, acknowledges a message whose handler
	// returned nil. A message whose handler failed is made visible again
	// after Options.Backoff, so that it is retried and, with a redrive
	// policy, moves to the dead-letter queue on its own.
	AckOnSuccess AckMode = iota

	// AckAlways acknowledges every handled message, whatever its handler
	// returned: a failure is only reported (Hooks.OnError).
	AckAlways

	// AckManual acknowledges a message only when the handler calls
	// Message.Ack. A message whose handler failed without acknowledging it
	// is made visible again after Options.Backoff; one that is neither
	// acknowledged nor failed becomes visible again when its visibility
	// timeout ends (the heartbeat stops when the handler returns).
	AckManual
)

func (m AckMode) String() string {
	switch m {
	case AckOnSuccess:
		return "on-success"
	case AckAlways:
		return "always"
	case AckManual:
		return "manual"
	}
	return fmt.Sprintf("AckMode(%d)", int(m))
}

// Options configures a Consumer. The zero value of each field means its
// default.
type Options struct {
	// Receivers is the number of goroutines that long-poll the queue, each
	// asking for up to BatchSize messages at a time. Default:
	// DefaultReceivers.
	Receivers int

	// BatchSize is the most messages one receive asks for (1 to 10), and
	// so the largest batch a BatchHandler gets. Default: 10.
	BatchSize int

	// Concurrency bounds the handler calls that run at once (for
	// RunBatch, the batches). Default: DefaultConcurrency.
	Concurrency int

	// Prefetch is how many messages may be received ahead of the handlers,
	// on top of those being handled (for RunBatch, on top of
	// Concurrency×BatchSize). Receivers wait while the Consumer holds that
	// many: this is the back-pressure that keeps a slow handler from
	// leaving messages invisible in memory.
	//
	// A message holds its place from the receive that asks for it until
	// its handler returns, so the handlers stay busy only while Prefetch
	// covers the receive and the payload read: with Concurrency handlers
	// of duration H and a receive plus read of duration R, that takes
	// about Concurrency×R/H. The default keeps them busy up to R = 2H (in
	// AWS a receive and a GET take tens of milliseconds); a larger value
	// holds more messages invisible to other consumers of the queue, and
	// MaxInFlightBytes bounds their bodies whatever the count. Measured in
	// docs/benchmarks.md. Default: DefaultPrefetchPerHandler×Concurrency.
	Prefetch int

	// MaxInFlightBytes bounds the bytes of message bodies the Consumer
	// holds in memory at once: bodies prefetched (offloaded payloads read
	// from S3 ahead of their handler, and bodies that came inline) and
	// those whose handler is running. A payload is read only once its
	// bytes fit, so a consumer of large payloads holds at most this much,
	// whatever the count settings allow. A single body larger than the
	// bound is still handled: it waits until nothing else is held and then
	// holds the whole bound alone. RunStream reads payloads as the handler
	// consumes them and counts only inline bodies. Default:
	// DefaultMaxInFlightBytes.
	//
	// The bound is on live bodies. A body becomes garbage once its handler
	// returns, and with Go's default GOGC the heap may grow to about twice
	// what is live before the collector runs: to bound the process's
	// memory, set a memory limit (GOMEMLIMIT, or debug.SetMemoryLimit) of
	// MaxInFlightBytes plus what the rest of the program needs plus a few
	// tens of MiB, and below the RSS you must stay within, since RSS also
	// counts memory the limit does not. Measured in docs/benchmarks.md on
	// 10 MiB payloads with the default bound (256 MiB): peak RSS 250-461
	// MiB without a limit, at most 309 MiB with GOMEMLIMIT=300MiB.
	MaxInFlightBytes int64

	// MaxPayloadSize is the largest payload Run and RunBatch read into
	// memory; a larger one is treated as an unresolvable payload
	// (sqsx.CodePayloadTooLarge): it is left in the queue for its redrive
	// policy and reported. Use RunStream for larger payloads. Default:
	// payload.DefaultMaxPayloadSize (64 MiB); negative means no limit.
	MaxPayloadSize int64

	// VisibilityTimeout is the visibility timeout asked for on every
	// receive, and the length of each heartbeat extension. Whole seconds,
	// at least 1 s. Default: DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration

	// HeartbeatInterval is how often the visibility of held messages is
	// checked; a message is extended (by VisibilityTimeout, from then) once
	// at most 2×HeartbeatInterval of its visibility is left, so at least
	// HeartbeatInterval before it would expire. At most
	// VisibilityTimeout/2. Default: VisibilityTimeout/4.
	HeartbeatInterval time.Duration

	// MaxExtension caps how long the heartbeat keeps one message
	// invisible, counted from its receive; after that the message becomes
	// visible when its last extension ends, even if its handler still
	// runs. At most MaxVisibilityExtension. Default:
	// MaxVisibilityExtension.
	MaxExtension time.Duration

	// WaitTime is the long-poll wait of a receive, in whole seconds, 0 to
	// 20 s. Default: DefaultWaitTime; set NoWait for short polling.
	WaitTime time.Duration

	// NoWait makes receives return at once (short polling) instead of
	// waiting WaitTime for messages.
	NoWait bool

	// AckMode says when a handled message is acknowledged. Default:
	// AckOnSuccess.
	AckMode AckMode

	// AckInterval is the longest an acknowledgement waits for others to
	// share its DeleteMessageBatch call (up to 10 messages); a full batch
	// goes at once. Failed messages' visibility changes are batched the
	// same way. On a FIFO queue acknowledgements go as soon as possible
	// (those pending at that moment share a call), because SQS holds back
	// a group's next messages until the earlier ones are deleted. Default:
	// DefaultAckInterval.
	AckInterval time.Duration

	// Backoff returns, for a message whose handler failed, how long it
	// stays invisible before it is retried, from its receive count (1 on
	// the first receive). It is rounded up to whole seconds and capped at
	// 12 hours. Default: ExponentialBackoff(time.Second, 15*time.Minute).
	Backoff func(receiveCount int) time.Duration

	// HandlerTimeout, if positive, bounds each handler call: its context
	// ends after that long.
	HandlerTimeout time.Duration

	// ShutdownTimeout is how long in-flight handlers get to finish once
	// Run's context is done; then their contexts are cancelled. Default:
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration

	// MessageAttributeNames are the message attributes asked for on
	// receive. Default: all ("All").
	MessageAttributeNames []string

	// Hooks receive errors and events. Default: none.
	Hooks Hooks

	// TracerProvider traces each handler run with a "process" span that
	// continues the producer's trace (its parent when the handler's context
	// has no span, and a link), read from the message's AWSTraceHeader
	// system attribute or traceparent message attribute. Default: the
	// API's, when it has a TracerProvider method (an *sqsx.Client does);
	// else none.
	TracerProvider tracing.TracerProvider

	// MeterProvider measures the messages and bytes in flight, handler
	// durations, acknowledgement batch sizes, visibility extensions and
	// the age of messages when handled (docs/observability.md). Default:
	// the API's, when it has a MeterProvider method; else none.
	MeterProvider metrics.MeterProvider
}

// ExponentialBackoff returns a Backoff that waits base after the first
// receive and doubles for each further receive, up to max.
func ExponentialBackoff(base, max time.Duration) func(receiveCount int) time.Duration {
	return func(n int) time.Duration {
		d := base
		for i := 1; i < n && d < max; i++ {
			d *= 2
		}
		return min(d, max)
	}
}

// resolveDefaults fills in zero fields.
func (o *Options) resolveDefaults() {
	if o.Receivers == 0 {
		o.Receivers = DefaultReceivers
	}
	if o.BatchSize == 0 {
		o.BatchSize = MaxBatchSize
	}
	if o.Concurrency == 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Prefetch == 0 && o.Concurrency > 0 {
		o.Prefetch = DefaultPrefetchPerHandler * o.Concurrency
	}
	if o.MaxInFlightBytes == 0 {
		o.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if o.MaxPayloadSize == 0 {
		o.MaxPayloadSize = payload.DefaultMaxPayloadSize
	}
	if o.VisibilityTimeout == 0 {
		o.VisibilityTimeout = DefaultVisibilityTimeout
	}
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = o.VisibilityTimeout / 4
	}
	if o.MaxExtension == 0 {
		o.MaxExtension = MaxVisibilityExtension
	}
	if o.WaitTime == 0 && !o.NoWait {
		o.WaitTime = DefaultWaitTime
	}
	if o.AckInterval == 0 {
		o.AckInterval = DefaultAckInterval
	}
	if o.Backoff == nil {
		o.Backoff = ExponentialBackoff(time.Second, 15*time.Minute)
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.MessageAttributeNames == nil {
		o.MessageAttributeNames = []string{"All"}
	}
}

// validate returns every problem with the resolved options, joined, each
// naming its field.
func (o *Options) validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...)))
	}
	if o.Receivers < 1 {
		bad("Receivers", "must be at least 1, is %d", o.Receivers)
	}
	if o.BatchSize < 1 || o.BatchSize > MaxBatchSize {
		bad("BatchSize", "%d is outside 1..%d", o.BatchSize, MaxBatchSize)
	}
	if o.Concurrency < 1 {
		bad("Concurrency", "must be at least 1, is %d", o.Concurrency)
	}
	if o.Prefetch < 0 {
		bad("Prefetch", "must not be negative, is %d", o.Prefetch)
	}
	if o.MaxInFlightBytes < 1 {
		bad("MaxInFlightBytes", "must be positive, is %d", o.MaxInFlightBytes)
	}
	if o.VisibilityTimeout < time.Second || o.VisibilityTimeout > MaxVisibilityExtension || o.VisibilityTimeout%time.Second != 0 {
		bad("VisibilityTimeout", "%v is not a whole number of seconds in 1s..12h", o.VisibilityTimeout)
	}
	if o.HeartbeatInterval <= 0 || o.HeartbeatInterval > o.VisibilityTimeout/2 {
		bad("HeartbeatInterval", "%v is outside (0, VisibilityTimeout/2]", o.HeartbeatInterval)
	}
	if o.MaxExtension < 0 || o.MaxExtension > MaxVisibilityExtension {
		bad("MaxExtension", "%v is outside 0..%v", o.MaxExtension, MaxVisibilityExtension)
	}
	if o.WaitTime < 0 || o.WaitTime > DefaultWaitTime || o.WaitTime%time.Second != 0 {
		bad("WaitTime", "%v is not a whole number of seconds in 0..20s", o.WaitTime)
	}
	if o.NoWait && o.WaitTime != 0 {
		bad("NoWait", "set together with WaitTime %v", o.WaitTime)
	}
	switch o.AckMode {
	case AckOnSuccess, AckAlways, AckManual:
	default:
		bad("AckMode", "unknown mode %d", int(o.AckMode))
	}
	if o.AckInterval < 0 {
		bad("AckInterval", "must not be negative, is %v", o.AckInterval)
	}
	if o.HandlerTimeout < 0 {
		bad("HandlerTimeout", "must not be negative, is %v", o.HandlerTimeout)
	}
	if o.ShutdownTimeout < 0 {
		bad("ShutdownTimeout", "must not be negative, is %v", o.ShutdownTimeout)
	}
	return errors.Join(errs...)
}
