package faultproxy

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Stats counts what the proxy has done since New. Get it with [Proxy.Stats].
type Stats struct {
	// Requests counts every request the proxy received.
	Requests int64
	// Modes counts requests by what was done to them; None counts the ones
	// passed through unchanged. A request counts once the proxy knows what
	// it does, before the client sees any of its answer, so that Stats taken
	// when an SDK call returns include every request the call made; until
	// then it counts only in Requests (such as one SlowAfter is holding). It
	// counts under the mode it actually got: a BitFlip of an empty body
	// counts as None.
	Modes map[Mode]int64
	// Ops breaks Modes down by [Operation]; requests it cannot name count
	// under "other".
	Ops map[string]map[Mode]int64
	// Rules has one entry per rule of the last SetRules (or Options.Rules).
	Rules []RuleStats
	// Injected counts the requests that used up an Inject.
	Injected int64
	// UpstreamErrors counts requests the proxy could not forward because the
	// server failed (not because the client went away); the client got 502
	// Bad Gateway, counted under None.
	UpstreamErrors int64
}

// RuleStats counts the requests one rule decided.
type RuleStats struct {
	// Name is the rule's Name.
	Name string
	// Matched counts the requests the rule matched (and so decided).
	Matched int64
	// Faults counts the matched requests it chose a fault for.
	Faults int64
}

// Faults returns how many requests got a fault.
func (s Stats) Faults() int64 {
	var n int64
	for m, c := range s.Modes {
		if m != None {
			n += c
		}
	}
	return n
}

// String reports the counts on a few lines, for a soak test's log:
//
//	faultproxy: 1200 requests, 57 faults, 0 injected, 0 upstream errors
//	  modes: None 1143, ErrorAfter 20, ResetAfter 19, BitFlip 18
//	  s3:GetObject: None 380, BitFlip 18
//	  ...
//	  rule "s3 reads": matched 398, faults 18
func (s Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "faultproxy: %d requests, %d faults, %d injected, %d upstream errors",
		s.Requests, s.Faults(), s.Injected, s.UpstreamErrors)
	fmt.Fprintf(&b, "\n  modes: %s", modeCounts(s.Modes))
	for _, op := range slices.Sorted(maps.Keys(s.Ops)) {
		fmt.Fprintf(&b, "\n  %s: %s", op, modeCounts(s.Ops[op]))
	}
	for _, r := range s.Rules {
		fmt.Fprintf(&b, "\n  rule %q: matched %d, faults %d", r.Name, r.Matched, r.Faults)
	}
	return b.String()
}

// modeCounts formats counts in Mode order, skipping zeros.
func modeCounts(counts map[Mode]int64) string {
	var parts []string
	for m := range numModes {
		if c := counts[m]; c != 0 {
			parts = append(parts, fmt.Sprintf("%v %d", m, c))
		}
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// Event records one fault, for finding out which request a failed test's
// fault hit. See [Proxy.Events].
type Event struct {
	// Seq is the request's number: the proxy numbers requests from 1 in the
	// order they arrive.
	Seq int64
	// Time is when the request arrived.
	Time time.Time
	// Op is the request's [Operation], or "" if it has none.
	Op string
	// Method and URI are the request's method and request URI.
	Method, URI string
	// Mode is the fault the request got.
	Mode Mode
	// Rule is the index of the rule that chose the fault, or -1 for an
	// injected one.
	Rule int
}

// String formats e on one line, as "#12 ResetAfter sqs:SendMessage POST /".
// A request without an Operation shows as "other".
func (e Event) String() string {
	return fmt.Sprintf("#%d %v %s %s %s", e.Seq, e.Mode, opKey(e.Op), e.Method, e.URI)
}

// opKey is op, or "other" for a request without an Operation.
func opKey(op string) string {
	if op == "" {
		return "other"
	}
	return op
}

// counters are the Stats and events the proxy updates under its lock.
type counters struct {
	requests       int64
	injected       int64
	upstreamErrors int64
	modes          [numModes]int64
	ops            map[string]*[numModes]int64
	ruleStats      []RuleStats
	// events is a ring of the last len(events) faults; next is where the
	// next one goes and wrapped whether the ring is full.
	events  []Event
	next    int
	wrapped bool
}

// Stats returns a snapshot of the counts.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := Stats{
		Requests:       p.requests,
		Modes:          map[Mode]int64{},
		Ops:            map[string]map[Mode]int64{},
		Rules:          slices.Clone(p.ruleStats),
		Injected:       p.injected,
		UpstreamErrors: p.upstreamErrors,
	}
	for m, c := range p.modes {
		if c != 0 {
			s.Modes[Mode(m)] = c
		}
	}
	for op, counts := range p.ops {
		s.Ops[op] = map[Mode]int64{}
		for m, c := range counts {
			if c != 0 {
				s.Ops[op][Mode(m)] = c
			}
		}
	}
	return s
}

// Events returns the most recent faults, oldest first: at most
// Options.MaxEvents of them.
func (p *Proxy) Events() []Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.wrapped {
		return slices.Clone(p.events[:p.next])
	}
	return append(slices.Clone(p.events[p.next:]), p.events[:p.next]...)
}

// record counts a request that got mode, and logs it if a fault.
func (p *Proxy) record(d decision, e Event, mode Mode, upstreamErr bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.modes[mode]++
	op := opKey(e.Op)
	if p.ops[op] == nil {
		p.ops[op] = new([numModes]int64)
	}
	p.ops[op][mode]++
	if upstreamErr {
		p.upstreamErrors++
	}
	if mode == None || len(p.events) == 0 {
		return
	}
	e.Seq, e.Mode, e.Rule = d.seq, mode, d.rule
	p.events[p.next] = e
	if p.next++; p.next == len(p.events) {
		p.next, p.wrapped = 0, true
	}
}
