package faultproxy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// seen is one request as the backend received it.
type seen struct {
	Method, URI, Host string
	Header            http.Header
	Body              []byte
}

// backend is an httptest server that records what reaches it. Its routes:
//
//	/blob?n=N      answers N bytes of blobBytes(N)
//	/empty         answers 200 with no body
//	/echo          answers the request body
//	/hang          answers after release is closed or the request ends
//	anything else  answers 201 "ok" with a few headers to check
type backend struct {
	*httptest.Server
	release chan struct{}

	mu   sync.Mutex
	reqs []seen
}

func newBackend(t *testing.T) *backend {
	t.Helper()
	b := &backend{release: make(chan struct{})}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
		b.Close()
	})
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.reqs = append(b.reqs, seen{r.Method, r.RequestURI, r.Host, r.Header.Clone(), body})
	b.mu.Unlock()
	switch r.URL.Path {
	case "/blob":
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(blobBytes(n))
	case "/empty":
	case "/echo":
		w.Write(body)
	case "/hang":
		select {
		case <-b.release:
		case <-r.Context().Done():
		}
	default:
		w.Header().Set("X-Backend", "yes")
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "ok")
	}
}

// seen returns the requests the backend has received.
func (b *backend) seen() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

// blobBytes returns n bytes that differ from one offset to the next.
func blobBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// newClient returns an HTTP client that does not reuse connections, so that
// Go's transport never retries a request on its own after a reset, and does
// not ask for gzip, so that a test can see the proxy does not either.
func newClient() *http.Client {
	return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true, DisableCompression: true}}
}

func startProxy(t *testing.T, target string, optFns ...func(*Options)) *Proxy {
	t.Helper()
	return Start(t, target, optFns...)
}

// s3Auth, sqsAuth and snsAuth are Authorization headers with the credential
// scope of each service, which is all Operation reads from them.
const (
	s3Auth  = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00"
	sqsAuth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"
	snsAuth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sns/aws4_request, SignedHeaders=host, Signature=00"
)

func TestPassThrough(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL)
	body := blobBytes(1 << 20)
	req, _ := http.NewRequest(http.MethodPut, p.URL()+"/bucket/a%20b%2Fc+d?partNumber=1&uploadId=x%2By&x-id=UploadPart", bytes.NewReader(body))
	req.Header.Set("X-Amz-Meta-Test", "v")
	req.Header.Set("Authorization", s3Auth)
	req.Header.Set("Connection", "keep-alive, X-Hop")
	req.Header.Set("X-Hop", "dropped")
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}

	s := b.seen()
	if len(s) != 1 {
		t.Fatalf("expect 1 request at the backend, got %d", len(s))
	}
	if s[0].Method != http.MethodPut || s[0].URI != "/bucket/a%20b%2Fc+d?partNumber=1&uploadId=x%2By&x-id=UploadPart" {
		t.Errorf("expect the method and URI unchanged, got %s %s", s[0].Method, s[0].URI)
	}
	if want := strings.TrimPrefix(p.URL(), "http://"); s[0].Host != want {
		t.Errorf("expect Host %s (the one the client signed), got %s", want, s[0].Host)
	}
	if s[0].Header.Get("X-Amz-Meta-Test") != "v" || s[0].Header.Get("Authorization") != s3Auth {
		t.Errorf("expect the end-to-end headers forwarded, got %v", s[0].Header)
	}
	if s[0].Header.Get("X-Hop") != "" || s[0].Header.Get("Connection") != "" {
		t.Errorf("expect hop-by-hop headers dropped, got %v", s[0].Header)
	}
	if s[0].Header.Get("User-Agent") != "Go-http-client/1.1" || s[0].Header.Get("Accept-Encoding") != "" {
		t.Errorf("expect the client's User-Agent and no added Accept-Encoding, got %v", s[0].Header)
	}
	if !bytes.Equal(s[0].Body, body) {
		t.Errorf("expect the body forwarded intact")
	}
	if resp.StatusCode != http.StatusCreated || string(got) != "ok" || resp.Header.Get("X-Backend") != "yes" ||
		!cmp.Equal(resp.Header.Values("X-Multi"), []string{"a", "b"}) {
		t.Errorf("expect the backend's response, got %d %q %v", resp.StatusCode, got, resp.Header)
	}
	st := p.Stats()
	if st.Requests != 1 || st.Modes[None] != 1 || st.Ops["s3:UploadPart"][None] != 1 {
		t.Errorf("expect one pass-through s3:UploadPart, got %+v", st)
	}
}

