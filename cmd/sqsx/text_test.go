package main

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

func TestTextReader(t *testing.T) {
	cases := map[string]struct {
		in      string
		badAt   int64 // -1: valid
		oneByte bool
	}{
		"ascii":                       {"hello", -1, false},
		"multi-byte, one byte a read": {"größe ✓ 日本語 🚀", -1, true},
		"multi-byte, whole":           {"größe ✓ 日本語 🚀", -1, false},
		"invalid byte":                {"ab\xffcd", 2, false},
		"invalid byte, one at a time": {"ab\xffcd", 2, true},
		"bad continuation split":      {"x\xe6\x97z", 1, true},
		"truncated at the end":        {"abc\xe6\x97", 3, false},
		"truncated, one at a time":    {"abc\xf0\x9f\x9a", 3, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.in)
			if tc.oneByte {
				r = iotest.OneByteReader(r)
			}
			tr := &textReader{r: r}
			got, err := io.ReadAll(tr)
			if tc.badAt < 0 {
				if err != nil || string(got) != tc.in || tr.n != int64(len(tc.in)) {
					t.Fatalf("expect %q passed through, got %q, %v", tc.in, got, err)
				}
				return
			}
			want := "offset " + strconv.FormatInt(tc.badAt, 10) + ")"
			if err == nil || !strings.Contains(err.Error(), want) || tr.bad == nil {
				t.Fatalf("expect an error naming %s, got %v", want, err)
			}
		})
	}
}
