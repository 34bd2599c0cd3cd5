package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
)

// What consume reports: a line per message (text or JSON), warnings and
// the summary.

// consumeJSON is one message as sqsx consume --output json prints it, once
// SQS has its outcome.
type consumeJSON struct {
	MessageID string `json:"MessageId"`
	// Outcome is acknowledged (deleted), retry (visible again after
	// RetryAfter), released (visible again at once, not run), unresolved
	// (its payload could not be read) or error (the deletion or the
	// visibility change failed).
	Outcome      string
	ReceiveCount int    `json:",omitempty"`
	Size         int64  `json:",omitempty"`
	ExitCode     *int   `json:",omitempty"`
	Signal       string `json:",omitempty"`
	DurationMS   *int64 `json:"DurationMs,omitempty"`
	RetryAfter   *int   `json:"RetryAfterSeconds,omitempty"`
	ErrorCode    string `json:",omitempty"`
	Error        string `json:",omitempty"`
}

// takeRun returns and forgets what the command of message id did, or nil.
func (s *consumeSession) takeRun(id string) *commandRun {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	r := s.runs[id]
	delete(s.runs, id)
	return r
}

func (r *commandRun) json(id, outcome string) consumeJSON {
	j := consumeJSON{MessageID: id, Outcome: outcome}
	if r != nil {
		ms := r.took.Milliseconds()
		j.ReceiveCount, j.Size, j.ExitCode, j.Signal, j.DurationMS = r.receiveCount, r.size, r.exitCode, r.signal, &ms
		if r.err != nil {
			j.Error = r.err.Error()
		}
	}
	return j
}

func (s *consumeSession) onEvent(e consumer.Event) {
	switch e.Type {
	case consumer.EventAcked:
		s.acked.Add(1)
		if r := s.takeRun(e.MessageID); r != nil {
			s.emit(r.json(e.MessageID, "acknowledged"))
		}
	case consumer.EventRetry:
		s.retried.Add(1)
		r := s.takeRun(e.MessageID)
		secs := int(e.Visibility / time.Second)
		j := r.json(e.MessageID, "retry")
		j.RetryAfter = &secs
		s.emit(j)
		why := "not run"
		if r != nil && r.err != nil {
			why = r.err.Error()
		}
		s.warnf("message %s: %s; it is delivered again in %v", e.MessageID, why, e.Visibility)
	case consumer.EventReleased:
		s.released.Add(1)
		s.emit(consumeJSON{MessageID: e.MessageID, Outcome: "released"})
	}
}

func (s *consumeSession) onError(e *consumer.Error) {
	switch e.Op {
	case consumer.OpHandler:
		// Reported with its retry.
	case consumer.OpPayload:
		s.unread.Add(1)
		s.emit(consumeJSON{MessageID: e.MessageID, Outcome: "unresolved", ErrorCode: e.Code, Error: e.Err.Error()})
		what := "left in the queue, for its redrive policy"
		if e.Code == sqsx.CodePayloadNotFound {
			what = "deleted: its payload no longer exists, so it was handled before or expired"
		}
		msg, _ := describe(e.Err)
		s.warnf("message %s: its body cannot be read: %s; the message is %s", e.MessageID, msg, what)
	case consumer.OpAck, consumer.OpVisibility:
		what := "deleting"
		if e.Op == consumer.OpVisibility {
			what = "changing the visibility of"
		}
		if e.MessageID == "" {
			s.warnf("%s messages: %v", what, e.Err)
			return
		}
		j := s.takeRun(e.MessageID).json(e.MessageID, "error")
		j.ErrorCode, j.Error = e.Code, e.Err.Error()
		s.emit(j)
		s.warnf("%s message %s failed: %v; it is delivered again after its visibility timeout", what, e.MessageID, e.Err)
	default:
		msg, _ := describe(e.Err)
		s.warnf("%s failed, retrying: %s", e.Op, msg)
	}
}

// emit writes v as a line of JSON with --output json.
func (s *consumeSession) emit(v consumeJSON) {
	if !s.u.json {
		return
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.emit(v)
}

func (s *consumeSession) notef(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.notef(format, args...)
}

func (s *consumeSession) warnf(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.warnf(format, args...)
}

// summary says what was done, unless --quiet or --output json.
func (s *consumeSession) summary() {
	started := int(s.started.Load())
	var b strings.Builder
	fmt.Fprintf(&b, "sqsx consume: stopped; ran the command for %s", plural(started, "message"))
	if started > 0 {
		fmt.Fprintf(&b, " (%d exited 0, %d failed)", s.succeeded.Load(), s.failed.Load())
	}
	fmt.Fprintf(&b, "; %d acknowledged, %d to be retried after the backoff", s.acked.Load(), s.retried.Load())
	if n := s.released.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d given back unstarted", n)
	}
	if n := s.unread.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d whose body could not be read", n)
	}
	s.notef("%s\n", b.String())
}