// TestStreaming checks that bodies stream through: the backend sees the
// start of a request body before the client has sent the rest, and the client
// sees the start of a response body before the backend has sent the rest.
func TestStreaming(t *testing.T) {
	firstIn := make(chan struct{})
	firstOut := make(chan struct{})
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 5)
		if _, err := io.ReadFull(r.Body, buf); err != nil || string(buf) != "first" {
			t.Errorf("backend: expect %q, got %q, %v", "first", buf, err)
			return
		}
		close(firstIn)
		rest, _ := io.ReadAll(r.Body)
		if string(rest) != "second" {
			t.Errorf("backend: expect %q, got %q", "second", rest)
		}
		io.WriteString(w, "third")
		w.(http.Flusher).Flush()
		select {
		case <-firstOut:
		case <-time.After(5 * time.Second):
			t.Error("backend: the client did not see the start of the response")
		}
		io.WriteString(w, "fourth")
	}))
	defer b.Close()
	p := startProxy(t, b.URL)

	pr, pw := io.Pipe()
	go func() {
		io.WriteString(pw, "first")
		select {
		case <-firstIn:
		case <-time.After(5 * time.Second):
			t.Error("client: the backend did not see the start of the request")
		}
		io.WriteString(pw, "second")
		pw.Close()
	}()
	resp, err := newClient().Post(p.URL()+"/stream", "application/octet-stream", pr)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "third" {
		t.Fatalf("expect %q, got %q, %v", "third", buf, err)
	}
	close(firstOut)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(rest) != "fourth" {
		t.Errorf("expect %q, got %q, %v", "fourth", rest, err)
	}
}

// outcome is what a client saw of one request.
type outcome struct {
	status int
	header http.Header
	length int64 // the Content-Length the response declared
	body   []byte
	err    error // from Do or from reading the body
}

func do(t *testing.T, c *http.Client, method, url string, body io.Reader, header http.Header) outcome {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vv := range header {
		req.Header[k] = vv
	}
	resp, err := c.Do(req)
	if err != nil {
		return outcome{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode, header: resp.Header, length: resp.ContentLength, body: b, err: err}
}

func TestModes(t *testing.T) {
	const n = 10000
	blob := blobBytes(n)
	cases := map[Mode]struct {
		path      string
		forwarded bool
		check     func(t *testing.T, o outcome)
	}{
		None: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if o.err != nil || o.status != 200 || !bytes.Equal(o.body, blob) {
				t.Errorf("expect the body intact, got %d, %d bytes, %v", o.status, len(o.body), o.err)
			}
		}},
		ErrorBefore: {"/blob?n=10000", false, func(t *testing.T, o outcome) {
			if o.err != nil || o.status != http.StatusServiceUnavailable || o.header.Get("X-Faultproxy-Fault") != "ErrorBefore" {
				t.Errorf("expect 503 from the proxy, got %d %v %v", o.status, o.header, o.err)
			}
		}},
		ResetBefore: {"/blob?n=10000", false, func(t *testing.T, o outcome) {
			if o.err == nil {
				t.Errorf("expect a connection error, got %d", o.status)
			}
		}},
		ErrorAfter: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if o.err != nil || o.status != http.StatusInternalServerError || o.header.Get("X-Faultproxy-Fault") != "ErrorAfter" {
				t.Errorf("expect 500 from the proxy, got %d %v %v", o.status, o.header, o.err)
			}
		}},
		ResetAfter: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if o.err == nil {
				t.Errorf("expect a connection error, got %d", o.status)
			}
		}},
		SlowAfter: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if o.err != nil || !bytes.Equal(o.body, blob) {
				t.Errorf("expect the body intact, got %d bytes, %v", len(o.body), o.err)
			}
		}},
		Truncate: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if !errors.Is(o.err, io.ErrUnexpectedEOF) || o.length != n || len(o.body) >= n || !bytes.Equal(o.body, blob[:len(o.body)]) {
				t.Errorf("expect a strict prefix of the body and the full Content-Length, got %d of %d bytes, %v", len(o.body), o.length, o.err)
			}
		}},
		BitFlip: {"/blob?n=10000", true, func(t *testing.T, o outcome) {
			if o.err != nil || len(o.body) != n {
				t.Fatalf("expect %d bytes, got %d, %v", n, len(o.body), o.err)
			}
			if d := bitDiff(o.body, blob); d != 1 {
				t.Errorf("expect 1 bit flipped, got %d", d)
			}
		}},
		Forbidden: {"/blob?n=10000", false, func(t *testing.T, o outcome) {
			if o.err != nil || o.status != http.StatusForbidden {
				t.Errorf("expect 403, got %d %v", o.status, o.err)
			}
		}},
	}
	for mode, tc := range cases {
		t.Run(mode.String(), func(t *testing.T) {
			b := newBackend(t)
			p := startProxy(t, b.URL, func(o *Options) { o.SlowDelay = 200 * time.Millisecond })
			p.Inject(nil, mode, 1)
			start := time.Now()
			o := do(t, newClient(), http.MethodPost, p.URL()+tc.path, strings.NewReader("request body"), nil)
			tc.check(t, o)
			if mode == SlowAfter && time.Since(start) < 200*time.Millisecond {
				t.Errorf("expect the response held for 200ms, got it after %v", time.Since(start))
			}
			s := b.seen()
			if tc.forwarded != (len(s) == 1) || len(s) > 1 {
				t.Errorf("expect forwarded %v, got %d requests at the backend", tc.forwarded, len(s))
			}
			if len(s) == 1 && string(s[0].Body) != "request body" {
				t.Errorf("expect the request body forwarded, got %q", s[0].Body)
			}
			waitStats(t, p, func(st Stats) bool { return st.Modes[mode] == 1 })
			if p.Pending() != 0 {
				t.Errorf("expect the injection used, %d pending", p.Pending())
			}
		})
	}
}

