package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

// TestNewCommandsUsage checks the argument validation of the commands added
// after send and receive, and the new flags of those two, through run: no
// request is made.
func TestNewCommandsUsage(t *testing.T) {
	const url = "http://localhost:1/000000000000/q"
	const arn = "arn:aws:sns:us-east-1:000000000000:t"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
		wantErr  []string
	}{
		{name: "help lists every command", args: []string{"help"}, wantCode: 0,
			wantOut: []string{"delete ", "peek ", "publish ", "lifecycle ", "doctor ", "--output FORMAT", "--quiet", "3  nothing there", "4  doctor found"}},
		{name: "help delete", args: []string{"help", "delete"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx delete", "--receipt-handle HANDLE", "--keep-payload", "--output FORMAT", "--region REGION", "--profile PROFILE"}},
		{name: "help peek", args: []string{"help", "peek"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx peek", "--max-number-of-messages N", "--body", "receive count"}},
		{name: "help publish", args: []string{"help", "publish"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx publish", "--topic-arn ARN", "--subject SUBJECT", "--deletable-by-consumers", "--sse MODE"}},
		{name: "help lifecycle", args: []string{"help", "lifecycle"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx lifecycle", "--days N", "(default 14)", "--show"}},
		{name: "help doctor", args: []string{"help", "doctor"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx doctor", "OK, WARN or FAIL", "--topic-arn ARN", "4 when a check failed"}},
		{name: "help consume", args: []string{"help", "consume"}, wantCode: 0, wantOut: []string{"Usage:\n  sqsx consume", "-- COMMAND [ARG...]", "SQSX_MESSAGE_ID", "--max-messages N", "--shutdown-timeout DURATION"}},
		{name: "unknown command names them all", args: []string{"frob"}, wantCode: 2, wantErr: []string{"send, receive, delete, peek, consume, publish, lifecycle, doctor, stats and gc"}},

		{name: "send delay too long", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--delay-seconds", "901"}, wantCode: 2, wantErr: []string{"--delay-seconds 901 is outside 0..900"}},
		{name: "send delay on FIFO", args: []string{"send", "--queue-url", url + ".fifo", "--bucket", "b-1", "--message-group-id", "g", "--delay-seconds", "5"}, wantCode: 2, wantErr: []string{"not supported by FIFO queues"}},
		{name: "send threshold and from queue", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--threshold", "5", "--threshold-from-queue"}, wantCode: 2, wantErr: []string{"either --threshold or --threshold-from-queue"}},
		{name: "send bad sse", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--sse", "rot13"}, wantCode: 2, wantErr: []string{`--sse "rot13"`, "AES256"}},
		{name: "send kms key without kms", args: []string{"send", "--queue-url", url, "--bucket", "b-1", "--sse-kms-key-id", "k"}, wantCode: 2, wantErr: []string{"--sse-kms-key-id needs --sse aws:kms"}},

		{name: "receive max too large", args: []string{"receive", "--queue-url", url, "--max-number-of-messages", "11"}, wantCode: 2, wantErr: []string{"--max-number-of-messages 11 is outside 1..10"}},
		{name: "receive max to stdout", args: []string{"receive", "--queue-url", url, "--max-number-of-messages", "3"}, wantCode: 2, wantErr: []string{"cannot be told apart", "--out-dir DIR or --output json"}},
		{name: "receive max with out", args: []string{"receive", "--queue-url", url, "--max-number-of-messages", "3", "--out", "f"}, wantCode: 2, wantErr: []string{"pass --out-dir instead"}},
		{name: "receive out and out-dir", args: []string{"receive", "--queue-url", url, "--out", "f", "--out-dir", "d"}, wantCode: 2, wantErr: []string{"either --out or --out-dir"}},

		{name: "delete without queue", args: []string{"delete", "--receipt-handle", "h"}, wantCode: 2, wantErr: []string{"sqsx delete: --queue-url or --queue is required", "sqsx delete -h"}},
		{name: "delete positional", args: []string{"delete", "--queue-url", url, "handle"}, wantCode: 2, wantErr: []string{`unexpected argument "handle"`, "--receipt-handle"}},
		{name: "delete invalid bucket", args: []string{"delete", "--queue-url", url, "--bucket", "A", "--receipt-handle", "h"}, wantCode: 2, wantErr: []string{"--bucket:"}},
		{name: "delete no handle", args: []string{"delete", "--queue-url", url}, wantCode: 2, wantErr: []string{"no receipt handle", "--receipt-handle HANDLE"}},
		{name: "delete payload bucket not given", wantCode: 1,
			args:    []string{"delete", "--queue-url", url, "--receipt-handle", "-..s3BucketName..-b-1-..s3BucketName..--..s3Key..-k1-..s3Key..-orig"},
			wantErr: []string{"names payload s3://b-1/k1", "Pass --bucket b-1", "--keep-payload", "Nothing was deleted"}},
		{name: "delete malformed handle", wantCode: 1,
			args:    []string{"delete", "--queue-url", url, "--receipt-handle", "-..s3BucketName..-b-1-..s3BucketName..--..s3Key..-k1-..s3Key..-"},
			wantErr: []string{"receipt handle", "exactly as 'sqsx receive' printed it"}},

		{name: "peek without queue", args: []string{"peek"}, wantCode: 2, wantErr: []string{"--queue-url or --queue is required"}},
		{name: "peek max zero", args: []string{"peek", "--queue-url", url, "--max-number-of-messages", "0"}, wantCode: 2, wantErr: []string{"--max-number-of-messages 0 is outside 1..10"}},
		{name: "peek wait too long", args: []string{"peek", "--queue-url", url, "--wait-time-seconds", "30"}, wantCode: 2, wantErr: []string{"--wait-time-seconds 30 is outside 0..20"}},
		{name: "peek bad allowed bucket", args: []string{"peek", "--queue-url", url, "--allowed-bucket", "x"}, wantCode: 2, wantErr: []string{"--allowed-bucket:"}},

		{name: "publish without topic", args: []string{"publish", "--bucket", "b-1"}, wantCode: 2, wantErr: []string{"--topic-arn is required"}},
		{name: "publish bad topic", args: []string{"publish", "--topic-arn", "my-topic", "--bucket", "b-1"}, wantCode: 2, wantErr: []string{`--topic-arn "my-topic" is not an SNS topic ARN`}},
		{name: "publish queue arn", args: []string{"publish", "--topic-arn", "arn:aws:sqs:us-east-1:1:q", "--bucket", "b-1"}, wantCode: 2, wantErr: []string{"is not an SNS topic ARN"}},
		{name: "publish without bucket", args: []string{"publish", "--topic-arn", arn}, wantCode: 2, wantErr: []string{"--bucket is required"}},
		{name: "publish threshold over SNS limit", args: []string{"publish", "--topic-arn", arn, "--bucket", "b-1", "--threshold", "262145"}, wantCode: 2, wantErr: []string{"--threshold 262145 is outside 1..262144"}},
		{name: "publish FIFO without group", args: []string{"publish", "--topic-arn", arn + ".fifo", "--bucket", "b-1"}, wantCode: 2, wantErr: []string{"FIFO topic", "--message-group-id"}},
		{name: "publish subject with newline", args: []string{"publish", "--topic-arn", arn, "--bucket", "b-1", "--subject", "a\nb"}, wantCode: 2, wantErr: []string{"--subject:", "no line breaks"}},
		{name: "publish subject too long", args: []string{"publish", "--topic-arn", arn, "--bucket", "b-1", "--subject", strings.Repeat("s", 100)}, wantCode: 2, wantErr: []string{"at most 99"}},
		{name: "publish bad attr", args: []string{"publish", "--topic-arn", arn, "--bucket", "b-1", "--attr", "x=Text:1"}, wantCode: 2, wantErr: []string{`unknown type "Text"`}},
		{name: "publish positional", args: []string{"publish", "--topic-arn", arn, "--bucket", "b-1", "msg.txt"}, wantCode: 2, wantErr: []string{"--file msg.txt"}},

		{name: "lifecycle without bucket", args: []string{"lifecycle"}, wantCode: 2, wantErr: []string{"--bucket is required"}},
		{name: "lifecycle days zero", args: []string{"lifecycle", "--bucket", "b-1", "--days", "0"}, wantCode: 2, wantErr: []string{"--days 0 is outside"}},
		{name: "lifecycle show with days", args: []string{"lifecycle", "--bucket", "b-1", "--show", "--days", "3"}, wantCode: 2, wantErr: []string{"--days has no effect with --show"}},
		{name: "lifecycle bad prefix", args: []string{"lifecycle", "--bucket", "b-1", "--key-prefix", "../x"}, wantCode: 2, wantErr: []string{"--key-prefix:"}},

		{name: "doctor without bucket", args: []string{"doctor", "--queue-url", url}, wantCode: 2, wantErr: []string{"--bucket is required"}},
		{name: "doctor both queue flags", args: []string{"doctor", "--bucket", "b-1", "--queue-url", url, "--queue", "q"}, wantCode: 2, wantErr: []string{"not both"}},
		{name: "doctor bad topic", args: []string{"doctor", "--bucket", "b-1", "--topic-arn", "t"}, wantCode: 2, wantErr: []string{"not an SNS topic ARN"}},
		{name: "doctor threshold", args: []string{"doctor", "--bucket", "b-1", "--threshold", "0"}, wantCode: 2, wantErr: []string{"--threshold 0 is outside"}},
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
			if tt.wantCode != 0 && stdout != "" {
				t.Errorf("unexpected stdout on failure: %s", stdout)
			}
			// No advice is given twice.
			if n := strings.Count(stderr, "exactly as 'sqsx receive' printed it"); n > 1 {
				t.Errorf("stderr gives the same advice %d times:\n%s", n, stderr)
			}
			seen := map[string]bool{}
			for _, line := range strings.Split(stderr, "\n") {
				if line != "" && seen[line] {
					t.Errorf("stderr repeats %q:\n%s", line, stderr)
				}
				seen[line] = true
			}
		})
	}
}

func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{"1048576": 1 << 20, "512KiB": 512 << 10, "64MiB": 64 << 20, "1GiB": 1 << 30, "1.5GiB": 3 << 29, "none": noLimit} {
		var f sizeFlag
		if err := f.Set(in); err != nil || f.limit(7) != want {
			t.Errorf("Set(%q): expect %d, got %d, %v", in, want, f.limit(7), err)
		}
	}
	for _, in := range []string{"0", "-1", "lots", "64MB", "NaN", ""} {
		var f sizeFlag
		if err := f.Set(in); err == nil {
			t.Errorf("Set(%q): expect an error, got %d", in, f.n)
		}
	}
	var unset sizeFlag
	if unset.limit(7) != 7 || unset.String() != "" {
		t.Errorf("unset flag: limit %d, String %q", unset.limit(7), unset.String())
	}
	for n, want := range map[int64]string{64 << 20: "64MiB", 1 << 30: "1GiB", 1536 << 10: "1536KiB", 1000: "1000"} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d): expect %s, got %s", n, want, got)
		}
	}
	code, _, stderr := runCLI(t, "", "receive", "--queue-url", "http://localhost:1/1/q", "--max-payload-size", "0")
	if code != exitUsage || !strings.Contains(stderr, "none for no limit") {
		t.Errorf("--max-payload-size 0: exit %d, stderr %s", code, stderr)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:4566/000000000000/q":  "http://127.0.0.1:4566/000000000000/q",
		"AQEB+x/y==":                            "AQEB+x/y==",
		"a b":                                   "'a b'",
		"it's":                                  `'it'\''s'`,
		"-..s3BucketName..-b-..s3BucketName..-": "-..s3BucketName..-b-..s3BucketName..-",
		"$HOME;rm":                              "'$HOME;rm'",
		"":                                      "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q): expect %s, got %s", in, want, got)
		}
	}
	cmd := deleteCommand("http://h/1/q", "a'b", &awsFlags{region: "eu-west-1", profile: "dev"})
	if want := `sqsx delete --queue-url http://h/1/q --receipt-handle 'a'\''b' --region eu-west-1 --profile dev`; cmd != want {
		t.Errorf("deleteCommand: expect %s, got %s", want, cmd)
	}
}

func TestLimitedReader(t *testing.T) {
	tooLarge := errors.New("too large")
	for _, tt := range []struct {
		size, limit int64
		fail        bool
	}{{10, 10, false}, {11, 10, true}, {3 << 20, 1 << 20, true}, {5, 1 << 20, false}} {
		l := &limitedReader{r: bytes.NewReader(make([]byte, tt.size)), left: tt.limit, tooLarge: func(int64) error { return tooLarge }}
		n, err := io.Copy(io.Discard, l)
		if tt.fail != (err == tooLarge) || !tt.fail && n != tt.size || n > tt.limit {
			t.Errorf("%d bytes, limit %d: read %d, %v", tt.size, tt.limit, n, err)
		}
	}
}

func TestKeptHint(t *testing.T) {
	ptr := payload.Pointer{Bucket: "b-1", Key: "k1"}
	maybe := &payload.KeptError{Op: "SendMessage", Pointers: []payload.Pointer{ptr}, Ambiguous: true,
		Err: &smithy.OperationError{ServiceID: "SQS", OperationName: "SendMessage", Err: &smithyhttp.RequestSendError{Err: errors.New("reset")}}}
	msg, hint := describe(fmt.Errorf("x: %w", maybe))
	for _, w := range []string{"could not reach SQS", "may have been sent", "s3://b-1/k1"} {
		if !strings.Contains(msg, w) {
			t.Errorf("message %q lacks %q", msg, w)
		}
	}
	for _, w := range []string{"AWS_ENDPOINT_URL_SQS", "sqsx peek", "twice", "aws s3 rm s3://b-1/k1"} {
		if !strings.Contains(hint, w) {
			t.Errorf("hint %q lacks %q", hint, w)
		}
	}
	left := &payload.KeptError{Op: "SendMessage", Pointers: []payload.Pointer{ptr}, Err: errors.New("refused"), CleanupErr: errors.New("denied")}
	msg, hint = describe(left)
	if !strings.Contains(msg, "was not sent") || !strings.Contains(msg, "denied") || !strings.Contains(hint, "aws s3 rm s3://b-1/k1") {
		t.Errorf("cleanup failure: %q, %q", msg, hint)
	}
}

// commandNamesForTest returns the names of the commands of sqsx.
func commandNamesForTest() []string {
	var names []string
	for _, c := range (&app{}).rootCommand().Commands() {
		names = append(names, c.Name())
	}
	return names
}

// TestEveryCommandTakesCommonFlags checks that every command documents
// --output, --quiet, --region, --profile, --endpoint-url and --path-style.
func TestEveryCommandTakesCommonFlags(t *testing.T) {
	names := commandNamesForTest()
	if len(names) < 10 {
		t.Fatalf("commands %v", names)
	}
	for _, name := range names {
		code, stdout, _ := runCLI(t, "", name, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d", name, code)
		}
		for _, f := range []string{"--output FORMAT", "--quiet", "--region REGION", "--profile PROFILE", "--endpoint-url URL", "--path-style"} {
			if !strings.Contains(stdout, f) {
				t.Errorf("%s -h lacks %s", name, f)
			}
		}
	}
}

// TestFlagsBeforeOrAfterCommand checks that the common flags go before or
// after the command's name, and that the old flag names still work.
func TestFlagsBeforeOrAfterCommand(t *testing.T) {
	for _, args := range [][]string{
		{"--output", "json", "receive", "--queue", "q", "--wait-time-seconds", "99"},
		{"receive", "--queue", "q", "--output", "json", "--wait-time-seconds", "99"},
		{"--json", "receive", "--queue", "q", "--wait", "99"},
		{"receive", "--queue", "q", "--wait", "99", "--json"},
	} {
		code, stdout, stderr := runCLI(t, "", args...)
		var e errorJSON
		if code != exitUsage || stdout != "" || json.Unmarshal([]byte(stderr), &e) != nil || !strings.Contains(e.Error, "--wait-time-seconds 99 is outside 0..20") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want 2 and a JSON error about --wait-time-seconds", args, code, stdout, stderr)
		}
	}
	for old, name := range flagAliases {
		if string(normalizeFlag(nil, old)) != name || string(normalizeFlag(nil, name)) != name {
			t.Errorf("--%s is not read as --%s", old, name)
		}
	}
	code, _, stderr := runCLI(t, "", "send", "--queue", "q.fifo", "--bucket", "b-1", "--dedup-id", "d")
	if code != exitUsage || !strings.Contains(stderr, "pass --message-group-id") {
		t.Errorf("FIFO send without a group: exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "", "peek", "--queue", "q", "--output", "yaml")
	if code != exitUsage || !strings.Contains(stderr, `--output "yaml": use text or json`) {
		t.Errorf("--output yaml: exit %d, stderr %q", code, stderr)
	}
}

// TestVersionAndCompletion checks --version and the completion command.
func TestVersionAndCompletion(t *testing.T) {
	code, stdout, _ := runCLI(t, "", "--version")
	if code != exitOK || !strings.HasPrefix(stdout, "sqsx version ") {
		t.Errorf("--version: exit %d, stdout %q", code, stdout)
	}
	code, stdout, _ = runCLI(t, "", "completion", "bash")
	if code != exitOK || !strings.Contains(stdout, "__start_sqsx") {
		t.Errorf("completion bash: exit %d, %d bytes", code, len(stdout))
	}
}

// TestJSONUsageErrors checks that with --json a usage error is one JSON
// object on standard error, with the error and a hint.
func TestJSONUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"send", "--output=json", "--bucket", "b-1"},
		{"receive", "--output=json", "--wait-time-seconds", "99", "--queue", "q"},
		{"peek", "--output=json"},
		{"delete", "--output=json", "--queue", "q", "--nope"},
		{"publish", "--output=json", "--bucket", "b-1"},
		{"lifecycle", "--output=json"},
		{"doctor", "--output=json"},
	} {
		code, stdout, stderr := runCLI(t, "", args...)
		if code != exitUsage || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q; want 2 and nothing", args, code, stdout)
		}
		var e errorJSON
		if err := json.Unmarshal([]byte(stderr), &e); err != nil {
			t.Errorf("%v: stderr is not one JSON object (%v):\n%s", args, err, stderr)
			continue
		}
		if e.Error == "" || !strings.Contains(e.Hint, "sqsx "+args[0]+" -h") || e.Command != args[0] || e.ExitCode != exitUsage {
			t.Errorf("%v: error object %+v lacks the error, the hint or the command", args, e)
		}
	}
}

// TestJSONFailure checks the JSON form of an error found before any
// request.
func TestJSONFailure(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "send", "--output=json", "--queue-url", "http://localhost:1/1/q", "--bucket", "b-1")
	if code != exitUsage || stdout != "" {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
	var e errorJSON
	if err := json.Unmarshal([]byte(stderr), &e); err != nil {
		t.Fatalf("stderr is not JSON: %v\n%s", err, stderr)
	}
	if !strings.Contains(e.Error, "empty") || !strings.Contains(e.Hint, "non-empty") {
		t.Errorf("error object %+v", e)
	}
}

// TestDescribeAlwaysHints checks that every error gets advice.
func TestDescribeAlwaysHints(t *testing.T) {
	op := func(service, operation string, err error) error {
		return &smithy.OperationError{ServiceID: service, OperationName: operation, Err: err}
	}
	tests := []struct {
		name    string
		err     error
		wantMsg string
		want    string
	}{
		{"unknown", errors.New("boom"), "boom", "sqsx doctor"},
		{"credentials rejected", op("S3", "PutObject", &smithy.GenericAPIError{Code: "InvalidAccessKeyId"}), "S3 rejected the credentials", "AWS_SECRET_ACCESS_KEY"},
		{"denied", op("SQS", "SendMessage", &smithy.GenericAPIError{Code: "AccessDenied"}), "SQS refused the request", "allow SendMessage"},
		{"not implemented", op("S3", "GetBucketLifecycleConfiguration", &smithy.GenericAPIError{Code: "NotImplemented"}),
			"does not implement GetBucketLifecycleConfiguration", "AWS_ENDPOINT_URL_"},
		{"no such bucket", op("S3", "GetBucketLifecycleConfiguration", &smithy.GenericAPIError{Code: "NoSuchBucket"}), "bucket does not exist", "Create it"},
		{"topic missing", op("SNS", "Publish", &smithy.GenericAPIError{Code: "NotFound"}), "the topic does not exist", "--topic-arn"},
		{"sns invalid parameter", op("SNS", "Publish", &smithy.GenericAPIError{Code: "InvalidParameter"}), "SNS refused", "--message-group-id"},
		{"receipt handle", op("SQS", "DeleteMessage", &smithy.GenericAPIError{Code: "ReceiptHandleIsInvalid"}), "receipt handle is not valid", "exactly as"},
		{"bad handle markers", fmt.Errorf("x: %w", payload.ErrInvalidReceiptHandle), "receipt handle is not valid", "exactly as"},
		{"checksum", &payload.Error{Op: "GetObject", Bucket: "b", Key: "k", Err: payload.ErrChecksumMismatch}, "does not match its checksum", "Retry"},
		{"no bucket", &sqsx.InputError{Op: "SendMessage", Field: "Message", Err: sqsx.ErrNoBucket}, "ErrNoBucket", "--bucket"},
		{"unreachable SNS", op("SNS", "Publish", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}), "could not reach SNS", "AWS_ENDPOINT_URL_SNS"},
		{"hinted unknown", withHint(errors.New("boom"), "Do this."), "boom", "Do this."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, hint := describe(tt.err)
			if tt.wantMsg != "ErrNoBucket" && !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q lacks %q", msg, tt.wantMsg)
			}
			if hint == "" || !strings.Contains(hint, tt.want) {
				t.Errorf("hint %q lacks %q", hint, tt.want)
			}
		})
	}
	// A hint given by the caller replaces the generic one.
	if _, hint := describe(withHint(errors.New("boom"), "Do this.")); hint != "Do this." {
		t.Errorf("hinted: hint %q, want just the caller's", hint)
	}
}

