package payload

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestNewKey(t *testing.T) {
	for _, prefix := range []string{"", "payloads/", "payloads/2026/", "a-b_c.d/"} {
		t.Run("prefix="+prefix, func(t *testing.T) {
			key := NewKey(prefix)
			rest, ok := strings.CutPrefix(key, prefix)
			if !ok {
				t.Fatalf("expect prefix %q, got %q", prefix, key)
			}
			u, err := uuid.Parse(rest)
			if err != nil {
				t.Fatalf("expect a UUID after the prefix, got %q: %v", rest, err)
			}
			if u.Version() != 4 {
				t.Errorf("expect version 4, got %v", u.Version())
			}
			if u.Variant() != uuid.RFC4122 {
				t.Errorf("expect variant %v, got %v", uuid.RFC4122, u.Variant())
			}
			// The canonical lowercase 36-character form, as the reference writes it.
			if rest != u.String() {
				t.Errorf("expect %q, got %q", u.String(), rest)
			}
			if err := ValidateKey(key); err != nil {
				t.Errorf("expect a valid key, got %v", err)
			}
		})
	}
}

func TestNewKeyIsRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := NewKey("p/")
		if seen[k] {
			t.Fatalf("expect unique keys, got %q twice", k)
		}
		seen[k] = true
	}
}

func TestNewKeyLongestPrefix(t *testing.T) {
	prefix := strings.Repeat("p", MaxKeyPrefixLength)
	if err := ValidateKeyPrefix(prefix); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	key := NewKey(prefix)
	if len(key) != MaxKeyLength {
		t.Errorf("expect %d bytes, got %d", MaxKeyLength, len(key))
	}
	if err := ValidateKey(key); err != nil {
		t.Errorf("expect a valid key, got %v", err)
	}
}

func TestValidateKeyPrefix(t *testing.T) {
	cases := map[string]struct {
		prefix string
		ok     bool
	}{
		"empty":                {"", true},
		"all allowed":          {"a/b_c-d.e/", true},
		"upper and digits":     {"AZaz09/", true},
		"no trailing slash":    {"payloads", true},
		"dots apart":           {"a.b.c/", true},
		"trailing dot":         {"a.", true},
		"988 characters":       {strings.Repeat("a", 988), true},
		"989 characters":       {strings.Repeat("a", 989), false},
		"leading dot":          {".a/", false},
		"leading slash":        {"/a/", false},
		"only dot":             {".", false},
		"only slash":           {"/", false},
		"dotdot":               {"a..b/", false},
		"dotdot segment":       {"a/../b/", false},
		"trailing dotdot":      {"a/..", false},
		"space":                {"a b/", false},
		"plus":                 {"a+b/", false},
		"colon":                {"a:b/", false},
		"backslash":            {`a\b/`, false},
		"non-ASCII":            {"é/", false},
		"NUL":                  {"a\x00/", false},
		"newline":              {"a\n", false},
		"988 plus a bad byte":  {strings.Repeat("a", 987) + "*", false},
		"marker-like (has ..)": {"x-..s3Key..-", false},
		"dot segment":          {"a/./", false},
		// ValidateKey refuses "//" in the keys the prefix starts.
		"double slash":        {"a//", false},
		"double slash inside": {"a//b/", false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := ValidateKeyPrefix(c.prefix)
			if (err == nil) != c.ok {
				t.Errorf("expect ok=%v, got %v", c.ok, err)
			}
		})
	}
}
