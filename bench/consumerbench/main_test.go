package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/sqsx/sqsx/internal/testenv"
)

// TestMain runs the test binary as a child when the parent of TestSmoke
// starts it as one.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		if err := runChild(context.Background(), os.Args[1:], os.Stdout); err != nil {
			os.Stderr.WriteString("consumerbench child: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestSmoke runs every side once on tiny workloads, inline and offloaded, so
// that the benchmark keeps working (without the A/A pair, which only runs a
// side twice, to stay quick under -race).
func TestSmoke(t *testing.T) {
	testenv.Require(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-sizes", "1KiB,300KiB", "-n", "10", "-delays", "5ms", "-runs", "1", "-aa=false"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 1 KiB | 5ms | raw-each |", "| 300 KiB | 5ms | consumer |", "| 300 KiB | 5ms | raw-careful |", "network: straight to the servers"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("expect %q, got\n%s", want, out.String())
		}
	}
}

// TestSmokeLatency runs every side once through the latency proxies (run
// fails if a side's requests bypass them).
func TestSmokeLatency(t *testing.T) {
	testenv.Require(t)
	var out bytes.Buffer
	err := run(context.Background(), []string{"-sizes", "300KiB", "-n", "10", "-delays", "0ms", "-runs", "1", "-aa=false",
		"-sqs-latency", "2ms", "-s3-latency", "3ms"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| 300 KiB | 0s | raw-each |", "| 300 KiB | 0s | raw-careful |", "| 300 KiB | 0s | consumer |",
		"network: through proxies adding 2ms to every SQS and 3ms to every S3 request"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("expect %q, got\n%s", want, out.String())
		}
	}
}
