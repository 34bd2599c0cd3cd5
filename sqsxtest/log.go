package sqsxtest

import (
	"context"
	"sync"

	"github.com/aws/smithy-go"
)

// Call is one operation recorded in a Log.
type Call struct {
	// Service is the service's SDK ServiceID: "SQS", "SNS" or "S3".
	Service string
	// Op is the operation name, e.g. "SendMessage" or "PutObject".
	Op string
	// Params is the input as the fake received it, e.g. a
	// *sqs.SendMessageInput. It is not copied.
	Params any
	// OptFns is the number of per-call option functions passed.
	OptFns int
	// Options is the sqs.Options, sns.Options or s3.Options obtained by
	// applying the per-call option functions to the zero value, so a test
	// can see that they were passed through.
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

// Calls returns the names of the recorded operations, in order; never nil.
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

// New returns an SQS fake and an S3 fake that share one new Log. Pass
// sqsFake.Log to [NewSNS] to record an SNS fake's calls there too.
func New() (*SQS, *S3) {
	log := &Log{}
	return NewSQS(log), NewS3(log)
}

// call is what every operation of every fake does around its behaviour, do:
// it records the call in log, fails if ctx is done, and lets the override
// hook answer first (a nil output and nil error from hook fall through to
// do). A nil params reaches do as the zero input. Errors from ctx and from do
// are wrapped in a *smithy.OperationError, as the SDK wraps them; the hook's
// are returned as they are.
func call[In, Out, Opts any](ctx context.Context, log *Log, service, op string, params *In, optFns []func(*Opts),
	hook func(*In) (*Out, error), do func(*In) (*Out, error)) (*Out, error) {
	var o Opts
	for _, fn := range optFns {
		fn(&o)
	}
	log.add(Call{Service: service, Op: op, Params: params, OptFns: len(optFns), Options: o})
	if err := ctx.Err(); err != nil {
		return nil, &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
	}
	if hook != nil {
		if out, err := hook(params); out != nil || err != nil {
			return out, err
		}
	}
	if params == nil {
		params = new(In)
	}
	out, err := do(params)
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: service, OperationName: op, Err: err}
	}
	return out, nil
}
