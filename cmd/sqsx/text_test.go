package main

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader returns the bytes of b in reads of at most size bytes.
type chunkReader struct {
	b    []byte
	size int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.size)], c.b)
	c.b = c.b[n:]
	return n, nil
}

func TestUTF8Check(t *testing.T) {
	const chunk = 1 << 10
	text := strings.Repeat("größe ✓ 日本語 🚀 ", 300) // about 8 KiB, multi-byte characters across chunk boundaries
	at := func(s string, i int, bad string) string { return s[:i] + bad + s[i:] }
	cases := map[string]struct {
		in    string
		badAt int64 // -1: valid
	}{
		"ascii":                         {"hello", -1},
		"multi-byte":                    {text, -1},
		"invalid first byte":            {"\xff" + text, 0},
		"invalid byte in the middle":    {at(text, 4000, "\xff"), -2},
		"invalid byte at a chunk start": {at("a"+strings.Repeat("x", chunk-1)+"yz", chunk, "\xff"), chunk},
		"invalid byte ending a chunk":   {at(strings.Repeat("x", chunk+10), chunk-1, "\xff"), chunk - 1},
		"bad continuation split":        {strings.Repeat("x", chunk-1) + "\xe6\x97z", chunk - 1},
		"invalid last byte":             {text + "\xff", int64(len(text))},
		"truncated at the end":          {text + "\xf0\x9f\x9a", int64(len(text))},
		"overlong encoding":             {"ab\xc0\xafcd", 2},
		"surrogate":                     {"ab\xed\xa0\x80", 2},
		"two bad bytes: the first":      {at(at(text, 5000, "\xfe"), 1, "\xff"), 1},
	}
	for name, tc := range cases {
		if tc.badAt == -2 {
			tc.badAt = int64(strings.IndexByte(tc.in, 0xff))
		}
		for _, rd := range []struct {
			name string
			r    func(string) io.Reader
		}{
			{"whole", func(s string) io.Reader { return strings.NewReader(s) }},
			{"one byte a read", func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) }},
			{"1 KiB a read", func(s string) io.Reader { return &chunkReader{b: []byte(s), size: chunk} }},
			{"7 bytes a read", func(s string) io.Reader { return &chunkReader{b: []byte(s), size: 7} }},
			{"data with EOF", func(s string) io.Reader { return iotest.DataErrReader(&chunkReader{b: []byte(s), size: chunk}) }},
		} {
			t.Run(name+"/"+rd.name, func(t *testing.T) {
				tr := &utf8Check{r: rd.r(tc.in), badAt: -1}
				got, err := io.ReadAll(tr)
				if err != nil || !bytes.Equal(got, []byte(tc.in)) || tr.n != int64(len(tc.in)) {
					t.Fatalf("expect the %d bytes passed through, got %d (n %d), %v", len(tc.in), len(got), tr.n, err)
				}
				if tr.badAt != tc.badAt {
					t.Errorf("expect first invalid byte at %d, got %d", tc.badAt, tr.badAt)
				}
				if want, _ := badText([]byte(tc.in), false); int64(want) != tc.badAt {
					t.Errorf("badText: expect %d, got %d", tc.badAt, want)
				}
			})
		}
	}
}

func TestBadTextSQSCharacters(t *testing.T) {
	cases := map[string]struct {
		in   string
		at   int
		what string
	}{
		"tab, LF, CR":       {"a\tb\nc\r", -1, ""},
		"NUL":               {"ab\x00", 2, "U+0000"},
		"escape":            {"é\x1b[0m", 2, "U+001B"},
		"U+FFFE":            {"x\uFFFE", 1, "U+FFFE"},
		"U+FFFD is allowed": {"x\uFFFD", -1, ""},
		"outside the BMP":   {"🚀", -1, ""},
		"invalid UTF-8":     {"ok\xff", 2, "0xFF"},
	}
	for name, tc := range cases {
		at, what := badText([]byte(tc.in), true)
		if at != tc.at || !strings.Contains(what, tc.what) {
			t.Errorf("%s: expect %d %q, got %d %q", name, tc.at, tc.what, at, what)
		}
	}
}
