package faultproxy

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// exchange is one request being served.
type exchange struct {
	p *Proxy
	w http.ResponseWriter
	r *http.Request
	d decision
	e Event // for the event log; e.Op is the request's Operation
	// counted is set once the exchange is in the Stats.
	counted bool
}

// count puts the exchange in the Stats under mode, once. The proxy counts a
// request before the client can see any of its answer, so that Stats taken
// when an SDK call returns include every request the call made.
func (x *exchange) count(mode Mode, upstreamErr bool) {
	if !x.counted {
		x.counted = true
		x.p.record(x.d, x.e, mode, upstreamErr)
	}
}

// serve answers the request in mode x.d.mode, or as near as it can get.
func (x *exchange) serve() {
	w, r, mode := x.w, x.r, x.d.mode
	if !x.hold(x.p.opts.Latency) {
		x.count(None, false) // the client went away, or Close aborted it
		abort()
	}
	switch mode {
	case ErrorBefore, Forbidden:
		// Read the body as a server that rejects a request does, so that the
		// client is not cut off while still sending it; unless the client
		// waits for 100 Continue, which the rejection answers instead.
		if !strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
			io.Copy(io.Discard, r.Body)
		}
		status := http.StatusServiceUnavailable
		if mode == Forbidden {
			status = http.StatusForbidden
		}
		x.count(mode, false)
		writeError(w, r, x.e.Op, status, mode, "faultproxy: injected "+mode.String())
		return
	case ResetBefore:
		x.count(mode, false)
		reset(w)
		return
	}

	resp, err := x.p.forward(r)
	if err != nil {
		if r.Context().Err() != nil {
			x.count(None, false) // the client went away, or Close aborted it
			abort()
		}
		x.count(None, true)
		writeError(w, r, x.e.Op, http.StatusBadGateway, None, "faultproxy: forwarding: "+err.Error())
		return
	}
	defer resp.Body.Close()

	switch mode {
	case ErrorAfter:
		io.Copy(io.Discard, resp.Body)
		x.count(mode, false)
		writeError(w, r, x.e.Op, http.StatusInternalServerError, mode, "faultproxy: injected ErrorAfter")
	case ResetAfter:
		io.Copy(io.Discard, resp.Body)
		x.count(mode, false)
		reset(w)
	case SlowAfter:
		held := x.hold(x.p.opts.SlowDelay)
		x.count(mode, false)
		if !held {
			abort()
		}
		copyResponse(w, resp, nil)
	case Truncate:
		x.truncate(resp)
	case BitFlip:
		x.bitFlip(resp)
	default:
		x.count(None, false)
		copyResponse(w, resp, nil)
	}
}

// hold waits d, or until Close starts. It reports false if the client went
// away meanwhile.
func (x *exchange) hold(d time.Duration) bool {
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-x.p.closing:
		case <-x.r.Context().Done():
		}
	}
	return x.r.Context().Err() == nil
}

// forward sends r to the target as the client sent it: same method, path,
// query, headers (but the hop-by-hop ones) and body, and the same Host, which
// SigV4 signs.
func (p *Proxy) forward(r *http.Request) (*http.Response, error) {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme = p.target.Scheme
	out.URL.Host = p.target.Host
	out.Host = r.Host
	out.Close = false
	if r.ContentLength > 0 {
		// After Content-Length bytes the transport reads the body once
		// more, to check that it ends. If the server has answered by then
		// and the proxy written the header, http.Server has closed the
		// incoming body, the read fails, and the transport drops the
		// connection and with it the rest of the answer (a 200 cut short
		// to the client). The limit ends the body without that read.
		out.Body = readCloser{io.LimitReader(r.Body, r.ContentLength), r.Body}
	}
	removeHopHeaders(out.Header)
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header.Set("User-Agent", "") // keep Go's default one out
	}
	return p.transport.RoundTrip(out)
}

// hopHeaders are meaningful for one connection only, so a proxy drops them
// (RFC 9110, section 7.6.1).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

func removeHopHeaders(h http.Header) {
	for _, v := range h["Connection"] {
		for _, name := range strings.Split(v, ",") {
			if name = textproto.TrimString(name); name != "" {
				h.Del(name)
			}
		}
	}
	for _, name := range hopHeaders {
		h.Del(name)
	}
}

// copyResponse writes resp's status and headers, then prefix (bytes already
// read from resp.Body), then the rest of the body as it arrives.
func copyResponse(w http.ResponseWriter, resp *http.Response, prefix []byte) {
	h := w.Header()
	for k, vv := range resp.Header {
		h[k] = vv
	}
	removeHopHeaders(h)
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	if len(prefix) > 0 {
		if _, err := w.Write(prefix); err != nil {
			return
		}
	}
	// Flush every chunk: a stream must reach the client as it arrives,
	// not when a buffer fills.
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			// The server broke off: break off too, rather than let the
			// client take a short body for a whole one.
			abort()
		}
	}
	for k, vv := range resp.Trailer {
		h[http.TrailerPrefix+k] = vv
	}
}

