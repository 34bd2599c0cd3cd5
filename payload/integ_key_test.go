package payload_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/sqsx/sqsx/internal/testenv"
	"github.com/sqsx/sqsx/payload"
)

// TestIntegKeyNormalisation stores an object under one key and reads it back
// under another spelling of it. Where the server serves the object under
// that spelling, ValidateKey must refuse the spelling: otherwise a pointer
// the allowlist and prefix checks see as one key would read another object.
//
// Measured on versitygw v1.8.0 (posix backend): "a//b", "//a", "/a", "a//",
// "./a", "a/./b", "a/.", "a/../b" and "a/b/.." are served as the key they
// normalise to; "a/b/", ".b", "..b", "b.", "a\b", "a%2Fb", case and spaces
// are keys of their own.
func TestIntegKeyNormalisation(t *testing.T) {
	c := testenv.Require(t)
	ctx := context.Background()
	const uuid = "0f8fad5b-d9cb-469f-a165-70867728950e"
	cases := []struct {
		stored, read string
	}{
		{"a/b", "a//b"},
		{"a/b", "a///b"},
		{"a", "//a"},
		{"a", "/a"},
		{"a/", "a//"},
		{"a", "./a"},
		{"a/b", "a/./b"},
		{"a", "a/."},
		{"b", "a/../b"},
		{"a", "a/b/.."},
		{"payloads/" + uuid, "payloads//" + uuid},
		{"payloads/" + uuid, "payloads/./" + uuid},
		// Keys of their own: ValidateKey accepts them.
		{"a/b", "a/b/"},
		{"a/b/", "a/b"},
		{"a/b", "a/.b"},
		{"a/b", "a/..b"},
		{"a/b", "a/b."},
		{"a/b", `a\b`},
		{"a/b", "a%2Fb"},
		{"a/b", "A/B"},
		{"a/b", "a/b "},
		{uuid, strings.ToUpper(uuid)},
		{"payloads/" + uuid, "payloads" + uuid},
	}
	bucket := c.Bucket(t)
	for i, tc := range cases {
		// Each case in its own folder, so that no case reads another's
		// object; a leading "/" or "./" stays in front.
		tag := strconv.Itoa(i)
		dir := "case" + tag + "/"
		stored, read := dir+tc.stored, withDir(dir, tc.read)
		body := "object " + stored
		if strings.HasSuffix(stored, "/") {
			body = "" // a folder object holds no data on versitygw
		}
		if _, err := c.S3.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(stored), Body: strings.NewReader(body),
			Metadata: map[string]string{"case": tag},
		}); err != nil {
			t.Fatalf("PutObject %q: %v", stored, err)
		}
		if _, err := getTagged(ctx, c, bucket, stored); err != nil {
			t.Fatalf("GetObject %q: %v", stored, err)
		}
		got, err := getTagged(ctx, c, bucket, read)
		served := err == nil && got == tag
		var nsk *types.NoSuchKey
		if err != nil && !errors.As(err, &nsk) {
			t.Logf("GetObject %q: %v", read, err)
		}
		verr := payload.ValidateKey(read)
		t.Logf("stored %-14q read %-14q served: %-5v ValidateKey: %v", stored, read, served, verr)
		if served && verr == nil {
			t.Errorf("the server serves %q as %q, but ValidateKey accepts %q", read, stored, read)
		}
	}
}

// withDir puts dir before key, after a leading "/" or "./" of key.
func withDir(dir, key string) string {
	lead := key[:len(key)-len(strings.TrimLeft(key, "./"))]
	return lead + dir + key[len(lead):]
}

// getTagged returns the "case" metadata of bucket/key.
func getTagged(ctx context.Context, c *testenv.Clients, bucket, key string) (string, error) {
	out, err := c.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	if _, err := io.Copy(io.Discard, out.Body); err != nil {
		return "", err
	}
	return out.Metadata["case"], nil
}