// waitStats waits for the proxy's stats to satisfy ok: a request is counted
// when its handler ends, which may be after the client has its answer.
func waitStats(t *testing.T, p *Proxy, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := p.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never got there: %v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func bitDiff(a, b []byte) int {
	d := 0
	for i := range a {
		d += bits.OnesCount8(a[i] ^ b[i])
	}
	return d
}

func TestNoBody(t *testing.T) {
	cases := map[string]struct {
		mode   Mode
		method string
		path   string
		check  func(t *testing.T, o outcome)
		counts Mode
	}{
		"BitFlip passes an empty body through": {BitFlip, http.MethodGet, "/empty", func(t *testing.T, o outcome) {
			if o.err != nil || o.status != 200 || len(o.body) != 0 {
				t.Errorf("expect an empty 200, got %d %q %v", o.status, o.body, o.err)
			}
		}, None},
		"Truncate cuts the headers of an empty body": {Truncate, http.MethodGet, "/empty", func(t *testing.T, o outcome) {
			if o.err == nil {
				t.Errorf("expect a broken response, got %d", o.status)
			}
		}, Truncate},
		"Truncate cuts the headers of a HEAD": {Truncate, http.MethodHead, "/blob?n=100", func(t *testing.T, o outcome) {
			if o.err == nil {
				t.Errorf("expect a broken response, got %d", o.status)
			}
		}, Truncate},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t)
			p := startProxy(t, b.URL)
			p.Inject(nil, tc.mode, 1)
			tc.check(t, do(t, newClient(), tc.method, p.URL()+tc.path, nil, nil))
			waitStats(t, p, func(st Stats) bool { return st.Modes[tc.counts] == 1 })
			if len(b.seen()) != 1 {
				t.Errorf("expect the request forwarded")
			}
		})
	}
}

// TestBufferBound checks that BitFlip and Truncate stay within MaxBuffer
// bytes of a longer body.
func TestBufferBound(t *testing.T) {
	const n, max = 100000, 1000
	blob := blobBytes(n)
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) { o.MaxBuffer = max })
	url := p.URL() + "/blob?n=" + strconv.Itoa(n)
	for range 20 {
		p.Inject(nil, BitFlip, 1)
		o := do(t, newClient(), http.MethodGet, url, nil, nil)
		if o.err != nil || len(o.body) != n || bitDiff(o.body[:max], blob[:max]) != 1 || !bytes.Equal(o.body[max:], blob[max:]) {
			t.Fatalf("expect 1 bit flipped in the first %d bytes, got %d bytes, %d bits, %v", max, len(o.body), bitDiff(o.body, blob), o.err)
		}
		p.Inject(nil, Truncate, 1)
		o = do(t, newClient(), http.MethodGet, url, nil, nil)
		if o.length != n || len(o.body) >= max || !errors.Is(o.err, io.ErrUnexpectedEOF) {
			t.Fatalf("expect fewer than %d of %d bytes, got %d of %d, %v", max, n, len(o.body), o.length, o.err)
		}
	}
}

// TestErrorFormats checks that injected errors are in the format of the
// request's service.
func TestErrorFormats(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL)
	c := newClient()
	form := url.Values{"Action": {"Publish"}, "Version": {snsVersion}, "Message": {"m"}}.Encode()

	t.Run("S3", func(t *testing.T) {
		p.Inject(nil, Forbidden, 1)
		o := do(t, c, http.MethodGet, p.URL()+"/bucket/key", nil, http.Header{"Authorization": {s3Auth}})
		var e s3Error
		if err := xml.Unmarshal(o.body, &e); err != nil || o.status != 403 || e.Code != "AccessDenied" {
			t.Errorf("expect 403 AccessDenied, got %d %q (%v)", o.status, o.body, err)
		}
	})
	t.Run("SQS JSON", func(t *testing.T) {
		p.Inject(nil, ErrorAfter, 1)
		o := do(t, c, http.MethodPost, p.URL()+"/", strings.NewReader("{}"), http.Header{
			"X-Amz-Target": {"AmazonSQS.SendMessage"}, "Content-Type": {"application/x-amz-json-1.0"},
		})
		var e struct {
			Type string `json:"__type"`
		}
		if err := json.Unmarshal(o.body, &e); err != nil || o.status != 500 || e.Type != "com.amazonaws.sqs#InternalError" ||
			o.header.Get("X-Amzn-Query-Error") != "InternalError;Receiver" {
			t.Errorf("expect 500 InternalError, got %d %v %q (%v)", o.status, o.header, o.body, err)
		}
	})
	t.Run("SNS query", func(t *testing.T) {
		p.Inject(nil, ErrorBefore, 1)
		o := do(t, c, http.MethodPost, p.URL()+"/", strings.NewReader(form), http.Header{
			"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"},
		})
		var e queryErrorResponse
		if err := xml.Unmarshal(o.body, &e); err != nil || o.status != 503 || e.Error.Code != "ServiceUnavailable" || e.Error.Type != "Receiver" {
			t.Errorf("expect 503 ServiceUnavailable, got %d %q (%v)", o.status, o.body, err)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		p.Inject(nil, ErrorBefore, 1)
		o := do(t, c, http.MethodGet, p.URL()+"/x", nil, nil)
		if o.status != 503 || !strings.HasPrefix(o.header.Get("Content-Type"), "text/plain") {
			t.Errorf("expect 503 in plain text, got %d %v", o.status, o.header)
		}
	})
	t.Run("upstream down", func(t *testing.T) {
		down := httptest.NewServer(http.NotFoundHandler())
		down.Close()
		p := startProxy(t, down.URL)
		o := do(t, c, http.MethodGet, p.URL()+"/bucket/key", nil, http.Header{"Authorization": {s3Auth}})
		if o.status != http.StatusBadGateway {
			t.Errorf("expect 502, got %d %v", o.status, o.err)
		}
		if st := waitStats(t, p, func(st Stats) bool { return st.Modes[None] == 1 }); st.UpstreamErrors != 1 {
			t.Errorf("expect 1 upstream error, got %v", st)
		}
	})
}

