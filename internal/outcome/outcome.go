// Package outcome tells whether a failed AWS call may still have taken
// effect.
//
// A call that failed is either a definite rejection (the service answered
// with a 4xx, or no request was written) or ambiguous: a 5xx, a connection
// reset or a timeout after the request was written, a response that could
// not be read, or the caller's deadline may each hide a request the service
// acted on. The SDK's retryer makes this per call, not per request: one
// SendMessage may write three requests, the first two of which landed. A
// Tracker, installed on a call through the client's APIOptions, watches every
// attempt, so that the caller can decide from all of them.
//
// The rule the library follows: undo (delete an uploaded payload, abort an
// upload) only after a definite rejection; after an ambiguous failure leave
// the object and say so, since a payload under a live message is data loss
// and an orphan is only storage that a lifecycle rule removes.
package outcome

import (
	"context"
	"errors"
	"net"
	"net/http/httptrace"
	"sync"
	"sync/atomic"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Tracker records the attempts of one SDK call. Use a new Tracker per call;
// its zero value is ready. It is safe for concurrent use, as the SDK may
// call it from the goroutine of each attempt.
type Tracker struct {
	mu        sync.Mutex
	started   bool // the SDK ran the call's middleware stack
	attempts  int  // attempts that reached the retry loop
	uncertain int  // attempts that may have taken effect (a success counts)
}

// Install adds the tracker to an SDK middleware stack. Append it to the
// APIOptions of one call, for example
//
//	func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, t.Install) }
func (t *Tracker) Install(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("sqsxOutcomeStart",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			t.mu.Lock()
			t.started = true
			t.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.Before); err != nil {
		return err
	}
	attempt := middleware.FinalizeMiddlewareFunc("sqsxOutcomeAttempt",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			// Whether any of the request reached the connection decides an
			// attempt that got no response.
			var wrote atomic.Bool
			ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				WroteHeaders: func() { wrote.Store(true) },
			})
			out, md, err := next.HandleFinalize(ctx, in)
			resp, _ := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
			landed := err == nil
			if !landed {
				if resp != nil && resp.Response != nil && resp.StatusCode != 0 {
					landed = mayHaveLanded(err)
				} else {
					landed = wrote.Load()
				}
			}
			t.mu.Lock()
			t.attempts++
			if landed {
				t.uncertain++
			}
			t.mu.Unlock()
			return out, md, err
		})
	// Right after the retry middleware, so that it sees every attempt.
	if err := stack.Finalize.Insert(attempt, "Retry", middleware.After); err != nil {
		return stack.Finalize.Add(attempt, middleware.Before)
	}
	return nil
}

// Definite reports whether the call that failed with err definitely did not
// take effect: every attempt it made was rejected by the service with a 4xx
// or failed before its request was written. A nil err is not definite (the
// call took effect).
//
// If the SDK never ran the tracker (the client was not an SDK client, for
// example a test double that ignores APIOptions), err alone decides: an API
// error of the client's fault, such as QueueDoesNotExist, is definite;
// anything else is not.
func (t *Tracker) Definite(err error) bool {
	if err == nil {
		return false
	}
	t.mu.Lock()
	started, uncertain := t.started, t.uncertain
	t.mu.Unlock()
	if started {
		return uncertain == 0
	}
	return !mayHaveLanded(err)
}

// Uncertain returns the number of attempts that may have taken effect,
// counting a successful one. A successful call with Uncertain() > 1 may have
// acted more than once: for example a CreateMultipartUpload whose first
// answer was lost created an upload besides the one it returned.
func (t *Tracker) Uncertain() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.uncertain
}

// Definite reports whether err, the error of one request, shows that the
// request did not take effect. It is the rule a Tracker applies to each
// attempt, for errors of calls that were not tracked.
func Definite(err error) bool { return err != nil && !mayHaveLanded(err) }

// mayHaveLanded reports whether the request that failed with err may have
// taken effect, judged from err alone.
func mayHaveLanded(err error) bool {
	var se *smithyhttp.RequestSendError
	if errors.As(err, &se) {
		// Nothing is written before the connection is made. (The SDK also
		// wraps a send failure in a ResponseError of status 0.)
		var oe *net.OpError
		var dnsErr *net.DNSError
		return !(errors.As(err, &oe) && oe.Op == "dial" || errors.As(err, &dnsErr))
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != 0 {
		// The service answered. A 4xx is a rejection; a 5xx, or a 2xx whose
		// body could not be read or verified, may follow an action.
		code := re.HTTPStatusCode()
		return code < 400 || code >= 500
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && !errors.As(err, &re) {
		// An API error that did not come through the SDK's transport is
		// from a client that is not the SDK's: trust its fault.
		return ae.ErrorFault() != smithy.FaultClient
	}
	// Nothing is known; a context error in particular may have cut off a
	// request in flight.
	return true
}
