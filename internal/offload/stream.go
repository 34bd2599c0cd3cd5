package offload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sqsx/sqsx/payload"
)

// ReadHead reads from body what could still be sent in the service itself
// in call, plus one byte to know whether more follows. If body ends there,
// it returns it whole (rest nil); otherwise rest reads the whole body, from
// its first byte, for OffloadStream.
func (c *Core[V]) ReadHead(op string, body io.Reader, attrs map[string]V, call Call) (head []byte, rest io.Reader, err error) {
	room := max(call.Threshold-c.AttributesSize(attrs), 0)
	head = make([]byte, room+1)
	n, err := io.ReadFull(body, head)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return head[:n], nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("sqsx: %s: reading the body: %w", op, err)
	}
	return nil, io.MultiReader(bytes.NewReader(head), body), nil
}

// OffloadStream streams the body read from r to S3, as payload.Store's
// PutReaderAt does, for a message with attrs that is too large for the
// service, and returns the form in which to send it and the body's size.
// When dedup reports so, it also returns the content-based deduplication id
// of the body (see DedupID), computed as it streams. A message that may not be
// offloaded is an *payload.InputError.
func (c *Core[V]) OffloadStream(ctx context.Context, op string, r io.Reader, attrs map[string]V, call Call, dedup func() bool) (w *Wire[V], size int64, dedupID *string, err error) {
	m := Msg[V]{Attrs: attrs}
	if field, err := c.checkOffload(m, call); err != nil {
		return nil, 0, nil, &payload.InputError{Op: op, Field: field, Err: err}
	}
	// The size is not known yet: check the wire form with the widest one.
	w, err = c.prepare(ctx, widest, attrs, call)
	if errors.Is(err, payload.ErrAttributesTooLarge) {
		return nil, 0, nil, &payload.InputError{Op: op, Field: "MessageAttributes", Err: err}
	} else if err != nil {
		return nil, 0, nil, err
	}
	var sum hash.Hash
	if dedup() {
		sum = sha256.New()
		r = io.TeeReader(r, sum)
	}
	if size, err = c.Store.PutReaderAt(ctx, w.Pointer, r); err != nil {
		return nil, size, nil, err
	}
	w.Attrs = c.withSize(attrs, size)
	if sum != nil {
		dedupID = aws.String(hex.EncodeToString(sum.Sum(nil)))
	}
	return w, size, dedupID, nil
}

// DedupID returns the deduplication id to send with a message whose body
// went to S3: given if set, else, when contentDedup reports that the target
// is a FIFO queue or topic that deduplicates by content, the SHA-256 of
// body, what the service would compute from the body itself (it would hash
// the pointer, which is new on every send, so that no resend would be
// caught), else nil.
func DedupID(given *string, body string, contentDedup func() bool) *string {
	if given != nil || !contentDedup() {
		return given
	}
	sum := sha256.Sum256([]byte(body))
	return aws.String(hex.EncodeToString(sum[:]))
}

// CheckStream validates the input of a send whose body is read from body:
// the input's own body must not be set (bodySet), body must not be nil, and
// no reserved attribute may be set. The body itself is checked as it is
// read. It returns an *payload.InputError.
func (s *Service[V]) CheckStream(op string, bodySet bool, body io.Reader, attrs map[string]V) error {
	switch {
	case bodySet:
		return &payload.InputError{Op: op, Field: s.BodyField, Err: errors.New("must be nil: the body is read from the reader")}
	case body == nil:
		return &payload.InputError{Op: op, Field: "body", Err: payload.ErrEmptyBody}
	}
	if field, err := CheckAttributes(attrs); err != nil {
		return &payload.InputError{Op: op, Field: field, Err: err}
	}
	return nil
}
