package main

import (
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress counts the bytes of one transfer and, once the transfer is larger
// than min bytes, draws a progress bar on out. With a nil out it only counts.
// It wraps the body's source (reader) or sink (writer), so that the bytes
// pass through unchanged whatever moves them: today a whole body in memory,
// later a streaming upload or download.
//
// A progress is safe for concurrent use: a read abandoned on an interrupt
// may still count bytes while the bar is removed.
type progress struct {
	mu    sync.Mutex
	out   io.Writer // where the bar is drawn; nil for none
	desc  string    // shown before the bar
	total int64     // bytes expected, or -1 when unknown
	min   int64     // draw no bar for transfers of at most min bytes
	done  int64     // bytes transferred
	bar   *progressbar.ProgressBar
	items bool // counts items, not bytes
}

// newProgress returns a progress for a transfer of total bytes (-1 if
// unknown) that draws a bar on out when it is over min bytes.
func newProgress(out io.Writer, desc string, total, min int64) *progress {
	return &progress{out: out, desc: desc, total: total, min: min}
}

// newItemProgress returns a progress that counts total items, not bytes,
// and draws a bar on out.
func newItemProgress(out io.Writer, desc string, total int64) *progress {
	return &progress{out: out, desc: desc, total: total, items: true}
}

// add counts n more bytes, starting the bar once the transfer is known to be
// over min bytes.
func (p *progress) add(n int) {
	if n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += int64(n)
	if p.bar != nil {
		p.bar.Add(n)
		return
	}
	if p.out == nil || (p.total <= p.min && p.done <= p.min) {
		return
	}
	max := p.total
	if max < p.done {
		max = -1 // unknown, or more than announced
	}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(p.out),
		progressbar.OptionSetDescription(p.desc),
		progressbar.OptionShowBytes(!p.items),
		progressbar.OptionShowTotalBytes(!p.items),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
		// No ticker goroutine for transfers of unknown size: the bar is
		// redrawn as bytes arrive, and nothing outlives finish.
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionSpinnerType(14),
	)
	p.bar.Add64(p.done)
}

// finish removes the bar, if one was drawn. It may be called more than once.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.min = 1<<63 - 1 // no bar after this
	if p.bar != nil {
		p.bar.Finish()
		p.bar = nil
	}
}

// reader returns r, counting what is read from it.
func (p *progress) reader(r io.Reader) io.Reader { return &progressReader{r: r, p: p} }

// writer returns w, counting what is written to it.
func (p *progress) writer(w io.Writer) io.Writer { return &progressWriter{w: w, p: p} }

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}

type progressWriter struct {
	w io.Writer
	p *progress
}

func (w *progressWriter) Write(b []byte) (int, error) {
	n, err := w.w.Write(b)
	w.p.add(n)
	return n, err
}