// TestRejectBeforeExpectContinue checks that a request waiting for 100
// Continue is refused without its body being sent.
func TestRejectBeforeExpectContinue(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL)
	p.Inject(nil, ErrorBefore, 1)
	c := &http.Client{Transport: &http.Transport{Proxy: nil, ExpectContinueTimeout: 5 * time.Second}}
	sent := &countingReader{r: bytes.NewReader(make([]byte, 8<<20))}
	req, _ := http.NewRequest(http.MethodPut, p.URL()+"/bucket/key", sent)
	req.ContentLength = 8 << 20
	req.Header.Set("Expect", "100-continue")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || sent.n.Load() != 0 {
		t.Errorf("expect 503 with no body sent, got %d after %d bytes", resp.StatusCode, sent.n.Load())
	}
	if len(b.seen()) != 0 {
		t.Errorf("expect nothing forwarded")
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// TestSlowAfterClientGone checks that SlowAfter stops waiting when the client
// gives up, long before its delay.
func TestSlowAfterClientGone(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) { o.SlowDelay = time.Hour })
	p.Inject(nil, SlowAfter, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/blob?n=10", nil)
	if _, err := newClient().Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expect the deadline to pass, got %v", err)
	}
	waitStats(t, p, func(st Stats) bool { return st.Modes[SlowAfter] == 1 })
	if len(b.seen()) != 1 {
		t.Errorf("expect the request forwarded")
	}
}

