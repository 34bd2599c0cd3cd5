package benchutil

import (
	"slices"
	"testing"
)

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"1024": 1024, "300KiB": 300 << 10, "100MiB": 100 << 20, "5GiB": 5 << 30, "1.5GiB": 3 << 29}
	for in, want := range cases {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q): expect %d, got %d, %v", in, want, got, err)
		}
	}
	for _, in := range []string{"", "x", "-1", "5TB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): expect an error, got none", in)
		}
	}
}

func TestProcStatusKiB(t *testing.T) {
	if got := ProcStatusKiB("VmHWM:"); got <= 0 {
		t.Fatalf("expect a positive VmHWM, got %d", got)
	}
	if got := ProcStatusKiB("NoSuchField:"); got != -1 {
		t.Fatalf("expect -1 for a missing field, got %d", got)
	}
}

func TestStats(t *testing.T) {
	type run struct{ v float64 }
	runs := []run{{3}, {1}, {2}}
	v := func(r run) float64 { return r.v }
	if got := MedianOf(runs, v); got != 2 {
		t.Errorf("MedianOf = %v, want 2", got)
	}
	if got := Median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("Median of an even count = %v, want 2.5", got)
	}
	if got := Spread(runs, v, "%.1f"); got != "2.0 (1.0–3.0)" {
		t.Errorf("Spread = %q", got)
	}
	if got := Spread(runs[:1], v, "%.1f"); got != "3.0" {
		t.Errorf("Spread of one run = %q", got)
	}
	if got := Ratios(runs, []run{{1}, {2}, {4}}, v); got != "0.50 (3.00, 0.50, 0.50)" {
		t.Errorf("Ratios = %q", got)
	}
	for n, want := range map[int64]string{300 << 10: "300 KiB", 10 << 20: "10 MiB", 1000: "1000 B"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseCounts(t *testing.T) {
	sizes := []int64{1 << 10, 10 << 20}
	def := func(size int64) int { return int(size >> 10) }
	for _, c := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"", []int{1, 10240}, false},
		{"7", []int{7, 7}, false},
		{"3, 4", []int{3, 4}, false},
		{"1,2,3", nil, true},
		{"0", nil, true},
		{"x", nil, true},
	} {
		got, err := ParseCounts(c.in, sizes, def)
		if (err != nil) != c.err || !slices.Equal(got, c.want) {
			t.Errorf("ParseCounts(%q) = %v, %v; want %v (error %v)", c.in, got, err, c.want, c.err)
		}
	}
}