// abort ends the exchange with the client's connection closed and nothing
// more written. A handler that merely returned would have http.Server answer
// 200 with an empty body: when Close aborts a request whose client is still
// connected, the client would take that for the server's answer.
func abort() {
	panic(http.ErrAbortHandler)
}

// reset closes the client's connection with a TCP RST and nothing written.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		abort() // closes the connection, if not with an RST
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// readPrefix reads up to max bytes of body, then the rest to count it, and
// returns the bytes read and the body's length.
func readPrefix(body io.Reader, max int64) ([]byte, int64, error) {
	prefix, err := io.ReadAll(io.LimitReader(body, max))
	if err != nil {
		return prefix, int64(len(prefix)), err
	}
	rest, err := io.Copy(io.Discard, body)
	return prefix, int64(len(prefix)) + rest, err
}

// truncate writes resp with its original length and a strict prefix of its
// body, cut at a point the decision's salt picks within the bytes it buffers,
// then closes the connection. A response with no body loses the end of its
// header block.
func (x *exchange) truncate(resp *http.Response) {
	prefix, total, err := readPrefix(resp.Body, x.p.opts.MaxBuffer)
	if err != nil {
		x.count(None, true)
		abort()
	}
	x.count(Truncate, false)
	conn, bw, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		abort()
	}
	defer conn.Close()
	// The client may stop reading; the write must not hang Close.
	conn.SetWriteDeadline(time.Now().Add(x.p.opts.CloseTimeout))
	h := resp.Header.Clone()
	removeHopHeaders(h)
	fmt.Fprintf(bw, "HTTP/1.1 %03d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	if total == 0 {
		h.Write(bw) // and no blank line
		bw.Flush()
		return
	}
	h.Set("Content-Length", strconv.FormatInt(total, 10))
	h.Write(bw)
	bw.WriteString("\r\n")
	bw.Write(prefix[:x.d.salt%uint64(len(prefix))])
	bw.Flush()
}

// bitFlip writes resp with one bit of its body flipped, within the first
// MaxBuffer bytes, at a place the decision's salt picks. An empty body is
// passed through and counted under None.
func (x *exchange) bitFlip(resp *http.Response) {
	prefix, err := io.ReadAll(io.LimitReader(resp.Body, x.p.opts.MaxBuffer))
	if err != nil {
		x.count(None, true)
		abort()
	}
	if len(prefix) == 0 {
		x.count(None, false)
	} else {
		bit := x.d.salt % (uint64(len(prefix)) * 8)
		prefix[bit/8] ^= 1 << (bit % 8)
		x.count(BitFlip, false)
	}
	copyResponse(x.w, resp, prefix)
}

// writeError answers r with status and an error body in the format of its
// service, so that the SDK parses it as it would the server's own: S3's
// <Error> XML, SQS's JSON protocol, or the query protocol's <ErrorResponse>.
// The X-Faultproxy-Fault header says who answered, for whoever reads logs.
func writeError(w http.ResponseWriter, r *http.Request, op string, status int, mode Mode, msg string) {
	h := w.Header()
	if mode != None {
		h.Set("X-Faultproxy-Fault", mode.String())
	}
	reqID := "faultproxy-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	svc := serviceOf(op)
	code := errorCode(svc, status)
	fault := "Receiver"
	if status < 500 {
		fault = "Sender"
	}
	var body []byte
	switch {
	case svc == "s3":
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", reqID)
		body = xmlBody(s3Error{Code: code, Message: msg, RequestID: reqID})
	case svc == "sqs" && r.Header.Get("X-Amz-Target") != "":
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Requestid", reqID)
		// Query-compatible services (SQS) take the code from this header.
		h.Set("X-Amzn-Query-Error", code+";"+fault)
		body, _ = json.Marshal(map[string]string{"__type": "com.amazonaws.sqs#" + code, "message": msg})
	case svc == "sqs" || svc == "sns":
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", reqID)
		body = xmlBody(queryErrorResponse{Error: queryError{fault, code, msg}, RequestID: reqID})
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		body = []byte(msg + "\n")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

// errorCode returns the error code svc answers with for status.
func errorCode(svc string, status int) string {
	switch status {
	case http.StatusForbidden:
		if svc == "sns" {
			return "AuthorizationError"
		}
		return "AccessDenied"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	}
	return "InternalError"
}

// s3Error is S3's error document.
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

// queryErrorResponse is the error document of the query protocol.
type queryErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Error     queryError
	RequestID string `xml:"RequestId"`
}

type queryError struct {
	Type    string // "Sender" or "Receiver"
	Code    string
	Message string
}

func xmlBody(v any) []byte {
	b, err := xml.Marshal(v)
	if err != nil {
		panic(err) // the types writeError passes always marshal
	}
	return append([]byte(xml.Header), b...)
}