func TestClose(t *testing.T) {
	t.Run("cuts SlowAfter short", func(t *testing.T) {
		b := newBackend(t)
		p, err := New(b.URL, func(o *Options) { o.SlowDelay = time.Hour })
		if err != nil {
			t.Fatal(err)
		}
		p.Inject(nil, SlowAfter, 1)
		got := make(chan outcome)
		go func() { got <- do(t, newClient(), http.MethodGet, p.URL()+"/blob?n=10", nil, nil) }()
		waitStats(t, p, func(st Stats) bool { return st.Requests == 1 })
		time.Sleep(50 * time.Millisecond) // let it reach the wait
		start := time.Now()
		if err := p.Close(); err != nil {
			t.Errorf("expect a clean close, got %v", err)
		}
		if o := <-got; o.err != nil || len(o.body) != 10 {
			t.Errorf("expect the held response written, got %d bytes, %v", len(o.body), o.err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("expect Close to return at once, took %v", d)
		}
		if err := p.Close(); err != nil {
			t.Errorf("expect a second Close to return the same, got %v", err)
		}
	})
	t.Run("aborts a stuck request", func(t *testing.T) {
		b := newBackend(t)
		p, err := New(b.URL, func(o *Options) { o.CloseTimeout = 200 * time.Millisecond })
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan outcome)
		go func() { got <- do(t, newClient(), http.MethodGet, p.URL()+"/hang", nil, nil) }()
		waitStats(t, p, func(st Stats) bool { return st.Requests == 1 })
		// Wait until the request hangs in the backend, so that Close meets
		// it in flight however loaded the machine is.
		for deadline := time.Now().Add(10 * time.Second); len(b.seen()) == 0 && time.Now().Before(deadline); {
			time.Sleep(5 * time.Millisecond)
		}
		if len(b.seen()) == 0 {
			t.Fatal("the request never reached the backend")
		}
		// Close must end although the request never does; the bound is
		// loose, as a loaded machine is slow: it proves there is one.
		done := make(chan error, 1)
		go func() { done <- p.Close() }()
		select {
		case err := <-done:
			if err == nil {
				t.Error("expect Close to report the aborted request")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Close did not return although CloseTimeout is 200ms")
		}
		if o := <-got; o.err == nil && o.status == 200 {
			t.Errorf("expect the client to see the abort, got %d", o.status)
		}
		if _, err := newClient().Get(p.URL() + "/"); err == nil {
			t.Error("expect a closed proxy to refuse connections")
		}
	})
}

// TestCloseIgnoresUnusedConnection: a connection on which no request has
// arrived (a client's transport dials spares) is not a request running.
// net/http's Shutdown waits up to 5 s for it; Close must not report it.
func TestCloseIgnoresUnusedConnection(t *testing.T) {
	b := newBackend(t)
	p, err := New(b.URL, func(o *Options) { o.CloseTimeout = 200 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	if o := do(t, newClient(), http.MethodGet, p.URL()+"/", nil, nil); o.err != nil || o.status != http.StatusCreated {
		t.Fatalf("expect the request through, got %d %v", o.status, o.err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(50 * time.Millisecond) // accepted, however loaded
	if err := p.Close(); err != nil {
		t.Errorf("expect no error with no request running, got %v", err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("expect the unused connection closed")
	}
}

// TestAbortWritesNoAnswer: a request Close aborts ends with the client's
// connection closed, never with an answer. Close closes the connections
// right after it cancels the requests, so a handler that returns first
// would have http.Server answer 200 with an empty body; here the
// cancellation comes alone, so that the test sees what the handler does.
func TestAbortWritesNoAnswer(t *testing.T) {
	for name, hang := range map[string]func(o *Options){
		"while forwarding": nil,
		"while holding the answer": func(o *Options) {
			o.SlowDelay = time.Hour
			o.Rules = []Rule{{Rate: 1, Modes: []Mode{SlowAfter}}}
		},
		"during the latency": func(o *Options) { o.Latency = time.Hour },
	} {
		t.Run(name, func(t *testing.T) {
			b := newBackend(t)
			path := "/hang"
			if hang != nil {
				path = "/blob?n=10"
				defer close(b.release)
			}
			p := startProxy(t, b.URL, func(o *Options) {
				if hang != nil {
					hang(o)
				}
			})
			got := make(chan outcome, 1)
			go func() { got <- do(t, newClient(), http.MethodGet, p.URL()+path, nil, nil) }()
			waitStats(t, p, func(st Stats) bool { return st.Requests == 1 })
			time.Sleep(50 * time.Millisecond) // into the hang, however loaded
			p.cancel()
			select {
			case o := <-got:
				if o.err == nil {
					t.Errorf("expect the client to see the abort, got %d %q", o.status, o.body)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the aborted request never ended")
			}
		})
	}
}

// TestLatency checks that every request waits Options.Latency before it
// reaches the server or gets its fault. Only lower bounds are asserted: a
// loaded machine makes any request slower, never faster.
func TestLatency(t *testing.T) {
	t.Run("delays every request", func(t *testing.T) {
		const latency = 100 * time.Millisecond
		var mu sync.Mutex
		var arrived []time.Time
		b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			arrived = append(arrived, time.Now())
			mu.Unlock()
			io.Copy(w, r.Body)
		}))
		defer b.Close()
		p := startProxy(t, b.URL, func(o *Options) { o.Latency = latency })
		p.Inject(func(r *http.Request) bool { return r.URL.Path == "/refused" }, ErrorBefore, 1)
		c := &http.Client{Transport: &http.Transport{Proxy: nil}} // keep-alive: later requests reuse the connection
		for i, tc := range []struct {
			method, path, body string
			status             int
		}{
			{http.MethodGet, "/a", "", http.StatusOK},
			{http.MethodPut, "/b", "a body", http.StatusOK},
			{http.MethodGet, "/c", "", http.StatusOK},
			{http.MethodGet, "/refused", "", http.StatusServiceUnavailable},
		} {
			req, _ := http.NewRequest(tc.method, p.URL()+tc.path, strings.NewReader(tc.body))
			start := time.Now()
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			elapsed := time.Since(start)
			if resp.StatusCode != tc.status || (tc.status == http.StatusOK && string(got) != tc.body) {
				t.Errorf("%s %s: expect %d %q, got %d %q", tc.method, tc.path, tc.status, tc.body, resp.StatusCode, got)
			}
			if elapsed < latency {
				t.Errorf("%s %s: expect at least %v, took %v", tc.method, tc.path, latency, elapsed)
			}
			mu.Lock()
			if tc.status == http.StatusOK && len(arrived) == i+1 {
				if d := arrived[i].Sub(start); d < latency {
					t.Errorf("%s %s: expect the server to see it after at least %v, saw it after %v", tc.method, tc.path, latency, d)
				}
			}
			mu.Unlock()
		}
		mu.Lock()
		if len(arrived) != 3 {
			t.Errorf("expect 3 requests at the server, got %d", len(arrived))
		}
		mu.Unlock()
		if st := p.Stats(); st.Requests != 4 || st.Modes[None] != 3 || st.Modes[ErrorBefore] != 1 {
			t.Errorf("expect 3 pass-throughs and one ErrorBefore, got %+v", st)
		}
	})
	t.Run("client gone", func(t *testing.T) {
		b := newBackend(t)
		p := startProxy(t, b.URL, func(o *Options) { o.Latency = time.Hour })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/blob?n=10", nil)
		if _, err := newClient().Do(req); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("expect the deadline to pass, got %v", err)
		}
		waitStats(t, p, func(st Stats) bool { return st.Modes[None] == 1 })
		if n := len(b.seen()); n != 0 {
			t.Errorf("expect the request not forwarded, the server saw %d", n)
		}
	})
	t.Run("Close cuts it short", func(t *testing.T) {
		b := newBackend(t)
		p, err := New(b.URL, func(o *Options) { o.Latency = time.Hour })
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan outcome)
		go func() { got <- do(t, newClient(), http.MethodGet, p.URL()+"/blob?n=10", nil, nil) }()
		waitStats(t, p, func(st Stats) bool { return st.Requests == 1 })
		done := make(chan error, 1)
		go func() { done <- p.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("expect a clean close, got %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Close waited out the latency")
		}
		if o := <-got; o.err != nil || len(o.body) != 10 {
			t.Errorf("expect the request forwarded and answered, got %d bytes, %v", len(o.body), o.err)
		}
	})
}

func TestNewValidation(t *testing.T) {
	cases := map[string]struct {
		target string
		opts   func(*Options)
	}{
		"remote host":      {"http://192.0.2.1:80", nil},
		"name":             {"http://example.com:80", nil},
		"https":            {"https://127.0.0.1:443", nil},
		"no port":          {"http://127.0.0.1", nil},
		"path":             {"http://127.0.0.1:80/x", nil},
		"bad rate":         {"http://127.0.0.1:80", func(o *Options) { o.Rules = []Rule{{Modes: []Mode{BitFlip}, Rate: 1.5}} }},
		"no modes":         {"http://127.0.0.1:80", func(o *Options) { o.Rules = []Rule{{Rate: 0.5}} }},
		"None mode":        {"http://127.0.0.1:80", func(o *Options) { o.Rules = []Rule{{Modes: []Mode{None}, Rate: 0.5}} }},
		"negative delay":   {"http://127.0.0.1:80", func(o *Options) { o.SlowDelay = -1 }},
		"negative buffer":  {"http://127.0.0.1:80", func(o *Options) { o.MaxBuffer = -1 }},
		"unknown mode":     {"http://127.0.0.1:80", func(o *Options) { o.Rules = []Rule{{Modes: []Mode{numModes}, Rate: 0.5}} }},
		"negative timeout": {"http://127.0.0.1:80", func(o *Options) { o.CloseTimeout = -1 }},
		"negative latency": {"http://127.0.0.1:80", func(o *Options) { o.Latency = -1 }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var fns []func(*Options)
			if tc.opts != nil {
				fns = append(fns, tc.opts)
			}
			if p, err := New(tc.target, fns...); err == nil {
				p.Close()
				t.Errorf("expect an error")
			}
		})
	}
	for _, target := range []string{"http://127.0.0.1:1", "http://localhost:1/", "http://[::1]:1"} {
		p, err := New(target)
		if err != nil {
			t.Errorf("%s: expect no error, got %v", target, err)
			continue
		}
		if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
			t.Errorf("expect the proxy on 127.0.0.1, got %s", p.URL())
		}
		p.Close()
	}
}

