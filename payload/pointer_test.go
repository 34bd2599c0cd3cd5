package payload

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateBucketName(t *testing.T) {
	cases := map[string]struct {
		name string
		ok   bool
	}{
		"simple":              {"my-bucket", true},
		"dotted":              {"payloads.example.com", true},
		"digits":              {"123", true},
		"3 characters":        {"abc", true},
		"63 characters":       {strings.Repeat("a", 63), true},
		"directory bucket":    {"my-bucket--usw2-az1--x-s3", true},
		"looks like a number": {"1.2.3", true},
		"empty":               {"", false},
		"2 characters":        {"ab", false},
		"64 characters":       {strings.Repeat("a", 64), false},
		"uppercase":           {"My-bucket", false},
		"underscore":          {"my_bucket", false},
		"space":               {"my bucket", false},
		"slash":               {"my-bucket/x", false},
		"colon":               {"host:443", false},
		"non-ASCII":           {"bücket", false},
		"leading hyphen":      {"-bucket", false},
		"trailing hyphen":     {"bucket-", false},
		"leading dot":         {".bucket", false},
		"trailing dot":        {"bucket.", false},
		"double dot":          {"my..bucket", false},
		"IPv4":                {"192.168.10.1", false},
		"IPv4 zeros":          {"0.0.0.0", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateBucketName(c.name)
			if (err == nil) != c.ok {
				t.Errorf("expect ok=%v, got %v", c.ok, err)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	cases := map[string]struct {
		key string
		ok  bool
	}{
		"uuid":                    {"0f8fad5b-d9cb-469f-a165-70867728950e", true},
		"prefixed":                {"payloads/2026/0f8fad5b-d9cb-469f-a165-70867728950e", true},
		"one byte":                {"k", true},
		"1024 bytes":              {strings.Repeat("k", 1024), true},
		"1024 bytes multi-byte":   {strings.Repeat("é", 512), true},
		"non-ASCII":               {"日本/ключ/🔑", true},
		"JSON specials":           {`a"b\c<d>&e`, true},
		"dots in a segment":       {"a/.b/c./.../d..e", true},
		"marker fragment":         {"a-..s3Key.-b", true},
		"empty":                   {"", false},
		"1025 bytes":              {strings.Repeat("k", 1025), false},
		"1025 bytes multi-byte":   {strings.Repeat("é", 512) + "k", false},
		"invalid UTF-8":           {"a\xffb", false},
		"truncated UTF-8":         {"a\xc3", false},
		"NUL":                     {"a\x00b", false},
		"newline":                 {"a\nb", false},
		"tab":                     {"a\tb", false},
		"unit separator":          {"a\x1fb", false},
		"DEL":                     {"a\x7fb", false},
		"leading slash":           {"/a", false},
		"only slash":              {"/", false},
		"dot":                     {".", false},
		"dotdot":                  {"..", false},
		"dot segment":             {"a/./b", false},
		"dotdot segment":          {"a/../b", false},
		"leading dotdot":          {"../b", false},
		"trailing dotdot":         {"a/..", false},
		"trailing dot":            {"a/.", false},
		"bucket marker":           {"x" + BucketMarker + "y", false},
		"key marker":              {"x" + KeyMarker + "y", false},
		"ends in partial marker":  {"victim-..s3Key..", false},
		"ends in shorter partial": {"victim-..s3", true}, // cannot form a marker with the closing one
		"C1 control":              {"a\u0085b", false},

		// versitygw serves these keys as other keys ("a//b" as "a/b", "./a"
		// as "a", "a//" as "a/"; see TestIntegKeyNormalisation): a check on
		// a pointer's key would see one key and the server read another.
		"double slash":          {"a//b", false},
		"triple slash":          {"a///b", false},
		"leading double slash":  {"//a", false},
		"trailing double slash": {"a//", false},
		"leading dot segment":   {"./a", false},
		// It keeps "a/b/" and "a/b" apart.
		"trailing slash": {"a/b/", true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateKey(c.key)
			if (err == nil) != c.ok {
				t.Errorf("expect ok=%v, got %v", c.ok, err)
			}
		})
	}
}

// TestAliasedKeysRefusedEverywhere: the keys ValidateKey refuses because a
// server serves them as other keys are refused by every parser that takes a
// key from outside, not only by ValidateKey.
func TestAliasedKeysRefusedEverywhere(t *testing.T) {
	for _, key := range []string{"a//b", "a//", "//a", "/a", "./a", "a/./b", "a/.", "a/../b", "a/b/.."} {
		t.Run(key, func(t *testing.T) {
			if err := ValidateKey(key); err == nil {
				t.Errorf("ValidateKey: expect an error, got none")
			}
			p := Pointer{Bucket: "my-bucket", Key: key}
			if _, err := EncodePointer(p); !errors.Is(err, ErrInvalidPointer) {
				t.Errorf("EncodePointer: expect %v, got %v", ErrInvalidPointer, err)
			}
			k, err := json.Marshal(key)
			if err != nil {
				t.Fatal(err)
			}
			body := `["` + PointerClass + `",{"s3BucketName":"my-bucket","s3Key":` + string(k) + `}]`
			if got, err := DecodePointer(body); !errors.Is(err, ErrInvalidPointer) {
				t.Errorf("DecodePointer: expect %v, got %#v, %v", ErrInvalidPointer, got, err)
			}
			handle := ReceiptHandle{Original: "AQEB+/==", Pointer: p}.String()
			if got, err := ParseReceiptHandle(handle); !errors.Is(err, ErrInvalidReceiptHandle) {
				t.Errorf("ParseReceiptHandle: expect %v, got %#v, %v", ErrInvalidReceiptHandle, got, err)
			}
		})
	}
}

func TestPointerValidate(t *testing.T) {
	cases := map[string]struct {
		p  Pointer
		ok bool
	}{
		"valid":       {Pointer{"my-bucket", "k"}, true},
		"zero":        {Pointer{}, false},
		"bad bucket":  {Pointer{"B", "k"}, false},
		"bad key":     {Pointer{"my-bucket", "../k"}, false},
		"no key":      {Pointer{Bucket: "my-bucket"}, false},
		"no bucket":   {Pointer{Key: "k"}, false},
		"both wrong":  {Pointer{"B", ""}, false},
		"IP bucket":   {Pointer{"10.1.2.3", "k"}, false},
		"control key": {Pointer{"my-bucket", "k\r"}, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := c.p.Validate()
			if (err == nil) != c.ok {
				t.Errorf("expect ok=%v, got %v", c.ok, err)
			}
		})
	}
}

func TestPointerString(t *testing.T) {
	p := Pointer{Bucket: "my-bucket", Key: "payloads/2026/k"}
	if got, want := p.String(), "s3://my-bucket/payloads/2026/k"; got != want {
		t.Errorf("expect %q, got %q", want, got)
	}
}

func TestEncodePointerRejectsInvalid(t *testing.T) {
	cases := map[string]Pointer{
		"zero":           {},
		"bad bucket":     {Bucket: "My-Bucket", Key: "k"},
		"dotdot key":     {Bucket: "my-bucket", Key: "a/../b"},
		"invalid UTF-8":  {Bucket: "my-bucket", Key: "\xff"},
		"control in key": {Bucket: "my-bucket", Key: "a\x00"},
		"key too long":   {Bucket: "my-bucket", Key: strings.Repeat("k", MaxKeyLength+1)},
	}
	for name, p := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := EncodePointer(p)
			if !errors.Is(err, ErrInvalidPointer) {
				t.Errorf("expect %v, got %v", ErrInvalidPointer, err)
			}
			if got != "" {
				t.Errorf("expect an empty body, got %q", got)
			}
		})
	}
}

