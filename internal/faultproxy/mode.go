package faultproxy

import "fmt"

// Mode is what the proxy does to one request: pass it through (None) or
// inject one fault. The faults named "Before" never reach the server; the
// ones named "After", and Truncate and BitFlip, reach it and take effect
// there, so the client cannot know from the outcome whether its request
// landed.
type Mode int

const (
	// None forwards the request and streams the server's response back
	// unchanged.
	None Mode = iota

	// ErrorBefore answers 503 Service Unavailable, in the error format of the
	// request's service, without forwarding: the server never sees the
	// request. It models a failing front end; the SDK retries it like any
	// 5xx.
	ErrorBefore

	// ResetBefore resets the client's connection (TCP RST) without forwarding
	// the request or answering. The client cannot tell it from ResetAfter,
	// which is the point: a reset says nothing about whether the request took
	// effect.
	ResetBefore

	// ErrorAfter forwards the request, reads the server's whole response,
	// discards it and answers 500 Internal Error instead. The request took
	// effect but the client is told it failed, so a retry repeats it.
	ErrorAfter

	// ResetAfter forwards the request, reads the server's whole response,
	// then resets the client's connection without writing anything. The
	// request took effect and the client sees a connection error.
	ResetAfter

	// SlowAfter forwards the request, and once the server has answered it
	// holds the response for Options.SlowDelay before streaming it, so that a
	// caller whose deadline is shorter gives up on a request that took effect.
	// It stops waiting as soon as the client goes away, and writes the
	// response at once when the proxy closes.
	SlowAfter

	// Truncate forwards the request, reads the server's response and writes
	// its status and headers, with the original Content-Length, followed by a
	// random strict prefix of the body (possibly empty), then closes the
	// connection. A response without a body (a HEAD, an S3 PUT) has nothing
	// to cut, so it loses the blank line that ends its header block instead;
	// either way the client sees a response that breaks off.
	Truncate

	// BitFlip forwards the request and flips one random bit of the response
	// body, which is sent with its correct length, so that only a checksum
	// can catch it. The bit lies within the first Options.MaxBuffer bytes. A
	// response with an empty body is passed through unchanged and counted
	// under None, since there is nothing to corrupt.
	BitFlip

	// Forbidden answers 403 without forwarding, in the error format of the
	// request's service: for S3 an <Error> document with the code
	// AccessDenied, as S3 answers a GetObject that a policy denies. It is
	// meant for S3 GETs, where it is not retryable and must surface to the
	// caller.
	Forbidden

	numModes
)

var modeNames = [numModes]string{
	None:        "None",
	ErrorBefore: "ErrorBefore",
	ResetBefore: "ResetBefore",
	ErrorAfter:  "ErrorAfter",
	ResetAfter:  "ResetAfter",
	SlowAfter:   "SlowAfter",
	Truncate:    "Truncate",
	BitFlip:     "BitFlip",
	Forbidden:   "Forbidden",
}

// String returns the constant's name, such as "ResetAfter".
func (m Mode) String() string {
	if m.valid() {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

func (m Mode) valid() bool { return m >= None && m < numModes }
