package offload

import (
	"context"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Targets caches what a client reads about the queues or topics it sends
// to (their attributes), by queue URL or topic ARN, for the life of the
// client. The zero value is ready to use.
type Targets[T any] struct {
	m      sync.Map // key -> T
	lookup singleflight.Group
}

// lookupTimeout bounds one read shared by several callers.
const lookupTimeout = 30 * time.Second

// Get returns what read returns for key, reading it once. Concurrent callers
// share one read, which runs without the first caller's cancellation (each
// caller still stops waiting when its own ctx ends), so that one caller
// giving up does not fail the others. A failed read is not cached.
func (t *Targets[T]) Get(ctx context.Context, key string, read func(context.Context) (T, error)) (T, error) {
	if v, ok := t.m.Load(key); ok {
		return v.(T), nil
	}
	ch := t.lookup.DoChan(key, func() (any, error) {
		// Another read may have finished since the check above.
		if v, ok := t.m.Load(key); ok {
			return v, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		v, err := read(lctx)
		if err != nil {
			return nil, err
		}
		t.m.Store(key, v)
		return v, nil
	})
	var zero T
	select {
	case r := <-ch:
		if r.Err != nil {
			return zero, r.Err
		}
		return r.Val.(T), nil
	case <-ctx.Done():
		return zero, ctx.Err()
	}
}

// ContentDedup reports whether target, a queue URL or topic ARN, names a
// FIFO queue or topic that deduplicates by content (read says, from its
// ContentBasedDeduplication attribute). A failure to read it is logged and
// taken as no: the message is still sent, without a deduplication id.
func (c *Core[V]) ContentDedup(target string, read func() (bool, error)) bool {
	if !strings.HasSuffix(target, ".fifo") {
		return false
	}
	on, err := read()
	if err != nil {
		c.Logger.Warn("sqsx: cannot read ContentBasedDeduplication; offloaded FIFO messages will not be deduplicated by content",
			"target", target, "error", err)
		return false
	}
	return on
}
