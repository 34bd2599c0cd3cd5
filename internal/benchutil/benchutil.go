// Package benchutil holds what the benchmark programs under bench/ share.
package benchutil

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ParseSize parses a byte count with an optional binary suffix: "1024",
// "300KiB", "100MiB", "5GiB", "1.5GiB".
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if rest, ok := strings.CutSuffix(s, suffix); ok {
			s, mult = rest, m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	return int64(n * float64(mult)), nil
}

// ProcStatusKiB returns a kB field of /proc/self/status, such as "VmHWM:"
// (peak resident set size) or "VmRSS:", in KiB, or -1 if it cannot be read.
func ProcStatusKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kib
			}
		}
	}
	return -1
}
