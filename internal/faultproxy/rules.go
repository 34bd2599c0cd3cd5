package faultproxy

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
)

// Rule chooses random faults for the requests it matches. For each request
// the proxy takes the first rule whose Match matches it and draws from the
// seeded random source: with probability Rate the request gets a fault,
// chosen uniformly from Modes (list a mode twice to weight it). Requests that
// no rule matches pass through, and since the first match decides, a rule
// with Rate 0 exempts the requests it matches from the rules after it.
type Rule struct {
	// Name labels the rule in Stats; it may be empty.
	Name string
	// Match selects the requests the rule applies to; nil matches all.
	Match Matcher
	// Modes are the faults to choose from. It must not be empty or contain
	// None (lower Rate instead).
	Modes []Mode
	// Rate is the probability, from 0 to 1, that a matched request gets a
	// fault.
	Rate float64
}

func (r Rule) validate() error {
	var err error
	if math.IsNaN(r.Rate) || r.Rate < 0 || r.Rate > 1 {
		err = errors.Join(err, fmt.Errorf("rate %v is not between 0 and 1", r.Rate))
	}
	if len(r.Modes) == 0 {
		err = errors.Join(err, errors.New("no Modes"))
	}
	for _, m := range r.Modes {
		if !m.valid() || m == None {
			err = errors.Join(err, fmt.Errorf("%v is not a fault mode", m))
		}
	}
	if err != nil {
		return fmt.Errorf("rule %q: %w", r.Name, err)
	}
	return nil
}

func validateRules(rules []Rule) error {
	var err error
	for i, r := range rules {
		if e := r.validate(); e != nil {
			err = errors.Join(err, fmt.Errorf("rules[%d]: %w", i, e))
		}
	}
	return err
}

// injection is a pending Inject: the next left matching requests get mode.
type injection struct {
	match Matcher
	mode  Mode
	left  int
}

// decision is what the proxy chose for one request.
type decision struct {
	seq  int64 // the request's number, from 1
	mode Mode
	rule int // index in the rules, or -1 if injected or unmatched
	// salt picks the bit BitFlip flips and where Truncate cuts, drawn with
	// the decision so that the same seed gives the same faults however the
	// requests' bodies are timed.
	salt uint64
}

// SetRules replaces the rules, for the requests that arrive from now on, and
// resets the per-rule counts in Stats. It returns an error, and changes
// nothing, if a rule is invalid.
func (p *Proxy) SetRules(rules ...Rule) error {
	if err := validateRules(rules); err != nil {
		return fmt.Errorf("faultproxy: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.setRulesLocked(rules)
	return nil
}

func (p *Proxy) setRulesLocked(rules []Rule) {
	p.rules = make([]Rule, len(rules))
	p.ruleStats = make([]RuleStats, len(rules))
	for i, r := range rules {
		r.Modes = slices.Clone(r.Modes)
		p.rules[i] = r
		p.ruleStats[i].Name = r.Name
	}
}

// Inject gives mode to the next n requests that match (all requests if
// match is nil), ahead of the rules, without drawing whether to fault: for
// regression tests that need one particular fault on one particular request.
// Injections are consulted in the order they were made, and a request uses
// up at most one. Inject(m, None, n) exempts the next n matching requests
// from the rules. Inject panics if mode is not a Mode or n is negative.
func (p *Proxy) Inject(match Matcher, mode Mode, n int) {
	if !mode.valid() || n < 0 {
		panic(fmt.Sprintf("faultproxy: Inject(%v, %d)", mode, n))
	}
	if n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.injections = append(p.injections, &injection{match: match, mode: mode, left: n})
}

// Pending returns how many injected faults have not been used yet, so that
// a test can check that its requests met all of them.
func (p *Proxy) Pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pendingLocked()
}

func (p *Proxy) pendingLocked() int {
	n := 0
	for _, in := range p.injections {
		n += in.left
	}
	return n
}

// ClearPending drops the pending injections and returns how many faults
// they still held: between the phases of a test, so that faults meant for one
// do not fall on the next.
func (p *Proxy) ClearPending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.pendingLocked()
	p.injections = nil
	return n
}

// Disable stops all faults: every request passes through until Enable.
// Pending injections stay pending. A soak test disables the proxy for its
// drain phase, to tell lost messages from ones the faults are still
// delaying.
func (p *Proxy) Disable() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.disabled = true
}

// Enable undoes Disable.
func (p *Proxy) Enable() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.disabled = false
}

// decide chooses the mode of request r: a pending injection, else the first
// matching rule.
func (p *Proxy) decide(r *http.Request) decision {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests++
	d := decision{seq: p.requests, mode: None, rule: -1}
	if p.disabled {
		return d
	}
	if i := slices.IndexFunc(p.injections, func(in *injection) bool { return in.match.match(r) }); i >= 0 {
		in := p.injections[i]
		d.mode = in.mode
		if in.left--; in.left == 0 {
			p.injections = slices.Delete(p.injections, i, i+1)
		}
		p.injected++
	} else if i := slices.IndexFunc(p.rules, func(rule Rule) bool { return rule.Match.match(r) }); i >= 0 {
		rule := p.rules[i]
		p.ruleStats[i].Matched++
		if p.rng.Float64() < rule.Rate {
			d.mode = rule.Modes[p.rng.IntN(len(rule.Modes))]
			d.rule = i
			p.ruleStats[i].Faults++
		}
	}
	if d.mode == BitFlip || d.mode == Truncate {
		d.salt = p.rng.Uint64()
	}
	return d
}
