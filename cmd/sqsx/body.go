package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/sqsx/sqsx/payload"
)

// readHead reads from r up to room bytes (at least 0), plus one to know if
// more follow. A body that ends there is returned whole as head, with body
// reading it again; otherwise head is nil and body reads all of r from its
// first byte.
func readHead(r io.Reader, room int64) (body io.Reader, head []byte, err error) {
	buf := make([]byte, max(room, 0)+1)
	n, err := io.ReadFull(r, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return bytes.NewReader(buf[:n]), buf[:n], nil
	case err != nil:
		return nil, nil, err
	}
	return io.MultiReader(bytes.NewReader(buf), r), nil, nil
}

// checkInlineBody returns an error unless body can be sent: it is not
// empty and, when it is sent in the service itself (inline), it is text:
// valid UTF-8 and, for SQS (sqsChars), only the characters SQS accepts.
func checkInlineBody(body []byte, inline, sqsChars bool) error {
	if len(body) == 0 {
		return withHint(errors.New("the message body is empty, and SQS and SNS do not accept empty messages"), "Send a non-empty body.")
	}
	if !inline {
		return nil
	}
	service := "SNS"
	if sqsChars {
		service = "SQS"
	}
	if at, what := badText(body, sqsChars); at >= 0 {
		return withHint(fmt.Errorf("the message body is not text that %s accepts: %s, at byte offset %d", service, what, at),
			fmt.Sprintf("Nothing was sent. A body sent in %s must be text; to send other bytes, pass --always-s3: the body is then stored in S3 as it is "+
				"(sqsx receive gives back the same bytes, but the Java and Python extended clients read it as UTF-8 text). Or encode it, e.g. with base64.", service))
	}
	return nil
}

// badText returns the offset of the first byte of b that is not valid UTF-8
// or, with sqsChars, that starts a character SQS does not accept, and what
// is wrong there; or -1.
func badText(b []byte, sqsChars bool) (int, string) {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return i, fmt.Sprintf("byte 0x%02X is not valid UTF-8", b[i])
		case sqsChars && !sqsAllowed(r):
			return i, fmt.Sprintf("character %U is not allowed in SQS messages", r)
		}
		i += n
	}
	return -1, ""
}

// sqsAllowed reports whether SQS accepts r in a message body: #x9, #xA,
// #xD, #x20 to #xD7FF, #xE000 to #xFFFD and #x10000 to #x10FFFF.
func sqsAllowed(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// notTextWarning is the warning for a body stored in S3 whose first byte
// that is not valid UTF-8 is at offset at.
func notTextWarning(at int64) string {
	return fmt.Sprintf("the body is not valid UTF-8 (first invalid byte at offset %d); it was stored in S3 as it is: "+
		"sqsx receive gives back the same bytes, but the Java and Python extended clients read payloads as UTF-8 text", at)
}

// openBody opens the message body: file, or stdin when file is "" or "-".
// It returns its size, or -1 when unknown.
func openBody(file string, stdin io.Reader) (r io.ReadCloser, size int64, err error) {
	if file != "" && file != "-" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, 0, withHint(fmt.Errorf("reading --file: %w", err), "Check the path and its permissions.")
		}
		size = -1
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size()
		}
		return fh, size, nil
	}
	size = -1
	if fh, ok := stdin.(*os.File); ok {
		if fi, err := fh.Stat(); err == nil && fi.Mode().IsRegular() {
			size = fi.Size() // standard input redirected from a file
		}
	}
	return io.NopCloser(stdin), size, nil
}

// readAll reads r to its end, or until ctx is done. size, if not -1, is
// the expected size.
func readAll(ctx context.Context, r io.Reader, size int64, what string) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		var buf bytes.Buffer
		if size > 0 {
			buf.Grow(int(size) + bytes.MinRead)
		}
		_, err := buf.ReadFrom(r)
		done <- result{buf.Bytes(), err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			return nil, withHint(fmt.Errorf("reading %s: %w", what, res.err), "Check the input and retry.")
		}
		return res.b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// utf8Check passes a message body through, counting its bytes and noting
// the offset of the first byte that is not valid UTF-8, without holding more
// than a character split across reads. It never fails a read.
type utf8Check struct {
	r     io.Reader
	n     int64  // bytes read
	carry []byte // the start of a character split across reads
	badAt int64  // offset of the first invalid byte, or -1
}

func (t *utf8Check) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if t.badAt < 0 {
		t.scan(p[:n], err == io.EOF)
	}
	t.n += int64(n)
	return n, err
}

