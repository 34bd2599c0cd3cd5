package offload

import (
	"reflect"

	"github.com/aws/smithy-go/logging"
)

// Per-call options ride in the SDK's optFns slot (func(*sqs.Options),
// func(*sns.Options)), so that the Client's methods keep the SDK's
// signatures. A client's WithOffloadOptions returns a method value of its own
// option type; the method does nothing to real SDK options, so the SDK never
// sees it as a failing option. The client's methods find their own options
// in optFns by the method's code pointer (Split), and read their settings by
// applying them to scratch SDK options whose Logger is a Sink.

// Sink collects the per-call settings of type C that a client's options
// write to it. It is the Logger of the scratch SDK options that Split's
// apply makes, and logs nothing.
type Sink[C any] struct{ C C }

// Logf does nothing.
func (*Sink[C]) Logf(logging.Classification, string, ...interface{}) {}

// Code returns the code pointer of a function: the same for every method
// value of one concrete method.
func Code(fn any) uintptr { return reflect.ValueOf(fn).Pointer() }

// Split returns optFns without the client's own options (those whose code
// pointer is code), after passing each of these to apply.
func Split[O any](optFns []func(*O), code uintptr, apply func(func(*O))) []func(*O) {
	var rest []func(*O)
	for i, fn := range optFns {
		if fn == nil || Code(fn) != code {
			if rest != nil {
				rest = append(rest, fn)
			}
			continue
		}
		if rest == nil {
			rest = append(make([]func(*O), 0, len(optFns)), optFns[:i]...)
		}
		apply(fn)
	}
	if rest == nil {
		return optFns
	}
	return rest
}

// Collect applies fns to the settings in l if l is a Sink of them: the
// body of a client's option method.
func Collect[C any](l logging.Logger, fns []func(*C)) {
	if sink, ok := l.(*Sink[C]); ok {
		for _, fn := range fns {
			fn(&sink.C)
		}
	}
}
