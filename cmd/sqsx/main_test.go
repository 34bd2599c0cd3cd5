package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/spf13/cobra"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

// runCLI runs the command in process and returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

// parseCommand parses args as sqsx does for the command that newCmd
// returns, and checks them.
func parseCommand(newCmd func() (*cobra.Command, subcommand), args []string) (subcommand, *commonFlags, error) {
	var common commonFlags
	c, s := newCmd()
	common.register(c.PersistentFlags())
	c.SetGlobalNormalizationFunc(normalizeFlag)
	if err := c.ParseFlags(args); err != nil {
		return nil, nil, err
	}
	if err := common.resolve(io.Discard); err != nil {
		return nil, nil, err
	}
	return s, &common, s.check(c.Flags(), c.Flags().Args())
}

// writeString returns a write function for writeFileAtomic that writes s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestRunUsage(t *testing.T) {
	const url = "http://localhost:1/000000000000/q"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		// wantOut and wantErr must each appear in stdout and stderr.
		wantOut, wantErr []string
	}{
		{name: "no arguments", args: nil, wantCode: 2, wantErr: []string{"Commands:", "send", "receive"}},
		{name: "help", args: []string{"help"}, wantCode: 0, wantOut: []string{"Commands:", "send ", "receive ", "Exit status"}},
		{name: "-h", args: []string{"-h"}, wantCode: 0, wantOut: []string{"Commands:"}},
		{name: "--help", args: []string{"--help"}, wantCode: 0, wantOut: []string{"Commands:"}},
		{name: "help send", args: []string{"help", "send"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx send", "--queue-url URL", "--attr NAME=Type:value", "--threshold N"}},
		{name: "help receive", args: []string{"help", "receive"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx receive", "--allowed-bucket BUCKET", "--wait-time-seconds SECONDS"}},
		{name: "help unknown", args: []string{"help", "frob"}, wantCode: 2, wantErr: []string{`unknown command "frob"`}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: []string{`unknown command "frobnicate"`, "sqsx help"}},
		{name: "command flag before command", args: []string{"--queue-url", url}, wantCode: 2, wantErr: []string{"unknown flag: --queue-url", "sqsx help"}},
		{name: "send -h", args: []string{"send", "-h"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx send", "--always-s3", "--legacy-attribute", "--key-prefix PREFIX", "(default 262144)"}},
		{name: "receive --help", args: []string{"receive", "--help"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx receive", "--delete", "--out FILE", "--visibility-timeout SECONDS"}},

		{name: "send without queue", args: []string{"send", "--bucket", "b-1"}, wantCode: 2,
			wantErr: []string{"sqsx send: --queue-url or --queue is required", "sqsx send -h"}},
		{name: "send with both queue flags", args: []string{"send", "--queue-url", url, "--queue", "q", "--bucket", "b-1"}, wantCode: 2,
			wantErr: []string{"either --queue-url or --queue, not both"}},
		{name: "send without bucket", args: []string{"send", "--queue-url", url}, wantCode: 2, wantErr: []string{"--bucket is required"}},
		{name: "send unknown flag", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--nope"}, wantCode: 2,
			wantErr: []string{"unknown flag: --nope", "sqsx send -h"}},
		{name: "send positional argument", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "body.txt"}, wantCode: 2,
			wantErr: []string{`unexpected argument "body.txt"`, "--file body.txt"}},
		{name: "send threshold zero", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--threshold", "0"}, wantCode: 2,
			wantErr: []string{"--threshold 0 is outside 1..1048576", "--always-s3"}},
		{name: "send threshold too large", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--threshold", "1048577"}, wantCode: 2,
			wantErr: []string{"--threshold 1048577 is outside"}},
		{name: "send threshold not a number", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--threshold", "lots"}, wantCode: 2,
			wantErr: []string{`invalid argument "lots" for "--threshold" flag`}},
		{name: "send FIFO without group", args: []string{"send", "--queue-url", url + ".fifo", "--bucket", "b-1"}, wantCode: 2,
			wantErr: []string{"FIFO queue", "--message-group-id"}},
		{name: "send FIFO by name without group", args: []string{"send", "--queue", "jobs.fifo", "--bucket", "b-1"}, wantCode: 2,
			wantErr: []string{"--message-group-id"}},
		{name: "send invalid bucket", args: []string{"send", "--queue-url", url, "--bucket", "Bad_Bucket"}, wantCode: 2,
			wantErr: []string{"--bucket:", "Bad_Bucket"}},
		{name: "send invalid key prefix", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--key-prefix", "../up"}, wantCode: 2,
			wantErr: []string{"--key-prefix:", "../up"}},

		{name: "receive without queue", args: []string{"receive"}, wantCode: 2, wantErr: []string{"sqsx receive: --queue-url or --queue is required", "sqsx receive -h"}},
		{name: "receive wait too long", args: []string{"receive", "--queue-url", url, "--wait-time-seconds", "21"}, wantCode: 2, wantErr: []string{"--wait-time-seconds 21 is outside 0..20"}},
		{name: "receive negative wait", args: []string{"receive", "--queue-url", url, "--wait-time-seconds", "-1"}, wantCode: 2, wantErr: []string{"--wait-time-seconds -1 is outside 0..20"}},
		{name: "receive visibility zero", args: []string{"receive", "--queue-url", url, "--visibility-timeout", "0"}, wantCode: 2,
			wantErr: []string{"--visibility-timeout 0 is outside 1..43200"}},
		{name: "receive visibility too long", args: []string{"receive", "--queue-url", url, "--visibility-timeout", "43201"}, wantCode: 2,
			wantErr: []string{"--visibility-timeout 43201 is outside"}},
		{name: "receive invalid allowed bucket", args: []string{"receive", "--queue-url", url, "--allowed-bucket", "ok-bucket", "--allowed-bucket", "x"}, wantCode: 2,
			wantErr: []string{"--allowed-bucket:", `"x"`}},
		{name: "receive invalid bucket", args: []string{"receive", "--queue-url", url, "--bucket", "UPPER"}, wantCode: 2,
			wantErr: []string{"--bucket:"}},
		{name: "receive positional argument", args: []string{"receive", "--queue-url", url, "out.txt"}, wantCode: 2,
			wantErr: []string{`unexpected argument "out.txt"`, "--out out.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, stdout, stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if tt.wantCode == 0 && stderr != "" {
				t.Errorf("unexpected stderr: %s", stderr)
			}
			if tt.wantCode != 0 && stdout != "" {
				t.Errorf("unexpected stdout on failure: %s", stdout)
			}
		})
	}
}

func TestAttrFlagValid(t *testing.T) {
	var a attrsFlag
	for _, s := range []string{
		"color=String:blue",
		"note=String:a=b:c", // only the first '=' and ':' separate
		"count=Number:-3.5e2",
		"price=Number.float:.5",
		"blob=Binary:aGk=",
		"id=String.uuid:ü",
	} {
		if err := a.Set(s); err != nil {
			t.Fatalf("Set(%q): %v", s, err)
		}
	}
	want := map[string]types.MessageAttributeValue{
		"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
		"note":  {DataType: aws.String("String"), StringValue: aws.String("a=b:c")},
		"count": {DataType: aws.String("Number"), StringValue: aws.String("-3.5e2")},
		"price": {DataType: aws.String("Number.float"), StringValue: aws.String(".5")},
		"blob":  {DataType: aws.String("Binary"), BinaryValue: []byte("hi")},
		"id":    {DataType: aws.String("String.uuid"), StringValue: aws.String("ü")},
	}
	if diff := cmp.Diff(want, a.values, cmpopts.IgnoreUnexported(types.MessageAttributeValue{})); diff != "" {
		t.Errorf("attributes (-want +got):\n%s", diff)
	}
	// name + type + value bytes, as SQS counts them.
	wantSize := int64(len("color"+"String"+"blue") + len("note"+"String"+"a=b:c") + len("count"+"Number"+"-3.5e2") +
		len("price"+"Number.float"+".5") + len("blob"+"Binary"+"hi") + len("id"+"String.uuid"+"ü"))
	if got := a.size(); got != wantSize {
		t.Errorf("size() = %d, want %d", got, wantSize)
	}
}

func TestAttrFlagInvalid(t *testing.T) {
	tests := []struct {
		attr string
		want string
	}{
		{"color", "want name=Type:value"},
		{"=String:blue", "want name=Type:value"},
		{"color=String", "no ':' after the type"},
		{"color=Text:blue", `unknown type "Text"`},
		{"color=string:blue", `unknown type "string"`},
		{"color=String:", "empty value"},
		{"n=Number:abc", `"abc" is not a number`},
		{"n=Number:NaN", `"NaN" is not a number`},
		{"b=Binary:not base64!", "must be base64"},
		{"b=Binary:", "empty value"},
		{"bad name=String:x", "invalid attribute name"},
		{".dot=String:x", "invalid attribute name"},
		{"a..b=String:x", "invalid attribute name"},
		{"AWS.trace=String:x", "reserved by SQS"},
		{"ExtendedPayloadSize=Number:5", "is reserved"},
		{"SQSLargePayloadSize=Number:5", "is reserved"},
	}
	for _, tt := range tests {
		t.Run(tt.attr, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", "send", "--queue-url", "http://localhost:1/1/q", "--bucket", "b-1", "--attr", tt.attr)
			if code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", code, stderr)
			}
			if !strings.Contains(stderr, "invalid argument") || !strings.Contains(stderr, `"--attr" flag`) || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not name the flag and say %q:\n%s", tt.want, stderr)
			}
		})
	}
}

func TestAttrFlagLimits(t *testing.T) {
	var a attrsFlag
	if err := a.Set("x=String:1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Set("x=String:2"); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate attribute: got %v, want a 'given twice' error", err)
	}
	for i := 1; i < sqsx.MaxAttributes; i++ {
		if err := a.Set(fmt.Sprintf("a%d=Number:%d", i, i)); err != nil {
			t.Fatalf("attribute %d: %v", i+1, err)
		}
	}
	if err := a.Set("one-too-many=String:x"); err == nil || !strings.Contains(err.Error(), "at most 10") {
		t.Errorf("11th attribute: got %v, want an 'at most 10' error", err)
	}
}

// TestSendBodyProblems checks the body checks made before any request.
func TestSendBodyProblems(t *testing.T) {
	url := "http://localhost:1/000000000000/q"
	missing := filepath.Join(t.TempDir(), "missing.txt")
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  []string
	}{
		{"missing file", "", []string{"--file", missing}, 1, []string{"reading --file", missing, "no such file"}},
		{"empty stdin", "", nil, 2, []string{"the message body is empty", "non-empty"}},
		{"invalid UTF-8", "ok\xff", nil, 2, []string{"byte 0xFF is not valid UTF-8, at byte offset 2", "Nothing was sent", "--always-s3", "base64"}},
		{"NUL", "ok\x00", nil, 2, []string{"character U+0000 is not allowed in SQS messages, at byte offset 2", "--always-s3"}},
		{"publish invalid UTF-8", "\xffok", []string{"publish"}, 2, []string{"not text that SNS accepts: byte 0xFF is not valid UTF-8, at byte offset 0", "--always-s3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"send", "--queue-url", url, "--bucket", "b-1"}, tt.args...)
			if len(tt.args) > 0 && tt.args[0] == "publish" {
				args = []string{"publish", "--topic-arn", "arn:aws:sns:us-east-1:000000000000:t", "--bucket", "b-1"}
			}
			code, stdout, stderr := runCLI(t, tt.stdin, args...)
			if code != tt.code {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestReceiveOutChecked checks that a bad --out fails before any request,
// so that no message is received only to be lost.
func TestReceiveOutChecked(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ out, want string }{
		{filepath.Join(dir, "no-such-dir", "body"), "cannot use directory"},
		{dir, "is a directory"},
	} {
		code, _, stderr := runCLI(t, "", "receive", "--queue-url", "http://localhost:1/1/q", "--out", tt.out)
		if code != 1 || !strings.Contains(stderr, tt.want) {
			t.Errorf("--out %s: exit %d, stderr %q; want 1 and %q", tt.out, code, stderr, tt.want)
		}
	}
}

func TestReadAllInterrupted(t *testing.T) {
	r, w := io.Pipe() // never written: the read blocks
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	start := time.Now()
	_, err := readAll(ctx, r, -1, "standard input")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("readAll = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("readAll took %v to notice the cancellation", d)
	}
	if got, hint := describe(err); got != "interrupted" || hint == "" {
		t.Errorf("describe = %q, %q; want %q and a hint", got, hint, "interrupted")
	}
}

func TestOpenBodyFromStdinAndFile(t *testing.T) {
	body := "line 1\nliné 2 ✓\n"
	read := func(file string, stdin io.Reader) (string, int64) {
		t.Helper()
		r, size, err := openBody(file, stdin)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b), size
	}
	if got, size := read("-", strings.NewReader(body)); got != body || size != -1 {
		t.Errorf("from stdin: %q, size %d", got, size)
	}
	file := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, size := read(file, strings.NewReader("not this")); got != body || size != int64(len(body)) {
		t.Errorf("from file: %q, size %d", got, size)
	}
}

func TestUsePathStyle(t *testing.T) {
	tests := []struct {
		flag bool
		env  map[string]string
		want bool
	}{
		{false, nil, false},
		{true, nil, true},
		{false, map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true},
		{false, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, true},
		{false, map[string]string{"AWS_ENDPOINT_URL_SQS": "http://127.0.0.1:4566"}, false},
		{false, map[string]string{"AWS_ENDPOINT_URL_S3": "http://x", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, false},
		{true, map[string]string{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, true},
	}
	for _, tt := range tests {
		if got := usePathStyle(tt.flag, func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("usePathStyle(%v, %v) = %v, want %v", tt.flag, tt.env, got, tt.want)
		}
	}
}

func TestExplain(t *testing.T) {
	sendErr := &smithy.OperationError{ServiceID: "SQS", OperationName: "SendMessage",
		Err: &smithyhttp.RequestSendError{Err: errors.New(`dial tcp 127.0.0.1:1: connect: connection refused`)}}
	tests := []struct {
		name string
		err  error
		want []string
	}{
		{"interrupted", fmt.Errorf("x: %w", context.Canceled), []string{"interrupted"}},
		{"bucket not allowed",
			&payload.Error{Op: "GetObject", Bucket: "evil", Key: "k1", Err: fmt.Errorf("%w: nope", payload.ErrBucketNotAllowed)},
			[]string{"s3://evil/k1", "bucket evil is not allowed: pass --allowed-bucket evil if you trust the sender", "delivered again"}},
		{"payload not found",
			&payload.Error{Op: "GetObject", Bucket: "b-1", Key: "k1", Err: fmt.Errorf("%w: %w", payload.ErrNotFound, &smithy.GenericAPIError{Code: "NoSuchKey"})},
			[]string{"payload s3://b-1/k1 does not exist (NoSuchKey)", "delivered again", "dead-letter queue"}},
		{"bucket missing on send",
			&payload.Error{Op: "PutObject", Bucket: "b-1", Key: "k1", Err: fmt.Errorf("%w: %w", payload.ErrNotFound, &smithy.GenericAPIError{Code: "NoSuchBucket"})},
			[]string{"bucket b-1 does not exist", "Create it"}},
		{"invalid pointer",
			&payload.Error{Op: "DecodePointer", Err: fmt.Errorf("%w: bad json", payload.ErrInvalidPointer)},
			[]string{"not a valid S3 pointer", "ExtendedPayloadSize", "bad json"}},
		{"too many attributes",
			&sqsx.InputError{Op: "SendMessage", Field: "MessageAttributes", Err: sqsx.ErrTooManyAttributes},
			[]string{"at most 9 attributes", "fewer --attr"}},
		{"queue does not exist",
			&smithy.OperationError{ServiceID: "SQS", OperationName: "GetQueueUrl", Err: &types.QueueDoesNotExist{}},
			[]string{"the queue does not exist", "create the queue"}},
		{"query-compatible queue code",
			&smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue"},
			[]string{"the queue does not exist"}},
		{"unreachable", sendErr, []string{"could not reach SQS", "connection refused", "AWS_ENDPOINT_URL_SQS"}},
		{"access denied",
			&smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &smithy.GenericAPIError{Code: "AccessDenied"}},
			[]string{"S3 refused the request", "credentials"}},
		{"invalid contents",
			&smithy.GenericAPIError{Code: "AWS.SimpleQueueService.InvalidMessageContents"},
			[]string{"SQS refused the message body", "--always-s3"}},
		{"other", errors.New("something else"), []string{"something else"}},
		{"hinted", withHint(fmt.Errorf("writing the body: %w", sendErr), "The message is delivered again."),
			[]string{"could not reach SQS", "writing the body", "connection refused", "\nThe message is delivered again."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explain(tt.err)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("explain lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := os.WriteFile(path, []byte("old contents, longer than the new"), 0o600); err != nil {
		t.Fatal(err)
	}
	body := "new\x00body ✓"
	if err := writeFileAtomic(path, writeString(body)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != body {
		t.Errorf("file holds %q (%v), want %q", got, err, body)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want just the file (no temporary left)", len(entries))
	}
	// A device is written in place, not replaced.
	if err := writeFileAtomic(os.DevNull, writeString(body)); err != nil {
		t.Errorf("writing %s: %v", os.DevNull, err)
	}
	if fi, err := os.Stat(os.DevNull); err != nil || fi.Mode().IsRegular() {
		t.Errorf("%s is no longer a device: %v %v", os.DevNull, fi.Mode(), err)
	}
}

func TestFormatAttribute(t *testing.T) {
	long := strings.Repeat("é", 60) // 120 bytes
	tests := []struct {
		name string
		v    types.MessageAttributeValue
		want string
	}{
		{"a", types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String("x")}, "a=String:x"},
		{"b", types.MessageAttributeValue{DataType: aws.String("Binary"), BinaryValue: []byte("hi")}, "b=Binary:aGk="},
		{"c", types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(long)},
			"c=String:" + strings.Repeat("é", 40) + "... (120 bytes)"},
	}
	for _, tt := range tests {
		if got := formatAttribute(tt.name, tt.v); got != tt.want {
			t.Errorf("formatAttribute(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestConfigProblems checks the configuration errors, which need no network.
func TestConfigProblems(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	base := []string{"--queue-url", "http://localhost:1/000000000000/q", "--bucket", "b-1"}

	code, _, stderr := runCLI(t, "hello", append([]string{"send"}, base...)...)
	if code != 1 || !strings.Contains(stderr, "no AWS region is configured") || !strings.Contains(stderr, "Pass --region") {
		t.Errorf("without a region: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", append([]string{"receive"}, base[:2]...)...)
	if code != 1 || !strings.Contains(stderr, "no AWS region is configured") {
		t.Errorf("receive without a region: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "hello", append([]string{"send", "--region", "us-east-1", "--profile", "no-such-profile"}, base...)...)
	if code != 1 || !strings.Contains(stderr, "no-such-profile") || !strings.Contains(stderr, "Check the --profile name") {
		t.Errorf("with a missing profile: exit %d, stderr %q", code, stderr)
	}
}
