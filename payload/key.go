package payload

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// MaxKeyPrefixLength is the longest key prefix accepted: the S3 key limit less
// the 36 characters of a UUID.
const MaxKeyPrefixLength = MaxKeyLength - 36

// NewKey returns prefix followed by a random (version 4) UUID, with no
// separator added, as the reference clients name payload objects.
func NewKey(prefix string) string { return prefix + uuid.NewString() }

// ValidateKeyPrefix checks a key prefix against the reference clients' rules:
// at most MaxKeyPrefixLength characters from [a-zA-Z0-9./_-], not starting
// with '.' or '/', no "..", and (so that ValidateKey accepts the keys it
// starts) no "/./" and no "//". The empty prefix is valid.
func ValidateKeyPrefix(prefix string) error {
	if len(prefix) > MaxKeyPrefixLength {
		return fmt.Errorf("key prefix is %d characters, longer than %d", len(prefix), MaxKeyPrefixLength)
	}
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/' || c == '_' || c == '-') {
			return fmt.Errorf("key prefix %q: invalid character %q (allowed: a-z A-Z 0-9 . / _ -)", prefix, c)
		}
	}
	if prefix != "" && (prefix[0] == '.' || prefix[0] == '/') {
		return fmt.Errorf("key prefix %q: must not start with '.' or '/'", prefix)
	}
	// ValidateKey refuses "." path segments in the keys the prefix starts.
	if strings.Contains(prefix, "/./") {
		return fmt.Errorf("key prefix %q: must not contain a \".\" path segment", prefix)
	}
	if strings.Contains(prefix, "//") {
		return fmt.Errorf("key prefix %q: must not contain an empty path segment (\"//\")", prefix)
	}
	for i := 0; i+1 < len(prefix); i++ {
		if prefix[i] == '.' && prefix[i+1] == '.' {
			return fmt.Errorf("key prefix %q: must not contain \"..\"", prefix)
		}
	}
	return nil
}