// TestProgress checks that the progress wrappers pass bytes through
// unchanged, draw a bar only for transfers over the minimum, and draw none
// without a writer.
func TestProgress(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for _, tt := range []struct {
		name     string
		total    int64
		min      int64
		withOut  bool
		wantDraw bool
	}{
		{"known size over min", int64(len(data)), 1000, true, true},
		{"unknown size over min", -1, 1000, true, true},
		{"under min", int64(len(data)), int64(len(data)), true, false},
		{"no terminal", int64(len(data)), 1000, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var bar bytes.Buffer
			var out io.Writer
			if tt.withOut {
				out = &bar
			}
			// Reading.
			p := newProgress(out, "reading", tt.total, tt.min)
			got, err := io.ReadAll(p.reader(bytes.NewReader(data)))
			p.finish()
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("reader changed the bytes (%d of %d, %v)", len(got), len(data), err)
			}
			if drew := bar.Len() > 0; drew != tt.wantDraw {
				t.Errorf("reading: drew a bar %v, want %v: %q", drew, tt.wantDraw, bar.String())
			}
			if tt.wantDraw && !strings.Contains(bar.String(), "reading") {
				t.Errorf("bar lacks its description: %q", bar.String())
			}
			// Writing.
			bar.Reset()
			var sink bytes.Buffer
			p = newProgress(out, "writing", tt.total, tt.min)
			if err := copyChunked(p.writer(&sink), strings.NewReader(string(data))); err != nil {
				t.Fatal(err)
			}
			p.finish()
			p.finish() // twice is fine
			if !bytes.Equal(sink.Bytes(), data) {
				t.Fatalf("writer changed the bytes")
			}
			if drew := bar.Len() > 0; drew != tt.wantDraw {
				t.Errorf("writing: drew a bar %v, want %v", drew, tt.wantDraw)
			}
		})
	}
}

