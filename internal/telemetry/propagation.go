package telemetry

import (
	"strings"
)

// Context is a span context that travels with a message: 32 lowercase hex
// digits of trace id, 16 of span id, and the sampled flag.
type Context struct {
	TraceID string
	SpanID  string
	Sampled bool
	// SampledKnown is false when the tracer did not say whether the span is
	// sampled: X-Ray's header then leaves the decision open.
	SampledKnown bool
}

// Valid reports whether c has well-formed, non-zero ids.
func (c Context) Valid() bool {
	return isHex(c.TraceID, 32) && isHex(c.SpanID, 16) &&
		strings.Trim(c.TraceID, "0") != "" && strings.Trim(c.SpanID, "0") != ""
}

// isHex reports whether s is n lowercase hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Traceparent returns c as a W3C traceparent header value (version 00).
func (c Context) Traceparent() string {
	flags := "00"
	if c.Sampled {
		flags = "01"
	}
	return "00-" + c.TraceID + "-" + c.SpanID + "-" + flags
}

// XRay returns c as an X-Ray trace header, the value of SQS's AWSTraceHeader
// system attribute: Root=1-{8 hex: epoch seconds}-{24 hex};Parent={16
// hex};Sampled=0|1. An X-Ray root is a W3C trace id with a dash after the
// eighth digit, which is how the OpenTelemetry X-Ray propagator maps them.
func (c Context) XRay() string {
	h := "Root=1-" + c.TraceID[:8] + "-" + c.TraceID[8:] + ";Parent=" + c.SpanID
	switch {
	case !c.SampledKnown && !c.Sampled:
		h += ";Sampled=?"
	case c.Sampled:
		h += ";Sampled=1"
	default:
		h += ";Sampled=0"
	}
	return h
}

// ParseTraceparent reads a W3C traceparent header value; ok is false if it
// is not one.
func ParseTraceparent(s string) (c Context, ok bool) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) < 4 || len(parts[0]) != 2 || parts[0] == "ff" || len(parts[3]) != 2 {
		return Context{}, false
	}
	if parts[0] == "00" && len(parts) != 4 {
		return Context{}, false
	}
	c = Context{TraceID: parts[1], SpanID: parts[2], SampledKnown: true}
	if !c.Valid() || !isHex(parts[0], 2) || !isHex(parts[3], 2) {
		return Context{}, false
	}
	c.Sampled = hexVal(parts[3][1])&1 == 1
	return c, true
}

func hexVal(b byte) byte {
	if b >= 'a' {
		return b - 'a' + 10
	}
	return b - '0'
}

// ParseXRay reads an X-Ray trace header (Root=...;Parent=...;Sampled=...,
// fields in any order, others ignored); ok is false without a valid Root and
// Parent.
func ParseXRay(s string) (c Context, ok bool) {
	for _, f := range strings.Split(s, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(f), "=")
		switch k {
		case "Root":
			ver, rest, _ := strings.Cut(v, "-")
			epoch, id, _ := strings.Cut(rest, "-")
			if ver != "1" || len(epoch) != 8 || len(id) != 24 {
				return Context{}, false
			}
			c.TraceID = strings.ToLower(epoch + id)
		case "Parent":
			c.SpanID = strings.ToLower(v)
		case "Sampled":
			c.Sampled, c.SampledKnown = v == "1", v == "0" || v == "1"
		}
	}
	if !c.Valid() {
		return Context{}, false
	}
	return c, true
}

// FromMessage returns the trace context a received message carries: SQS's
// AWSTraceHeader system attribute (xray), else a traceparent message
// attribute (traceparent); ok is false when neither holds one.
func FromMessage(xray, traceparent string) (Context, bool) {
	if xray != "" {
		if c, ok := ParseXRay(xray); ok {
			return c, true
		}
	}
	if traceparent != "" {
		return ParseTraceparent(traceparent)
	}
	return Context{}, false
}
