// Package batchplan plans the offloading of a batch request (SQS
// SendMessageBatch, SNS PublishBatch) to S3, and runs its uploads: the part
// the two services share, independent of their SDK types.
package batchplan

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// MaxEntries is the most entries an SQS or SNS batch request may hold.
const MaxEntries = 10

// Acceptable reports whether the service could take a batch as a whole: 1 to
// MaxEntries entries with distinct ids. A batch it would reject is passed to
// it unchanged, with nothing uploaded, so that it returns its usual error.
func Acceptable[E any](entries []E, id func(E) *string) bool {
	if len(entries) == 0 || len(entries) > MaxEntries {
		return false
	}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		k := ""
		if p := id(e); p != nil {
			k = *p
		}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

// Item is one entry of a batch as the planner sees it.
type Item struct {
	// Size is the entry's size as it will be sent.
	Size int64
	// Failed marks an entry that will not be sent.
	Failed bool
	// Offloaded marks an entry whose body goes to S3.
	Offloaded bool
	// Fixed marks an entry that stays as it is: it may not be offloaded,
	// or offloading it would not make it smaller.
	Fixed bool
}

// Total returns the size of the entries that will be sent.
func Total(items []*Item) int64 {
	var n int64
	for _, it := range items {
		if !it.Failed {
			n += it.Size
		}
	}
	return n
}

// Fit offloads entries, largest first, until the batch's total is at most
// limit or nothing is left to offload (the service then rejects the batch as
// too long). That gives the fewest uploads. offload(i) plans entry i's
// offload, setting its Offloaded and Size, or else its Fixed; an error from
// it stops the planning.
func Fit(items []*Item, limit int64, offload func(i int) error) error {
	for Total(items) > limit {
		best := -1
		for i, it := range items {
			if !it.Failed && !it.Offloaded && !it.Fixed && (best < 0 || it.Size > items[best].Size) {
				best = i
			}
		}
		if best < 0 {
			return nil
		}
		if err := offload(best); err != nil {
			return err
		}
		if !items[best].Offloaded {
			items[best].Fixed = true // so that the loop ends
		}
	}
	return nil
}

// Upload calls put(i) for every entry planned for offloading, at most limit
// at once. An entry whose put fails is marked Failed (put records why); the
// others go on. It returns the entries uploaded, and ctx's error if it was
// cancelled, in which case the caller removes those uploads.
func Upload(ctx context.Context, items []*Item, limit int, put func(i int) error) ([]int, error) {
	var (
		mu   sync.Mutex
		done []int
		g    errgroup.Group
	)
	g.SetLimit(limit)
	for i, it := range items {
		if !it.Offloaded || it.Failed {
			continue
		}
		g.Go(func() error {
			if err := put(i); err != nil {
				it.Failed = true
				return nil
			}
			mu.Lock()
			done = append(done, i)
			mu.Unlock()
			return nil
		})
	}
	g.Wait()
	return done, ctx.Err()
}