// scan checks b, the bytes read after the first t.n; eof: no more follow.
func (t *utf8Check) scan(b []byte, eof bool) {
	at := t.n - int64(len(t.carry)) // offset of the first byte to check
	if len(t.carry) > 0 {
		// Finish the split character with the first bytes of b.
		k := min(len(b), utf8.UTFMax-len(t.carry))
		c := append(t.carry, b[:k]...)
		if !utf8.FullRune(c) {
			t.carry = c
			if eof {
				t.badAt = at
			}
			return
		}
		r, size := utf8.DecodeRune(c)
		if r == utf8.RuneError && size == 1 {
			t.badAt = at
			return
		}
		b = b[size-len(t.carry):]
		at += int64(size)
		t.carry = t.carry[:0]
	}
	// Keep back an incomplete character at the end.
	cut := len(b)
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				cut = i
			}
			break
		}
	}
	if i, _ := badText(b[:cut], false); i >= 0 {
		t.badAt = at + int64(i)
		return
	}
	t.carry = append(t.carry, b[cut:]...)
	if eof && len(t.carry) > 0 {
		t.badAt = at + int64(cut)
	}
}

// readStdinNote tells the user that standard input is being read when it is
// a terminal, since the command would otherwise seem to hang.
func readStdinNote(u *ui, what string) {
	if isTerminal(u.stdin) {
		u.notef("%s: reading %s from the terminal; end it with Ctrl-D\n", u.name(), what)
	}
}

// outgoingBody is the body of a message to send or publish, read from
// --file or standard input through a progress bar, and checked for text as
// it streams.
type outgoingBody struct {
	rc   io.ReadCloser
	p    *progress
	text *utf8Check
}

// openOutgoing opens the body of a message to send: file, or standard
// input when file is "" or "-". The progress bar, labelled desc, is drawn
// for a body over threshold bytes.
func openOutgoing(u *ui, file, desc string, threshold int64) (*outgoingBody, error) {
	r, size, err := openBody(file, u.stdin)
	if err != nil {
		return nil, err
	}
	if file == "" || file == "-" {
		readStdinNote(u, "the message body")
	}
	p := newProgress(u.progressOut(), desc, size, threshold)
	return &outgoingBody{rc: r, p: p, text: &utf8Check{r: p.reader(r), badAt: -1}}, nil
}

// start returns the body to stream. A body sent in the service itself must
// be text, which is checked before anything is sent: start reads room
// bytes, what the service could still carry, plus one to know if more
// follow. A body that ends there goes in the service when inline, and must
// then be text it accepts (sqsChars: SQS's characters), or start returns an
// error with exitUsage; a longer one streams to S3 as it is, and is never
// held whole.
func (b *outgoingBody) start(room int64, inline, sqsChars bool) (io.Reader, int, error) {
	body, head, err := readHead(b.text, room)
	if err != nil {
		return nil, exitError, withHint(fmt.Errorf("reading the message body: %w", err), "Check the input and retry; nothing was sent.")
	}
	if head != nil {
		if err := checkInlineBody(head, inline, sqsChars); err != nil {
			return nil, exitUsage, err
		}
	}
	return body, exitOK, nil
}

// close removes the progress bar and closes the body's file.
func (b *outgoingBody) close() {
	b.p.finish()
	b.rc.Close()
}

// offloadResult is what send and publish print with --output json after
// the service's own fields.
type offloadResult struct {
	Size           int64
	AttributesSize int64
	Offloaded      bool
	// Payload is s3://BUCKET/KEY of a body stored in S3.
	Payload string `json:",omitempty"`
	Warning string `json:",omitempty"`
}

// result returns what the library reports of the body sent, md, and the
// warning for a body that is not UTF-8.
func (b *outgoingBody) result(md payload.OffloadMetadata) offloadResult {
	r := offloadResult{Size: md.Size, AttributesSize: md.AttributesSize, Offloaded: md.Offloaded}
	if md.Offloaded {
		r.Payload = md.Pointer.String()
	}
	if b.text.badAt >= 0 {
		r.Warning = notTextWarning(b.text.badAt)
	}
	return r
}

// printSent reports a message sent or published: res with --output json;
// else the message id on standard output, the warning and the summary on
// standard error.
func printSent(u *ui, res any, id, warning, summary string) int {
	if u.json {
		u.emit(res)
		return exitOK
	}
	fmt.Fprintln(u.stdout, id)
	if warning != "" {
		u.warnf("%s", warning)
	}
	u.notef("%s: %s\n", u.name(), summary)
	return exitOK
}

// offloadSummary says where a message's body went, from what the library
// reports: "body stored in S3 bucket B (...)" or "body sent in SERVICE
// (...)".
func offloadSummary(md payload.OffloadMetadata, service string) string {
	switch {
	case md.Offloaded && md.AlwaysThroughS3:
		return fmt.Sprintf("body stored in S3 bucket %s (--always-s3)", md.Pointer.Bucket)
	case md.Offloaded:
		return fmt.Sprintf("body stored in S3 bucket %s (over the %d-byte threshold)", md.Pointer.Bucket, md.Threshold)
	}
	return fmt.Sprintf("body sent in %s (within the %d-byte threshold)", service, md.Threshold)
}
