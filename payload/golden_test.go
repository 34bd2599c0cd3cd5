package payload

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// pointerVectors is the layout of testdata/pointers.json.
type pointerVectors struct {
	Valid []struct {
		Name      string `json:"name"`
		Writer    string `json:"writer"`
		Body      string `json:"body"`
		Bucket    string `json:"bucket"`
		Key       string `json:"key"`
		Canonical bool   `json:"canonical"`
	} `json:"valid"`
	Invalid []struct {
		Name       string `json:"name"`
		Why        string `json:"why"`
		Body       string `json:"body"`
		BodyBase64 string `json:"bodyBase64"`
		BodyFile   string `json:"bodyFile"`
	} `json:"invalid"`
}

// handleVectors is the layout of testdata/handles.json.
type handleVectors struct {
	Valid []struct {
		Name     string `json:"name"`
		Handle   string `json:"handle"`
		Bucket   string `json:"bucket"`
		Key      string `json:"key"`
		Original string `json:"original"`
	} `json:"valid"`
	Invalid []struct {
		Name   string `json:"name"`
		Handle string `json:"handle"`
		Why    string `json:"why"`
	} `json:"invalid"`
}

// loadJSON decodes testdata/name into v.
func loadJSON(tb testing.TB, name string, v any) {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		tb.Fatalf("testdata/%s: %v", name, err)
	}
}

func loadPointerVectors(tb testing.TB) pointerVectors {
	tb.Helper()
	var v pointerVectors
	loadJSON(tb, "pointers.json", &v)
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		tb.Fatal("testdata/pointers.json: no vectors")
	}
	return v
}

func loadHandleVectors(tb testing.TB) handleVectors {
	tb.Helper()
	var v handleVectors
	loadJSON(tb, "handles.json", &v)
	if len(v.Valid) == 0 || len(v.Invalid) == 0 {
		tb.Fatal("testdata/handles.json: no vectors")
	}
	return v
}

// invalidBodies returns the invalid pointer bodies by name, decoded from
// whichever field holds them.
func invalidBodies(tb testing.TB) map[string]string {
	tb.Helper()
	v := loadPointerVectors(tb)
	bodies := map[string]string{}
	for _, c := range v.Invalid {
		if _, dup := bodies[c.Name]; dup {
			tb.Fatalf("duplicate vector name %q", c.Name)
		}
		body := c.Body
		switch {
		case c.BodyBase64 != "":
			b, err := base64.StdEncoding.DecodeString(c.BodyBase64)
			if err != nil {
				tb.Fatalf("%s: %v", c.Name, err)
			}
			body = string(b)
		case c.BodyFile != "":
			b, err := os.ReadFile(filepath.Join("testdata", c.BodyFile))
			if err != nil {
				tb.Fatal(err)
			}
			body = string(b)
		}
		bodies[c.Name] = body
	}
	return bodies
}

func TestDecodePointerGolden(t *testing.T) {
	v := loadPointerVectors(t)
	for _, c := range v.Valid {
		t.Run(c.Name, func(t *testing.T) {
			got, err := DecodePointer(c.Body)
			if err != nil {
				t.Fatalf("expect no error, got %v (writer: %s)", err, c.Writer)
			}
			if want := (Pointer{Bucket: c.Bucket, Key: c.Key}); got != want {
				t.Errorf("expect %#v, got %#v", want, got)
			}
		})
	}
}

func TestEncodePointerGolden(t *testing.T) {
	v := loadPointerVectors(t)
	n := 0
	for _, c := range v.Valid {
		t.Run(c.Name, func(t *testing.T) {
			got, err := EncodePointer(Pointer{Bucket: c.Bucket, Key: c.Key})
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if c.Canonical && got != c.Body {
				t.Errorf("expect %s, got %s", c.Body, got)
			}
			// Whatever the writer, our encoding decodes to the same pointer.
			back, err := DecodePointer(got)
			if err != nil {
				t.Fatalf("expect no error decoding %s, got %v", got, err)
			}
			if want := (Pointer{Bucket: c.Bucket, Key: c.Key}); back != want {
				t.Errorf("expect %#v, got %#v", want, back)
			}
		})
		if c.Canonical {
			n++
		}
	}
	if n < 3 {
		t.Errorf("expect at least 3 canonical vectors, got %d", n)
	}
}

func TestDecodePointerInvalidGolden(t *testing.T) {
	for name, body := range invalidBodies(t) {
		t.Run(name, func(t *testing.T) {
			p, err := DecodePointer(body)
			if !errors.Is(err, ErrInvalidPointer) {
				t.Fatalf("expect %v, got %v (pointer %#v)", ErrInvalidPointer, err, p)
			}
			if p != (Pointer{}) {
				t.Errorf("expect the zero Pointer, got %#v", p)
			}
		})
	}
}

func TestOversizeVectorIsOtherwiseValid(t *testing.T) {
	body := invalidBodies(t)["oversize"]
	if len(body) != MaxPointerSize+1 {
		t.Fatalf("expect %d bytes, got %d", MaxPointerSize+1, len(body))
	}
	// One byte less of padding and it is a valid pointer: only size rejects it.
	if _, err := DecodePointer(body[:len(body)-1]); err != nil {
		t.Errorf("expect no error, got %v", err)
	}
}

func TestReceiptHandleGolden(t *testing.T) {
	v := loadHandleVectors(t)
	for _, c := range v.Valid {
		t.Run(c.Name, func(t *testing.T) {
			want := ReceiptHandle{Original: c.Original, Pointer: Pointer{Bucket: c.Bucket, Key: c.Key}}
			got, err := ParseReceiptHandle(c.Handle)
			if err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if got != want {
				t.Errorf("expect %#v, got %#v", want, got)
			}
			if got.HasPointer() != (c.Bucket != "") {
				t.Errorf("expect HasPointer %v, got %v", c.Bucket != "", got.HasPointer())
			}
			if s := want.String(); s != c.Handle {
				t.Errorf("expect %s, got %s", c.Handle, s)
			}
		})
	}
}

func TestParseReceiptHandleInvalidGolden(t *testing.T) {
	v := loadHandleVectors(t)
	for _, c := range v.Invalid {
		t.Run(c.Name, func(t *testing.T) {
			h, err := ParseReceiptHandle(c.Handle)
			if !errors.Is(err, ErrInvalidReceiptHandle) {
				t.Fatalf("expect %v, got %v (handle %#v; %s)", ErrInvalidReceiptHandle, err, h, c.Why)
			}
			if h != (ReceiptHandle{}) {
				t.Errorf("expect the zero ReceiptHandle, got %#v", h)
			}
		})
	}
}
