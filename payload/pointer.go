package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Names of the pointer class written as the first element of a pointer body.
const (
	// PointerClass is the class name current writers use.
	PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"
	// LegacyPointerClass is the class name of Java 1.x and of the community
	// Python package. It is accepted on read and never written.
	LegacyPointerClass = "com.amazon.sqs.javamessaging.MessageS3Pointer"
)

// Names of the message attribute that marks an offloaded message. Its DataType
// is "Number" and its value the payload size in bytes. Readers accept both.
const (
	// AttributeName is written by the Python, SNS and newer clients.
	AttributeName = "ExtendedPayloadSize"
	// LegacyAttributeName is written by the Java SQS client by default.
	LegacyAttributeName = "SQSLargePayloadSize"
)

// Limits that validation applies.
const (
	// MaxKeyLength is the S3 limit on a key, in bytes.
	MaxKeyLength = 1024
	// MaxPointerSize bounds the size of a body that DecodePointer will parse.
	// The largest valid pointer (a 1024-byte key, fully \u-escaped) is well
	// under it; anything larger is rejected without parsing.
	MaxPointerSize = 8 << 10
)

// Pointer names the S3 object that holds an offloaded payload.
type Pointer struct {
	Bucket string
	Key    string
}

// String returns the pointer as an s3:// URL, for messages and logs.
func (p Pointer) String() string { return "s3://" + p.Bucket + "/" + p.Key }

// Validate reports whether the bucket and key are acceptable. See
// ValidateBucketName and ValidateKey.
func (p Pointer) Validate() error {
	if err := ValidateBucketName(p.Bucket); err != nil {
		return err
	}
	return ValidateKey(p.Key)
}

// pointerObject is the second element of the pointer array. Field order is the
// order Java writes.
type pointerObject struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// EncodePointer returns the message body for p, in the compact form the Java
// client writes, byte for byte (except that U+2028 and U+2029 in a key are
// written escaped; they decode the same).
func EncodePointer(p Pointer) (string, error) {
	if err := p.Validate(); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPointer, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // Jackson does not escape <, > and &.
	if err := enc.Encode([]any{PointerClass, pointerObject(p)}); err != nil {
		return "", fmt.Errorf("%w: %w", ErrInvalidPointer, err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// DecodePointer parses a pointer body as any known writer produces it: either
// class name, any JSON whitespace, keys in either order. It is strict about
// everything else: exactly one array of a class name and an object holding
// exactly the string fields s3BucketName and s3Key, nothing after it, and a
// bucket and key that pass ValidateBucketName and ValidateKey. Every error
// wraps ErrInvalidPointer.
func DecodePointer(body string) (Pointer, error) {
	p, err := decodePointer(body)
	if err != nil {
		return Pointer{}, fmt.Errorf("%w: %w", ErrInvalidPointer, err)
	}
	return p, nil
}

func decodePointer(body string) (Pointer, error) {
	if len(body) > MaxPointerSize {
		return Pointer{}, fmt.Errorf("body is %d bytes, longer than any pointer", len(body))
	}
	// encoding/json would silently replace invalid UTF-8 with U+FFFD.
	if !utf8.ValidString(body) {
		return Pointer{}, errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(strings.NewReader(body))
	if err := expectDelim(dec, '['); err != nil {
		return Pointer{}, err
	}
	class, err := stringToken(dec, "class name")
	if err != nil {
		return Pointer{}, err
	}
	if class != PointerClass && class != LegacyPointerClass {
		return Pointer{}, fmt.Errorf("unknown pointer class %q", class)
	}
	if err := expectDelim(dec, '{'); err != nil {
		return Pointer{}, err
	}
	var p Pointer
	var haveBucket, haveKey bool
	for dec.More() {
		name, err := stringToken(dec, "field name")
		if err != nil {
			return Pointer{}, err
		}
		var dst *string
		var seen *bool
		switch name {
		case "s3BucketName":
			dst, seen = &p.Bucket, &haveBucket
		case "s3Key":
			dst, seen = &p.Key, &haveKey
		default:
			return Pointer{}, fmt.Errorf("unknown field %q", name)
		}
		if *seen {
			// Parsers disagree on which duplicate wins; refuse rather than guess.
			return Pointer{}, fmt.Errorf("duplicate field %q", name)
		}
		*seen = true
		if *dst, err = stringToken(dec, name); err != nil {
			return Pointer{}, err
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return Pointer{}, err
	}
	if err := expectDelim(dec, ']'); err != nil {
		return Pointer{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Pointer{}, errors.New("unexpected data after the pointer")
	}
	if !haveBucket {
		return Pointer{}, errors.New("missing field s3BucketName")
	}
	if !haveKey {
		return Pointer{}, errors.New("missing field s3Key")
	}
	if err := p.Validate(); err != nil {
		return Pointer{}, err
	}
	return p, nil
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("expected %q: %w", want, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

func stringToken(dec *json.Decoder, what string) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", what, err)
	}
	s, ok := tok.(string)
	if !ok {
		return "", fmt.Errorf("%s: expected a string, found %v", what, tok)
	}
	return s, nil
}

// ValidateBucketName checks name against the S3 rules for general purpose and
// directory bucket names: 3 to 63 characters of lowercase letters, digits, '.'
// and '-', starting and ending with a letter or digit, no "..", and not an IP
// address. The rules keep a hostile pointer from smuggling a path or a host
// into a request.
func ValidateBucketName(name string) error {
	if n := len(name); n < 3 || n > 63 {
		return fmt.Errorf("bucket name %q: must be 3 to 63 characters long", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q: invalid character %q", name, c)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return fmt.Errorf("bucket name %q: must start and end with a letter or digit", name)
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("bucket name %q: must not contain \"..\"", name)
	}
	if net.ParseIP(name) != nil {
		return fmt.Errorf("bucket name %q: must not be an IP address", name)
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// ValidateKey checks an S3 key named by a pointer: 1 to 1024 bytes of valid
// UTF-8 without control characters (C0, DEL or C1); no leading "/", no "//"
// and no "." or ".." path segment (some S3-compatible servers and proxies
// resolve those to other keys: versitygw serves "/a", "a//b", "./a" and
// "a/../b" as "a", "a/b", "a" and "b", so a check on the key would see one
// key and the server read another); and neither receipt-handle marker (so
// that receipt handles stay parseable). A trailing "/" is allowed: S3 and
// versitygw keep "a/" and "a" apart.
func ValidateKey(key string) error {
	if key == "" {
		return errors.New("key is empty")
	}
	if len(key) > MaxKeyLength {
		return fmt.Errorf("key is %d bytes, longer than %d", len(key), MaxKeyLength)
	}
	if !utf8.ValidString(key) {
		return errors.New("key is not valid UTF-8")
	}
	for _, r := range key {
		if unicode.IsControl(r) {
			return fmt.Errorf("key %q contains a control character", key)
		}
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("key %q starts with \"/\"", key)
	}
	if strings.Contains(key, "//") {
		return fmt.Errorf("key %q contains an empty path segment (\"//\")", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "." || seg == ".." {
			return fmt.Errorf("key %q contains a %q path segment", key, seg)
		}
	}
	// In a receipt handle the key is followed by KeyMarker; the first marker
	// after the key's start must be that one, or the handle would be split
	// inside the key (a key ending in "-..s3Key.." would do it).
	if strings.Contains(key, BucketMarker) || strings.Index(key+KeyMarker, KeyMarker) != len(key) {
		return fmt.Errorf("key %q contains (part of) a receipt-handle marker", key)
	}
	return nil
}
