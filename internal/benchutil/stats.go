package benchutil

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Median returns the median of xs (the mean of the middle two for an even
// count); xs is not reordered.
func Median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MedianOf returns the median of f over runs.
func MedianOf[R any](runs []R, f func(R) float64) float64 {
	return Median(values(runs, f))
}

// Spread formats the median of f over runs and its min–max, each with
// format: "12.3 (11.0–14.1)"; a single run is formatted alone.
func Spread[R any](runs []R, f func(R) float64, format string) string {
	xs := values(runs, f)
	if len(xs) == 1 {
		return fmt.Sprintf(format, xs[0])
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", Median(xs), slices.Min(xs), slices.Max(xs))
}

// Ratios formats the median over the runs of f(a[i]) / f(b[i]), the two
// sides measured in the same run i, with each run's ratio:
// "1.05 (1.02, 1.05, 1.11)".
func Ratios[R any](a, b []R, f func(R) float64) string {
	var xs []float64
	var each []string
	for i := range a {
		x := f(a[i]) / f(b[i])
		xs = append(xs, x)
		each = append(each, fmt.Sprintf("%.2f", x))
	}
	return fmt.Sprintf("%.2f (%s)", Median(xs), strings.Join(each, ", "))
}

// FormatSize formats a byte count in the largest binary unit that divides
// it: "300 KiB", "10 MiB", "1000 B".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func values[R any](runs []R, f func(R) float64) []float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return xs
}

// ParseCounts parses the -n flag of a bench command: one count for all
// sizes, or a comma-separated count per size. Empty gives def(size) for
// each size.
func ParseCounts(s string, sizes []int64, def func(size int64) int) ([]int, error) {
	out := make([]int, len(sizes))
	if s == "" {
		for i, size := range sizes {
			out[i] = def(size)
		}
		return out, nil
	}
	fs := strings.Split(s, ",")
	if len(fs) != 1 && len(fs) != len(sizes) {
		return nil, fmt.Errorf("-n has %d counts for %d sizes", len(fs), len(sizes))
	}
	for i := range sizes {
		f := fs[min(i, len(fs)-1)]
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("invalid count %q", f)
		}
		out[i] = n
	}
	return out, nil
}
