package faultproxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Defaults of the Options fields.
const (
	// DefaultSlowDelay is how long SlowAfter holds a response: longer than
	// the deadlines tests give calls they expect to time out, short enough
	// that a test waiting it out stays quick.
	DefaultSlowDelay = 3 * time.Second
	// DefaultMaxBuffer bounds the response bytes that BitFlip and Truncate
	// hold in memory.
	DefaultMaxBuffer = 8 << 20
	// DefaultMaxFormBody bounds the form bodies read for matching. An SNS
	// PublishBatch of 256 KiB, form-encoded, stays well below it.
	DefaultMaxFormBody = 4 << 20
	// DefaultCloseTimeout bounds each of Close's two waits for the requests
	// in flight.
	DefaultCloseTimeout = 5 * time.Second
	// DefaultMaxEvents is how many recent faults Events keeps.
	DefaultMaxEvents = 1000
)

// Options configures a Proxy. The zero value of each field means its
// default.
type Options struct {
	// Rules choose random faults; see Rule. Without rules every request
	// passes through, except those given a fault with Inject.
	Rules []Rule

	// Seed seeds the random source of the Rules and of the bit BitFlip flips
	// and the length Truncate keeps. The same seed and the same sequence of
	// requests give the same faults; zero is a seed like any other.
	Seed uint64

	// SlowDelay is how long SlowAfter holds a response. Default
	// DefaultSlowDelay.
	SlowDelay time.Duration

	// MaxBuffer is how many bytes of a response body BitFlip and Truncate
	// hold in memory. BitFlip flips a bit within them and streams the rest;
	// Truncate cuts within them and discards the rest. Default
	// DefaultMaxBuffer.
	MaxBuffer int64

	// MaxFormBody is the size up to which a form-encoded request body (the
	// query protocol of SNS) is read into memory so that Matchers can see
	// its Action. Larger bodies are forwarded without being looked at, so
	// their requests have no Operation. Other bodies, such as S3 objects,
	// are never buffered. Default DefaultMaxFormBody.
	MaxFormBody int64

	// CloseTimeout bounds how long Close lets requests in flight finish,
	// and then how long it waits for them once it has aborted them. Default
	// DefaultCloseTimeout.
	CloseTimeout time.Duration

	// MaxEvents is how many recent faults Events keeps; negative keeps
	// none. Default DefaultMaxEvents.
	MaxEvents int

	// Latency delays every request by this long before the proxy forwards
	// it or answers it with a fault: the round trip to a service in another
	// host, which loopback servers answer without. Benchmarks use it to see
	// what a client's pipelining hides; it is not a fault and counts in no
	// Stats. Close cuts the wait short, and a request whose client goes away
	// while it waits is not forwarded (it counts under None). Zero adds
	// none.
	Latency time.Duration
}

func (o *Options) resolve() {
	if o.SlowDelay == 0 {
		o.SlowDelay = DefaultSlowDelay
	}
	if o.MaxBuffer == 0 {
		o.MaxBuffer = DefaultMaxBuffer
	}
	if o.MaxFormBody == 0 {
		o.MaxFormBody = DefaultMaxFormBody
	}
	if o.CloseTimeout == 0 {
		o.CloseTimeout = DefaultCloseTimeout
	}
	if o.MaxEvents == 0 {
		o.MaxEvents = DefaultMaxEvents
	}
}

func (o *Options) validate() error {
	var err error
	if o.SlowDelay < 0 {
		err = errors.Join(err, fmt.Errorf("SlowDelay %v is negative", o.SlowDelay))
	}
	if o.MaxBuffer < 0 {
		err = errors.Join(err, fmt.Errorf("MaxBuffer %d is negative", o.MaxBuffer))
	}
	if o.MaxFormBody < 0 {
		err = errors.Join(err, fmt.Errorf("MaxFormBody %d is negative", o.MaxFormBody))
	}
	if o.CloseTimeout < 0 {
		err = errors.Join(err, fmt.Errorf("CloseTimeout %v is negative", o.CloseTimeout))
	}
	if o.Latency < 0 {
		err = errors.Join(err, fmt.Errorf("Options.Latency %v is negative", o.Latency))
	}
	return errors.Join(err, validateRules(o.Rules))
}

// Proxy is a reverse proxy on a loopback port that forwards to one server and
// injects faults. It is safe for concurrent use.
type Proxy struct {
	opts      Options
	target    *url.URL
	url       string
	srv       *http.Server
	transport *http.Transport

	// ctx is the base of every request's context; Close cancels it to abort
	// the requests that did not finish in time.
	ctx    context.Context
	cancel context.CancelFunc
	// closing is closed when Close starts, ending SlowAfter's and
	// Latency's waits.
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error
	// handlers counts the requests being handled. Add is only called under
	// mu while !stopped, so that no Add races Close's Wait.
	handlers sync.WaitGroup
	// running is the WaitGroup's count, which Close reads once its wait
	// has ended.
	running atomic.Int64

	mu         sync.Mutex
	stopped    bool
	disabled   bool
	rng        *rand.Rand
	rules      []Rule
	injections []*injection
	counters
}

