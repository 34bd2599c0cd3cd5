package telemetry

import "testing"

func TestXRayRoundTrip(t *testing.T) {
	c := Context{TraceID: "5759e988bd862e3fe1be46a994272793", SpanID: "53995c3f42cd8ad8", Sampled: true, SampledKnown: true}
	h := c.XRay()
	if want := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"; h != want {
		t.Fatalf("expect %s, got %s", want, h)
	}
	got, ok := ParseXRay(h)
	if !ok || got != c {
		t.Errorf("expect %+v back, got %+v, %v", c, got, ok)
	}
	// Lambda's and X-Ray's headers carry more fields, in any order.
	got, ok = ParseXRay("Self=1-abc;Sampled=0;Parent=53995C3F42CD8AD8;Root=1-5759e988-bd862e3fe1be46a994272793;Lineage=a:1")
	if !ok || got.SpanID != c.SpanID || got.Sampled || !got.SampledKnown {
		t.Errorf("expect the parent, not sampled, got %+v, %v", got, ok)
	}
	unknown := Context{TraceID: c.TraceID, SpanID: c.SpanID}
	if h := unknown.XRay(); h != "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?" {
		t.Errorf("expect an open sampling decision, got %s", h)
	}
}

func TestParseXRayInvalid(t *testing.T) {
	for _, h := range []string{"", "Root=1-5759e988-bd862e3fe1be46a994272793", "Parent=53995c3f42cd8ad8",
		"Root=2-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8",
		"Root=1-5759e988-bd862e3fe1be46a99427279;Parent=53995c3f42cd8ad8",
		"Root=1-00000000-000000000000000000000000;Parent=53995c3f42cd8ad8",
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=zz995c3f42cd8ad8"} {
		if c, ok := ParseXRay(h); ok {
			t.Errorf("%q: expect no context, got %+v", h, c)
		}
	}
}

func TestTraceparentRoundTrip(t *testing.T) {
	c := Context{TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7", Sampled: true, SampledKnown: true}
	tp := c.Traceparent()
	if tp != "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" {
		t.Fatalf("got %s", tp)
	}
	if got, ok := ParseTraceparent(tp); !ok || got != c {
		t.Errorf("expect %+v back, got %+v, %v", c, got, ok)
	}
	for _, s := range []string{"", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"} {
		if got, ok := ParseTraceparent(s); ok {
			t.Errorf("%q: expect no context, got %+v", s, got)
		}
	}
	// A later version may append fields.
	if _, ok := ParseTraceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what"); !ok {
		t.Errorf("expect a future version's traceparent read")
	}
}

func TestFromMessagePrefersAWSTraceHeader(t *testing.T) {
	c, ok := FromMessage("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if !ok || c.TraceID != "5759e988bd862e3fe1be46a994272793" {
		t.Errorf("expect the AWSTraceHeader's context, got %+v", c)
	}
	c, ok = FromMessage("garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	if !ok || c.TraceID != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("expect the traceparent's context, got %+v", c)
	}
	if _, ok := FromMessage("", ""); ok {
		t.Errorf("expect no context")
	}
}