// drive sends n requests one after another and returns, for each, its mode
// as the proxy's events report it and what the client received.
func drive(t *testing.T, seed uint64, n int) ([]Mode, []string) {
	t.Helper()
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) {
		o.Seed = seed
		o.Rules = []Rule{{Modes: []Mode{ErrorBefore, ErrorAfter, Truncate, BitFlip}, Rate: 0.5}}
	})
	c := newClient()
	var got []string
	for range n {
		o := do(t, c, http.MethodGet, p.URL()+"/blob?n=1000", nil, nil)
		got = append(got, fmt.Sprintf("%d %x %v", o.status, sha256.Sum256(o.body), o.err != nil))
	}
	waitStats(t, p, func(st Stats) bool { return st.Modes[None]+st.Faults() == int64(n) })
	modes := make([]Mode, n)
	for _, e := range p.Events() {
		modes[e.Seq-1] = e.Mode
	}
	return modes, got
}

func TestDeterminism(t *testing.T) {
	const n = 100
	modes1, got1 := drive(t, 7, n)
	modes2, got2 := drive(t, 7, n)
	if diff := cmp.Diff(modes1, modes2); diff != "" {
		t.Errorf("expect the same faults from the same seed (-first +second):\n%s", diff)
	}
	if diff := cmp.Diff(got1, got2); diff != "" {
		t.Errorf("expect the same responses from the same seed (-first +second):\n%s", diff)
	}
	modes3, _ := drive(t, 8, n)
	if cmp.Equal(modes1, modes3) {
		t.Errorf("expect another seed to give other faults")
	}
	faults := map[Mode]int{}
	for _, m := range modes1 {
		faults[m]++
	}
	if faults[None] < 30 || faults[None] > 70 || len(faults) != 5 {
		t.Errorf("expect about half the requests faulted, with every mode, got %v", faults)
	}
}

