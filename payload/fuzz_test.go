package payload

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

func FuzzDecodePointer(f *testing.F) {
	v := loadPointerVectors(f)
	for _, c := range v.Valid {
		f.Add(c.Body)
	}
	for _, body := range invalidBodies(f) {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := DecodePointer(body)

		var generic []any
		stdErr := json.Unmarshal([]byte(body), &generic)
		if stdErr != nil || !utf8.ValidString(body) {
			if err == nil {
				t.Fatalf("expect an error (encoding/json: %v, valid UTF-8: %v), got %#v",
					stdErr, utf8.ValidString(body), p)
			}
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPointer) {
				t.Fatalf("expect %v, got %v", ErrInvalidPointer, err)
			}
			if p != (Pointer{}) {
				t.Fatalf("expect the zero Pointer on error, got %#v", p)
			}
			return
		}

		if err := p.Validate(); err != nil {
			t.Fatalf("expect a valid pointer, got %v for %#v", err, p)
		}
		if len(body) > MaxPointerSize {
			t.Fatalf("expect bodies over %d bytes to be rejected, got %d bytes accepted", MaxPointerSize, len(body))
		}
		// encoding/json sees the same array.
		if len(generic) != 2 {
			t.Fatalf("expect 2 elements per encoding/json, got %d", len(generic))
		}
		if class, _ := generic[0].(string); class != PointerClass && class != LegacyPointerClass {
			t.Fatalf("expect a pointer class per encoding/json, got %#v", generic[0])
		}
		obj, _ := generic[1].(map[string]any)
		want := map[string]any{"s3BucketName": p.Bucket, "s3Key": p.Key}
		if len(obj) != len(want) || obj["s3BucketName"] != want["s3BucketName"] || obj["s3Key"] != want["s3Key"] {
			t.Fatalf("expect %#v per encoding/json, got %#v", want, generic[1])
		}

		enc, err := EncodePointer(p)
		if err != nil {
			t.Fatalf("expect no error encoding %#v, got %v", p, err)
		}
		back, err := DecodePointer(enc)
		if err != nil {
			t.Fatalf("expect no error decoding %q, got %v", enc, err)
		}
		if back != p {
			t.Fatalf("expect %#v, got %#v", p, back)
		}
	})
}

func FuzzReceiptHandle(f *testing.F) {
	v := loadHandleVectors(f)
	for _, c := range v.Valid {
		f.Add(c.Handle, c.Bucket, c.Key, c.Original)
	}
	for _, c := range v.Invalid {
		f.Add(c.Handle, "my-bucket", "k", "AQEB+/==")
	}
	f.Fuzz(func(t *testing.T, handle, bucket, key, original string) {
		h, err := ParseReceiptHandle(handle)
		switch {
		case err != nil:
			if !errors.Is(err, ErrInvalidReceiptHandle) {
				t.Fatalf("expect %v, got %v", ErrInvalidReceiptHandle, err)
			}
		case h.HasPointer():
			if s := h.String(); s != handle {
				t.Fatalf("expect %q, got %q", handle, s)
			}
			if err := h.Pointer.Validate(); err != nil {
				t.Fatalf("expect a valid pointer, got %v", err)
			}
			if h.Original == "" {
				t.Fatalf("expect an original handle, got none from %q", handle)
			}
		default:
			if h.Original != handle {
				t.Fatalf("expect %q untouched, got %q", handle, h.Original)
			}
		}

		p := Pointer{Bucket: bucket, Key: key}
		if p.Validate() != nil || original == "" {
			return
		}
		want := ReceiptHandle{Original: original, Pointer: p}
		got, err := ParseReceiptHandle(want.String())
		if err != nil {
			t.Fatalf("expect no error parsing %q, got %v", want.String(), err)
		}
		if got != want {
			t.Fatalf("expect %#v, got %#v", want, got)
		}
	})
}
