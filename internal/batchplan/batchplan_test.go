package batchplan

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

// items returns inline, sendable items of the given sizes.
func items(sizes ...int64) []*Item {
	out := make([]*Item, len(sizes))
	for i, s := range sizes {
		out[i] = &Item{Size: s}
	}
	return out
}

// shrink offloads item i, leaving a pointer of 100 bytes.
func shrink(its []*Item, order *[]int) func(int) error {
	return func(i int) error {
		*order = append(*order, i)
		its[i].Offloaded, its[i].Size = true, 100
		return nil
	}
}

func TestFitLargestFirst(t *testing.T) {
	its := items(200, 900, 500, 700, 100)
	var order []int
	if err := Fit(its, 1000, shrink(its, &order)); err != nil {
		t.Fatal(err)
	}
	// 2400 -> offload 900 (1600) -> 700 (1000): fits with two uploads.
	if !slices.Equal(order, []int{1, 3}) || Total(its) != 1000 {
		t.Fatalf("expect entries 1 and 3 offloaded to a total of 1000, got %v and %d", order, Total(its))
	}
}

func TestFitSkipsFailedAndFixed(t *testing.T) {
	its := items(900, 800, 700)
	its[0].Failed = true // not sent: does not count
	its[1].Fixed = true  // may not be offloaded
	var order []int
	if err := Fit(its, 1000, shrink(its, &order)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order, []int{2}) || Total(its) != 900 {
		t.Fatalf("expect only entry 2 offloaded, got %v (total %d)", order, Total(its))
	}
}

func TestFitEndsWhenNothingHelps(t *testing.T) {
	its := items(900, 800)
	calls := 0
	// The offload never succeeds: Fit must mark entries Fixed and stop.
	if err := Fit(its, 100, func(int) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if calls != 2 || !its[0].Fixed || !its[1].Fixed {
		t.Fatalf("expect each entry tried once and fixed, got %d calls, %+v %+v", calls, *its[0], *its[1])
	}
}

func TestFitStopsOnError(t *testing.T) {
	boom := errors.New("boom")
	if err := Fit(items(900, 800), 100, func(int) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("expect %v, got %v", boom, err)
	}
}

func TestUpload(t *testing.T) {
	its := items(1, 2, 3, 4, 5, 6)
	for _, it := range its {
		it.Offloaded = true
	}
	its[5].Offloaded = false // inline: no upload
	its[4].Failed = true     // not sent: no upload
	var inFlight, most atomic.Int32
	done, err := Upload(context.Background(), its, 2, func(i int) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(10 * time.Millisecond)
		if i == 2 {
			return errors.New("upload failed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(done)
	if !slices.Equal(done, []int{0, 1, 3}) || !its[2].Failed {
		t.Fatalf("expect 0, 1, 3 uploaded and 2 failed, got %v, failed=%v", done, its[2].Failed)
	}
	if most.Load() != 2 {
		t.Fatalf("expect at most 2 uploads at once, got %d", most.Load())
	}
}

func TestUploadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	its := items(1)
	its[0].Offloaded = true
	if _, err := Upload(ctx, its, 1, func(int) error { return ctx.Err() }); !errors.Is(err, context.Canceled) {
		t.Fatalf("expect context.Canceled, got %v", err)
	}
}

func TestAcceptable(t *testing.T) {
	id := func(s *string) *string { return s }
	a, b := "a", "b"
	cases := map[string]struct {
		ids  []*string
		want bool
	}{
		"one":         {[]*string{&a}, true},
		"distinct":    {[]*string{&a, &b}, true},
		"none":        {nil, false},
		"repeated":    {[]*string{&a, &b, &a}, false},
		"two nil ids": {[]*string{nil, nil}, false},
		"ten":         {make10(), true},
		"eleven":      {append(make10(), &b), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := Acceptable(tc.ids, id); got != tc.want {
				t.Fatalf("expect %v, got %v", tc.want, got)
			}
		})
	}
}

func make10() []*string {
	out := make([]*string, 10)
	for i := range out {
		s := string(rune('a' + i))
		out[i] = &s
	}
	return out
}