func TestProgressOutOnlyOnTerminal(t *testing.T) {
	var buf bytes.Buffer
	u := &ui{stderr: &buf}
	if u.progressOut() != nil {
		t.Error("progress drawn on a buffer, which is not a terminal")
	}
	if isTerminal(io.Discard) {
		t.Error("io.Discard taken for a terminal")
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"5fea7756-0ea4-451a-a703-a558b933e274": "5fea7756-0ea4-451a-a703-a558b933e274",
		"../etc/passwd":                        "msg-.._etc_passwd",
		"a/b c":                                "a_b_c",
		"":                                     "msg-",
	} {
		if got := fileName(in); got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseSNSEnvelope(t *testing.T) {
	ptr := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b-1","s3Key":"k1"}]`
	env, _ := json.Marshal(map[string]any{
		"Type": "Notification", "Message": ptr,
		"MessageAttributes": map[string]any{payload.AttributeName: map[string]string{"Type": "Number", "Value": "1234"}},
	})
	if _, ok := parseSNSEnvelope(string(env)); !ok {
		t.Errorf("envelope with a size attribute not recognised")
	}
	plain, _ := json.Marshal(map[string]any{"Type": "Notification", "Message": "hi"})
	if _, ok := parseSNSEnvelope(string(plain)); ok {
		t.Errorf("envelope without a size attribute taken for an offloaded one")
	}
	if _, ok := parseSNSEnvelope("not json"); ok {
		t.Errorf("plain text taken for an envelope")
	}
}