// escapeAll writes s as a JSON string with every character \u-escaped.
func escapeAll(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, u := range s {
		if u > 0xffff {
			panic("escapeAll: ASCII and BMP only")
		}
		fmt.Fprintf(&b, `\u%04x`, u)
	}
	b.WriteByte('"')
	return b.String()
}

// The doc of MaxPointerSize promises that the largest valid pointer, fully
// escaped, fits.
func TestDecodePointerLargestEscaped(t *testing.T) {
	p := Pointer{Bucket: strings.Repeat("b", 63), Key: strings.Repeat("k", MaxKeyLength)}
	for _, class := range []string{PointerClass, LegacyPointerClass} {
		body := "[" + escapeAll(class) + ",{" + escapeAll("s3BucketName") + ":" + escapeAll(p.Bucket) +
			"," + escapeAll("s3Key") + ":" + escapeAll(p.Key) + "}]"
		if len(body) > MaxPointerSize {
			t.Fatalf("expect at most %d bytes, got %d", MaxPointerSize, len(body))
		}
		got, err := DecodePointer(body)
		if err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
		if got != p {
			t.Errorf("expect %v, got %v", p, got)
		}
	}
}

func TestDecodePointerSizeLimit(t *testing.T) {
	p := Pointer{Bucket: "my-bucket", Key: "k"}
	compact, err := EncodePointer(p)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		size int
		ok   bool
	}{
		"compact":            {len(compact), true},
		"exactly the limit":  {MaxPointerSize, true},
		"one byte over":      {MaxPointerSize + 1, false},
		"far over the limit": {1 << 20, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			// Leading whitespace is valid JSON: only the size can reject it.
			body := strings.Repeat(" ", c.size-len(compact)) + compact
			got, err := DecodePointer(body)
			if c.ok {
				if err != nil || got != p {
					t.Errorf("expect %v, got %v, %v", p, got, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPointer) {
				t.Errorf("expect %v, got %v", ErrInvalidPointer, err)
			}
		})
	}
}

func TestDecodePointerErrorNamesTheProblem(t *testing.T) {
	cases := map[string]struct {
		body string
		want string
	}{
		"unknown class":  {`["x",{"s3BucketName":"my-bucket","s3Key":"k"}]`, `unknown pointer class "x"`},
		"duplicate":      {`["` + PointerClass + `",{"s3Key":"k","s3Key":"k"}]`, `duplicate field "s3Key"`},
		"unknown field":  {`["` + PointerClass + `",{"s3BucketName":"my-bucket","s3Key":"k","x":"y"}]`, `unknown field "x"`},
		"missing key":    {`["` + PointerClass + `",{"s3BucketName":"my-bucket"}]`, "missing field s3Key"},
		"missing bucket": {`["` + PointerClass + `",{"s3Key":"k"}]`, "missing field s3BucketName"},
		"trailing data":  {`["` + PointerClass + `",{"s3BucketName":"my-bucket","s3Key":"k"}] []`, "unexpected data after the pointer"},
		"bad bucket":     {`["` + PointerClass + `",{"s3BucketName":"MY","s3Key":"k"}]`, `bucket name "MY"`},
		"invalid UTF-8":  {"[\"\xff\"]", "not valid UTF-8"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodePointer(c.body)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("expect an error containing %q, got %v", c.want, err)
			}
			if err != nil && !strings.HasPrefix(err.Error(), ErrInvalidPointer.Error()+": ") {
				t.Errorf("expect the message to start with %q, got %q", ErrInvalidPointer, err)
			}
		})
	}
}