func TestRulesAndInjections(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) {
		o.Rules = []Rule{
			{Name: "never", Match: S3("GetObject"), Modes: []Mode{ErrorBefore}, Rate: 0},
			{Name: "s3", Match: S3(), Modes: []Mode{Forbidden}, Rate: 1},
		}
	})
	c := newClient()
	s3req := func(method, path string) int {
		return do(t, c, method, p.URL()+path, nil, http.Header{"Authorization": {s3Auth}}).status
	}
	// The first matching rule decides, even when it draws no fault.
	if got := s3req(http.MethodGet, "/b/k"); got != 201 {
		t.Errorf("GetObject: expect the first rule to pass it, got %d", got)
	}
	if got := s3req(http.MethodPut, "/b/k"); got != 403 {
		t.Errorf("PutObject: expect the second rule to forbid it, got %d", got)
	}
	// Injections come first, in order, one per request.
	p.Inject(S3("PutObject"), ErrorBefore, 2)
	p.Inject(nil, None, 1)
	if p.Pending() != 3 {
		t.Errorf("expect 3 pending, got %d", p.Pending())
	}
	for i, want := range []int{503, 503, 201, 403} {
		if got := s3req(http.MethodPut, "/b/k"); got != want {
			t.Errorf("PutObject %d: expect %d, got %d", i, want, got)
		}
	}
	// Disable stops rules and injections alike; Enable resumes both.
	p.Inject(nil, ErrorBefore, 1)
	p.Disable()
	if got := s3req(http.MethodPut, "/b/k"); got != 201 || p.Pending() != 1 {
		t.Errorf("disabled: expect a pass-through and the injection kept, got %d, %d pending", got, p.Pending())
	}
	p.Enable()
	if got := s3req(http.MethodPut, "/b/k"); got != 503 {
		t.Errorf("enabled: expect the injection, got %d", got)
	}
	// ClearPending drops what is left of the injections.
	p.Inject(S3("PutObject"), ErrorBefore, 2)
	p.Inject(nil, ErrorAfter, 1)
	if got := p.ClearPending(); got != 3 || p.Pending() != 0 {
		t.Errorf("expect 3 faults cleared and none pending, got %d, %d", got, p.Pending())
	}
	// SetRules replaces the rules and their counts.
	if err := p.SetRules(Rule{Match: S3("DeleteObject"), Modes: []Mode{Forbidden}, Rate: 1}); err != nil {
		t.Fatal(err)
	}
	if got := s3req(http.MethodPut, "/b/k"); got != 201 {
		t.Errorf("after SetRules: expect PutObject to pass, got %d", got)
	}
	if got := s3req(http.MethodDelete, "/b/k"); got != 403 {
		t.Errorf("after SetRules: expect DeleteObject forbidden, got %d", got)
	}
	if err := p.SetRules(Rule{Modes: []Mode{Forbidden}, Rate: -1}); err == nil {
		t.Error("expect SetRules to reject a bad rate")
	}
	st := waitStats(t, p, func(st Stats) bool { return st.Requests == st.Modes[None]+st.Faults() })
	if diff := cmp.Diff([]RuleStats{{Matched: 1, Faults: 1}}, st.Rules); diff != "" {
		t.Errorf("rule stats mismatch (-want +got):\n%s", diff)
	}
	if st.Requests != 10 || st.Injected != 4 || st.Faults() != 6 {
		t.Errorf("expect 10 requests, 4 injected, 6 faults, got %v", st)
	}
	if s := st.String(); !strings.Contains(s, "s3:PutObject: None 3, ErrorBefore 3, Forbidden 2") {
		t.Errorf("expect a per-operation line in\n%s", s)
	}
}

func TestEvents(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) { o.MaxEvents = 3 })
	c := newClient()
	for i := range 5 {
		p.Inject(nil, ErrorBefore, 1)
		do(t, c, http.MethodGet, p.URL()+"/e"+strconv.Itoa(i), nil, nil)
		do(t, c, http.MethodGet, p.URL()+"/pass", nil, nil)
	}
	waitStats(t, p, func(st Stats) bool { return st.Requests == 10 && st.Modes[None] == 5 && st.Faults() == 5 })
	var got []string
	for _, e := range p.Events() {
		got = append(got, e.String())
	}
	want := []string{"#5 ErrorBefore other GET /e2", "#7 ErrorBefore other GET /e3", "#9 ErrorBefore other GET /e4"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events mismatch (-want +got):\n%s", diff)
	}
}

