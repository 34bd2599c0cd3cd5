// Package fake provides in-memory, recording fakes of the SQS and S3 APIs
// that package sqsx uses, for tests and runnable examples.
//
// [SQS] implements sqsx.SQSAPI with a minimal in-memory queue and [S3]
// implements payload.S3API with an in-memory object store. Both record every
// operation in a [Log]; give them the same Log (see [New]) to assert the order
// of calls across the two services:
//
//	sqsFake, s3Fake := fake.New()
//	client, _ := sqsx.New(sqsFake, s3Fake, func(o *sqsx.Options) { o.Bucket = "bucket" })
//	// ... send a large message ...
//	sqsFake.Log.Calls() // ["PutObject", "SendMessage"]
//
// Each operation has an override field, such as SQS.SendMessageFn, to inject
// failures or canned results. Overrides are called after the call is recorded
// and after the context is checked; if one returns a nil output and a nil
// error, the fake goes on to do what it does by default. Errors an override
// returns are passed to the caller unchanged; errors the fakes produce
// themselves are wrapped in a *smithy.OperationError, as the SDK does.
//
// The fakes are safe for concurrent use. Set the override fields and other
// configuration before the first call.
package fake

import (
	"sync"
)

// Call is one operation recorded in a Log.
type Call struct {
	// Op is the operation name, e.g. "SendMessage" or "PutObject".
	Op string
	// Params is the input as the fake received it, e.g. a
	// *sqs.SendMessageInput. It is not copied.
	Params any
	// OptFns is the number of per-call option functions passed.
	OptFns int
	// Options is the sqs.Options or s3.Options obtained by applying the
	// per-call option functions to the zero value, so a test can see that
	// they were passed through.
	Options any
}

// Log records the operations invoked on the fakes that share it, in order.
// The zero Log is ready to use and it is safe for concurrent use.
type Log struct {
	mu    sync.Mutex
	calls []Call
}

func (l *Log) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns the names of the recorded operations, in order.
func (l *Log) Calls() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, len(l.calls))
	for i, c := range l.calls {
		names[i] = c.Op
	}
	return names
}

// Records returns a copy of the recorded calls, in order.
func (l *Log) Records() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Count returns how many times op was recorded.
func (l *Log) Count(op string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, c := range l.calls {
		if c.Op == op {
			n++
		}
	}
	return n
}

// Reset forgets every recorded call.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// Params returns the params of type T recorded in l, in order; for example
// Params[*sqs.SendMessageInput](log) returns the input of every SendMessage
// call.
func Params[T any](l *Log) []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []T
	for _, c := range l.calls {
		if p, ok := c.Params.(T); ok {
			out = append(out, p)
		}
	}
	return out
}

// New returns an SQS fake and an S3 fake that share one new Log.
func New() (*SQS, *S3) {
	log := &Log{}
	return NewSQS(log), NewS3(log)
}