// New starts a proxy for target, the base URL of a server on a loopback
// address (such as "http://127.0.0.1:9000"), listening on a free port of
// 127.0.0.1. Loopback only, both ways: it is test infrastructure, and must
// neither be reachable from other machines nor send anything to them. The
// caller must Close it.
func New(target string, optFns ...func(*Options)) (*Proxy, error) {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.resolve()
	u, err := loopbackURL(target)
	if err = errors.Join(err, o.validate()); err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		opts:    o,
		target:  u,
		url:     "http://" + ln.Addr().String(),
		ctx:     ctx,
		cancel:  cancel,
		closing: make(chan struct{}),
		rng:     rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)),
		transport: &http.Transport{
			// No Proxy: HTTP_PROXY in the environment must not reroute
			// loopback test traffic.
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        100,
			MaxIdleConnsPerHost: 100,
			IdleConnTimeout:     90 * time.Second,
			// The client chose its Accept-Encoding; the proxy must not add
			// gzip and decode the body behind its back.
			DisableCompression: true,
		},
	}
	p.counters.ops = map[string]*[numModes]int64{}
	if o.MaxEvents > 0 {
		p.counters.events = make([]Event, o.MaxEvents)
	}
	p.setRulesLocked(o.Rules)
	p.srv = &http.Server{
		Handler:           handler{p},
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ReadHeaderTimeout: 30 * time.Second,
	}
	go p.srv.Serve(ln)
	return p, nil
}

// Start is New for tests: it fails tb if the proxy cannot start, and closes
// the proxy when tb ends.
func Start(tb testing.TB, target string, optFns ...func(*Options)) *Proxy {
	tb.Helper()
	p, err := New(target, optFns...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Error(err)
		}
	})
	return p
}

// loopbackURL parses target and checks that it is an http URL of a loopback
// host with a port, and no path.
func loopbackURL(target string) (*url.URL, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	if u.Scheme != "http" || u.Port() == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("target %q is not http://host:port", target)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("target %q is not on a loopback address", target)
	}
	u.Path = ""
	return u, nil
}

// URL returns the proxy's base URL, such as "http://127.0.0.1:41234", for a
// client's BaseEndpoint.
func (p *Proxy) URL() string { return p.url }

// Close stops the proxy. It stops accepting connections, cuts SlowAfter's
// waits short, and lets the requests in flight finish for up to
// Options.CloseTimeout; then it aborts the rest (closing their connections
// and their requests to the server) and waits for them up to CloseTimeout
// again. It returns an error if requests were still running then, or if the
// server had to be closed forcibly. Close is idempotent.
func (p *Proxy) Close() error {
	p.closeOnce.Do(func() {
		close(p.closing)
		ctx, cancel := context.WithTimeout(context.Background(), p.opts.CloseTimeout)
		defer cancel()
		// Shutdown's error says only that its wait ended; whether requests
		// were still running is p.running's to say.
		_ = p.srv.Shutdown(ctx)
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		// Hijacked connections escape Shutdown; the WaitGroup covers them.
		done := make(chan struct{})
		go func() { p.handlers.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		if p.running.Load() == 0 {
			// Every request ended. Shutdown may still have timed out: net/http
			// counts a connection on which no request has arrived yet as busy
			// for 5 s (a client's transport dials spares), and this closes it.
			p.srv.Close()
		} else {
			p.cancel()
			p.srv.Close()
			select {
			case <-done:
				p.closeErr = fmt.Errorf("faultproxy: requests were still running after %v and were aborted", p.opts.CloseTimeout)
			case <-time.After(p.opts.CloseTimeout):
				p.closeErr = fmt.Errorf("faultproxy: requests still running %v after being aborted", p.opts.CloseTimeout)
			}
		}
		p.cancel()
		p.transport.CloseIdleConnections()
	})
	return p.closeErr
}

// enter counts a request in, unless Close has stopped waiting for them.
func (p *Proxy) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	p.handlers.Add(1)
	p.running.Add(1)
	return true
}

// handler serves the proxy's requests; it keeps ServeHTTP out of the
// Proxy's method set.
type handler struct{ p *Proxy }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := h.p
	if !p.enter() {
		w.Header().Set("Connection", "close")
		http.Error(w, "faultproxy: closed", http.StatusServiceUnavailable)
		return
	}
	defer func() {
		p.running.Add(-1)
		p.handlers.Done()
	}()
	if err := readForm(r, p.opts.MaxFormBody); err != nil {
		return // the client went away while sending its body
	}
	x := &exchange{p: p, w: w, r: r, e: Event{Time: time.Now(), Op: Operation(r), Method: r.Method, URI: r.RequestURI}}
	x.d = p.decide(r)
	x.serve()
}

// readForm reads a form-encoded body of up to limit bytes into r.PostForm,
// for Matchers, and puts it back as r.Body, for forwarding. Other bodies are
// left alone.
func readForm(r *http.Request, limit int64) error {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" || r.ContentLength > limit {
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > limit {
		// A chunked body turned out too large: forward what was read and
		// the rest, unparsed.
		r.Body = readCloser{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
		return nil
	}
	r.PostForm = formOf(body)
	r.Body = readCloser{bytes.NewReader(body), r.Body}
	return nil
}

// formOf parses body as a form, or returns nil if it is not one.
func formOf(body []byte) url.Values {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	return form
}

type readCloser struct {
	io.Reader
	io.Closer
}