// TestFormBodies checks that form bodies are read for matching only up to
// MaxFormBody and are forwarded intact either way.
func TestFormBodies(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) { o.MaxFormBody = 1000 })
	p.Inject(SNS("Publish"), ErrorAfter, 3)
	c := newClient()
	form := func(size int) string {
		return url.Values{"Action": {"Publish"}, "Version": {snsVersion}, "Message": {strings.Repeat("é", size)}}.Encode()
	}
	cases := map[string]struct {
		body    string
		chunked bool
		want    int
	}{
		"small":           {form(10), false, 500},
		"small, chunked":  {form(10), true, 500},
		"too big":         {form(1000), false, 201},
		"too big chunked": {form(1000), true, 201},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length
			}
			before := len(b.seen())
			o := do(t, c, http.MethodPost, p.URL()+"/", body, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
			s := b.seen()
			if o.status != tc.want || len(s) != before+1 || string(s[len(s)-1].Body) != tc.body {
				t.Errorf("expect %d and the body forwarded intact, got %d", tc.want, o.status)
			}
		})
	}
	if p.Pending() != 1 {
		t.Errorf("expect the two small bodies matched, %d of 3 pending", p.Pending())
	}
}

func TestMatchers(t *testing.T) {
	req := func(method, target string, header http.Header, form url.Values) *http.Request {
		r := httptest.NewRequest(method, target, nil)
		for k, vv := range header {
			r.Header[k] = vv
		}
		r.PostForm = form
		return r
	}
	s3Auth := http.Header{"Authorization": {s3Auth}}
	get := req(http.MethodGet, "/b/k?x-id=GetObject", s3Auth, nil)
	put := req(http.MethodPut, "/b/k?x-id=PutObject", s3Auth, nil)
	send := req(http.MethodPost, "/", http.Header{"X-Amz-Target": {"AmazonSQS.SendMessage"}}, nil)
	publish := req(http.MethodPost, "/", nil, url.Values{"Action": {"Publish"}, "Version": {snsVersion}})
	all := []*http.Request{get, put, send, publish}
	cases := map[string]struct {
		m    Matcher
		want []bool
	}{
		"nil":            {nil, []bool{true, true, true, true}},
		"S3()":           {S3(), []bool{true, true, false, false}},
		"S3(GetObject)":  {S3("GetObject"), []bool{true, false, false, false}},
		"SQS()":          {SQS(), []bool{false, false, true, false}},
		"SQS(Receive)":   {SQS("ReceiveMessage"), []bool{false, false, false, false}},
		"SNS(Publish)":   {SNS("Publish"), []bool{false, false, false, true}},
		"Or(S3Get,SNS)":  {Or(S3("GetObject"), SNS()), []bool{true, false, false, true}},
		"And(S3,S3Put)":  {And(S3(), S3("PutObject", "DeleteObject")), []bool{false, true, false, false}},
		"And()":          {And(), []bool{true, true, true, true}},
		"Or()":           {Or(), []bool{false, false, false, false}},
		"And(nil, SQS)":  {And(nil, SQS()), []bool{false, false, true, false}},
		"custom matcher": {func(r *http.Request) bool { return r.Method == http.MethodPut }, []bool{false, true, false, false}},
	}
	for name, tc := range cases {
		var got []bool
		for _, r := range all {
			got = append(got, tc.m.match(r))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: mismatch (-want +got):\n%s", name, diff)
		}
	}
	for _, bad := range []string{"s3:GetObject", "getObject", "", "Get Object"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("S3(%q): expect a panic", bad)
				}
			}()
			S3(bad)
		}()
	}
}

// TestConcurrency runs requests while the rules, injections and switches
// change under them; run it with -race.
func TestConcurrency(t *testing.T) {
	b := newBackend(t)
	p := startProxy(t, b.URL, func(o *Options) {
		o.SlowDelay = time.Millisecond
		o.Rules = []Rule{{Modes: []Mode{ErrorBefore, ResetBefore, ErrorAfter, ResetAfter, SlowAfter, Truncate, BitFlip, Forbidden}, Rate: 0.5}}
	})
	const workers, each = 8, 40
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{Proxy: nil}}
			for i := range each {
				path := "/blob?n=" + strconv.Itoa(100*(w+i))
				if i%3 == 0 {
					path = "/echo"
				}
				do(t, c, http.MethodPost, p.URL()+path, strings.NewReader("x"), nil)
			}
		}()
	}
	stop := make(chan struct{})
	var ctl sync.WaitGroup
	ctl.Add(1)
	go func() {
		defer ctl.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			switch i % 5 {
			case 0:
				p.Disable()
			case 1:
				p.Enable()
			case 2:
				p.Inject(nil, Mode(i%int(numModes)), 2)
			case 3:
				if err := p.SetRules(Rule{Modes: []Mode{BitFlip, Truncate}, Rate: 0.3}); err != nil {
					t.Error(err)
				}
			case 4:
				_ = p.Stats().String()
				_ = p.Events()
				_ = p.Pending()
			}
			time.Sleep(time.Millisecond)
		}
	}()
	wg.Wait()
	close(stop)
	ctl.Wait()
	st := waitStats(t, p, func(st Stats) bool { return st.Modes[None]+st.Faults() == workers*each })
	if st.Requests != workers*each {
		t.Errorf("expect %d requests, got %v", workers*each, st)
	}
}
