package snsx_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSQSWrapperDependency: an SNS-only publisher does not link the SQS
// wrapper. The errors both packages return live in package payload.
func TestNoSQSWrapperDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "github.com/sqsx/sqsx" {
			t.Fatalf("expect snsx not to depend on the root package github.com/sqsx/sqsx, got it in go list -deps")
		}
	}
}
