package consumer

import (
	"fmt"
	"time"
)

// Hooks receive what a Consumer does and what fails, for logs and metrics.
// Each is optional. They are called synchronously from the Consumer's
// goroutines, possibly at the same time: they must be safe for concurrent
// use and return quickly.
type Hooks struct {
	// OnError is called for every failure the Consumer handles itself
	// instead of returning it from Run: a failed handler, a receive that
	// failed (retried with a backoff), an acknowledgement or visibility
	// change that SQS refused, a payload that could not be resolved.
	OnError func(err *Error)

	// OnEvent is called at each step of a message's life (see EventType).
	OnEvent func(e Event)
}

// Error is a failure reported to Hooks.OnError.
//
//	o.Hooks.OnError = func(err *consumer.Error) {
//		slog.Warn("consumer", "op", err.Op, "message", err.MessageID, "code", err.Code, "error", err.Err)
//	}
type Error struct {
	// Op is what failed: OpReceive, OpHandler, OpAck, OpVisibility or
	// OpPayload.
	Op string
	// MessageID names the message, if the failure concerns one.
	MessageID string
	// Code classifies the failure where SQS or sqsx gives a code: the code
	// of a failed batch entry, or for OpPayload an sqsx Code constant such
	// as sqsx.CodePayloadNotFound.
	Code string
	// Err is the failure. For OpHandler it is what the handler returned
	// (or a *PanicError).
	Err error
}

// Ops of an Error.
const (
	OpReceive    = "ReceiveMessage"
	OpHandler    = "Handler"
	OpAck        = "DeleteMessageBatch"
	OpVisibility = "ChangeMessageVisibilityBatch"
	OpPayload    = "Payload"
)

func (e *Error) Error() string {
	s := "consumer: " + e.Op
	if e.MessageID != "" {
		s += " " + e.MessageID
	}
	if e.Code != "" {
		s += " (" + e.Code + ")"
	}
	return s + ": " + fmt.Sprint(e.Err)
}

// Unwrap returns the failure.
func (e *Error) Unwrap() error { return e.Err }

// PanicError is the error of a handler that panicked: the Consumer recovers
// the panic and treats it as a failure of that message.
type PanicError struct {
	// Value is what the handler panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("handler panicked: %v", e.Value) }

// EventType is the kind of an Event.
type EventType int

const (
	// EventReceived: the message was received.
	EventReceived EventType = iota + 1
	// EventStarted: its handler started.
	EventStarted
	// EventSucceeded: its handler returned nil.
	EventSucceeded
	// EventFailed: its handler failed (Err).
	EventFailed
	// EventAcked: SQS confirmed its deletion.
	EventAcked
	// EventRetry: it was made visible again after Visibility (its
	// handler failed).
	EventRetry
	// EventReleased: it was made visible again at once, unhandled
	// (shutdown, or an earlier message of its FIFO group failed).
	EventReleased
	// EventExtended: the heartbeat extended its visibility by Visibility.
	EventExtended
	// EventExtensionCapped: the heartbeat stopped extending it, because
	// MaxExtension is reached.
	EventExtensionCapped
	// EventUnresolved: its payload could not be resolved; it was left in
	// the queue or deleted, as the sqsx Client's Unresolved policy says
	// (Err is the reason).
	EventUnresolved
)

var eventNames = map[EventType]string{
	EventReceived: "received", EventStarted: "started", EventSucceeded: "succeeded",
	EventFailed: "failed", EventAcked: "acked", EventRetry: "retry", EventReleased: "released",
	EventExtended: "extended", EventExtensionCapped: "extension-capped", EventUnresolved: "unresolved",
}

func (t EventType) String() string {
	if s, ok := eventNames[t]; ok {
		return s
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is one step of a message's life, reported to Hooks.OnEvent.
type Event struct {
	Type      EventType
	MessageID string
	// Visibility is the visibility timeout set, for EventRetry and
	// EventExtended.
	Visibility time.Duration
	// Err is the failure, for EventFailed and EventUnresolved.
	Err error
}

func (h *Hooks) event(t EventType, id string, vis time.Duration, err error) {
	if h.OnEvent != nil {
		h.OnEvent(Event{Type: t, MessageID: id, Visibility: vis, Err: err})
	}
}

func (h *Hooks) error(op, id, code string, err error) {
	if h.OnError != nil {
		h.OnError(&Error{Op: op, MessageID: id, Code: code, Err: err})
	}
}
