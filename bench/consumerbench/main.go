// Command consumerbench measures how fast messages are consumed from a
// pre-filled queue, by the Consumer of package consumer and by two receive
// loops written by hand with the SDK alone, against the S3 and SQS servers
// the AWS_* environment names. It reports, per workload (payload size and
// handler delay) and side: messages/s, client CPU per message, and peak RSS,
// as medians over the runs with their min–max, and the ratios of the sides
// within each run, with an A/A pair (the Consumer measured twice in one run)
// to show the noise.
//
// It is a benchmark, not a test: run it by hand against the local servers.
//
//	scripts/servers.sh start && source .servers/env
//	go run ./bench/consumerbench
//	go run ./bench/consumerbench -sizes 300KiB -delays 20ms -runs 5
//	go run ./bench/consumerbench -sqs-latency 10ms -s3-latency 20ms
//	go run ./bench/consumerbench -b-prefetch 10   # consumer-aa with Prefetch 10: an A/B pair
//
// # Sides
//
// Every side has the same concurrency: 2 receive loops (the Consumer's
// default Receivers), each asking for 10 messages with a 20 s long poll and a
// 30 s visibility timeout, and at most 10 handler calls at once across them
// (the Consumer's default Concurrency). The raw sides read the extended wire
// format themselves (a pointer body with an ExtendedPayloadSize attribute;
// payload.DecodePointer parses the pointer) and do all I/O with the SDK.
//
//   - raw-each: each receiver receives up to 10 messages and runs one
//     goroutine per message (within the 10 handler slots): GetObject read
//     into a buffer sized from Content-Length, the handler, then
//     DeleteMessage and DeleteObject; it receives again when its messages
//     are done.
//   - raw-careful: what a careful engineer writes with the SDK alone. Each
//     receiver receives up to 10 messages, fetches their payloads in
//     parallel (errgroup, limit 10; buffers sized from Content-Length, no
//     copy), calls the handlers (within the 10 shared handler slots), then
//     deletes the batch with one DeleteMessageBatch and its payloads with one
//     DeleteObjects, and receives again.
//   - consumer: consumer.New on an sqsx.Client with default Options except
//     the bucket, and default consumer Options (Receivers 2, Concurrency 10,
//     Prefetch 20, MaxInFlightBytes 256 MiB, AckInterval 1 s), Run with the
//     handler.
//
// The queue is filled before the child starts, with sqsx's SendMessageBatch
// (bodies over 256 KiB go to S3; text from ChaCha8 with a header holding the
// message's number and the CRC32C of the rest). The handler checks that CRC,
// records the number, and sleeps for the handler delay.
//
// # What is measured
//
// Each side runs in a child process of its own per workload and run, so
// that its peak RSS (VmHWM) and CPU time (getrusage) are its own. The clock
// starts when the side starts receiving. Messages/s is the count over the
// time until the last handler returned. The side keeps running until every
// message is deleted from SQS (and its payload from S3): client CPU per
// message is the child's user+system CPU over that whole time, divided by
// the messages, and the drain column is that time. The Consumer acknowledges
// in batches, up to AckInterval after a handler returns, so its last
// deletions come after the last handler; in a steady state they overlap the
// next messages' work, and a full acknowledgement pipeline slows the handlers
// (back-pressure), so they are inside its messages/s.
//
// # Latency
//
// The local servers answer in well under a millisecond, where a request to
// SQS or S3 in AWS takes milliseconds to tens of milliseconds. With
// -sqs-latency or -s3-latency, the parent starts a proxy
// (internal/faultproxy) in front of each server that holds every request
// for that long before forwarding it, and points the children at the
// proxies, so that every side pays the same latency on every request. The
// untimed filling of the queues and the parent's checks go straight to the
// servers. The proxies run in the parent, so their CPU is not in the
// children's; -proxy routes the sides through them with no latency, to
// measure what the proxying itself costs.
//
// The local servers now and then lose a ReceiveMessage response on a closed
// connection, and its messages come back only after their visibility
// timeout. A child that makes no progress for 8 s gives up; the parent runs
// it again on a fresh queue (at most twice) and counts the retries. Through
// the latency proxies such a response reaches the side cut short (a 200
// whose body ends early); the child gives up on it at once, the same way.
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
	"golang.org/x/sync/errgroup"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
	"github.com/sqsx/sqsx/internal/benchutil"
	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/payload"
)

// childEnv, when set, makes the program (or a test binary) run one side as a
// child process.
const childEnv = "SQSX_CONSUMERBENCH_CHILD"

// The concurrency every side gets: the Consumer's defaults.
const (
	receivers   = consumer.DefaultReceivers
	concurrency = consumer.DefaultConcurrency
	batchSize   = consumer.MaxBatchSize
	waitTime    = consumer.DefaultWaitTime
	visibility  = consumer.DefaultVisibilityTimeout
)

// stallAfter is how long a child waits without progress before it gives up
// (see the package documentation).
const stallAfter = 8 * time.Second

// sides lists the sides, in the order of the tables.
var sides = []string{"raw-each", "raw-careful", "consumer"}

// result is what one child reports, as one JSON line.
type result struct {
	Side        string  `json:"side"`
	Size        int64   `json:"size"`
	DelayMs     float64 `json:"delay_ms"`
	Messages    int     `json:"messages"`
	HandledSecs float64 `json:"handled_secs"` // until the last handler returned
	DrainSecs   float64 `json:"drain_secs"`   // until the last deletion
	CPUSecs     float64 `json:"cpu_secs"`     // user+system, over DrainSecs
	BaseRSSKiB  int64   `json:"base_rss_kib"`
	PeakRSSKiB  int64   `json:"peak_rss_kib"`
	Handled     int     `json:"handled"` // handler calls, repeats included
	Stalled     bool    `json:"stalled"`
	Lost        string  `json:"lost,omitempty"` // the response lost, if that stalled it
	// Calls counts the SDK operations until the last deletion, by service
	// and operation ("S3 GetObject"); a retried operation counts once.
	Calls map[string]int `json:"calls"`
}

// callsPerMsg returns the operations on service per message.
func (r result) callsPerMsg(service string) float64 {
	n := 0
	for op, c := range r.Calls {
		if strings.HasPrefix(op, service+" ") {
			n += c
		}
	}
	return float64(n) / float64(r.Messages)
}

func (r result) msgsPerSec() float64 { return float64(r.Messages) / r.HandledSecs }
func (r result) cpuMsPerMsg() float64 {
	return r.CPUSecs * 1e3 / float64(r.Messages)
}
func (r result) peakMiB() float64 { return float64(r.PeakRSSKiB) / 1024 }

func main() {
	var err error
	if os.Getenv(childEnv) != "" {
		err = runChild(context.Background(), os.Args[1:], os.Stdout)
	} else {
		err = run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "consumerbench:", err)
		os.Exit(1)
	}
}

// workload is one payload size and handler delay.
type workload struct {
	size  int64
	n     int
	delay time.Duration
}

// run is the parent: it parses args, runs a child per run, workload and
// side, and prints the tables to stdout and progress to stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("consumerbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizesFlag := fs.String("sizes", "1KiB,300KiB,10MiB", "comma-separated payload sizes")
	nFlag := fs.String("n", "", "messages per side and size: one count, or one per size (default: 4000 up to 1 KiB, 600 up to 300 KiB, 60 above)")
	delaysFlag := fs.String("delays", "0ms,20ms", "comma-separated handler delays")
	runs := fs.Int("runs", 3, "how many times to run every side on every workload")
	aa := fs.Bool("aa", true, "run the consumer side twice in every run (an A/A pair)")
	bPrefetch := fs.Int("b-prefetch", 0, "run the second consumer side (consumer-aa) with this Options.Prefetch instead of the default: an A/B pair")
	sqsLatency := fs.Duration("sqs-latency", 0, "latency added to every SQS request of the sides, by a proxy in front of the SQS server")
	s3Latency := fs.Duration("s3-latency", 0, "latency added to every S3 request of the sides, by a proxy in front of the S3 server")
	proxy := fs.Bool("proxy", false, "send the sides' requests through the proxies even with no latency (implied by a latency)")
	profiles := fs.String("cpuprofile", "", "write a CPU profile of every child into this directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var sizes []int64
	for _, f := range strings.Split(*sizesFlag, ",") {
		n, err := benchutil.ParseSize(strings.TrimSpace(f))
		if err != nil || n < headerLen {
			return fmt.Errorf("invalid size %q (at least %d bytes)", f, headerLen)
		}
		sizes = append(sizes, n)
	}
	counts, err := benchutil.ParseCounts(*nFlag, sizes, defaultCount)
	if err != nil {
		return err
	}
	var delays []time.Duration
	for _, f := range strings.Split(*delaysFlag, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < 0 {
			return fmt.Errorf("invalid delay %q", f)
		}
		delays = append(delays, d)
	}
	var wls []workload
	for i, size := range sizes {
		for _, d := range delays {
			wls = append(wls, workload{size, counts[i], d})
		}
	}
	names := slices.Clone(sides)
	if *aa {
		names = append(names, "consumer-aa")
	}
	if *bPrefetch < 0 || *bPrefetch > 0 && !*aa {
		return fmt.Errorf("-b-prefetch %d: needs -aa and a count of at least 1", *bPrefetch)
	}
	childArgs := map[string][]string{}
	if *bPrefetch > 0 {
		childArgs["consumer-aa"] = []string{"-prefetch", strconv.Itoa(*bPrefetch)}
	}

	net, err := startNetwork(*sqsLatency, *s3Latency, *proxy)
	if err != nil {
		return err
	}
	defer net.Close()
	sqsc, s3c, err := loadClients(ctx)
	if err != nil {
		return err
	}
	bucket := fmt.Sprintf("consumerbench-%d", time.Now().UnixNano()%1e9)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("CreateBucket %s: %w", bucket, err)
	}
	defer s3c.DeleteBucket(context.WithoutCancel(ctx), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	sender, err := sqsx.New(sqsc, s3c, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}

	// results[workload][side] holds one result per run; retries counts the
	// children run again after a stall.
	results := make([]map[string][]result, len(wls))
	for i := range results {
		results[i] = map[string][]result{}
	}
	retries := 0
	start := time.Now()
	for r := range *runs {
		order := slices.Clone(names)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for i, wl := range wls {
			for _, name := range order {
				var res result
				for attempt := 0; ; attempt++ {
					profile := ""
					if *profiles != "" {
						profile = filepath.Join(*profiles, fmt.Sprintf("%s-%s-%v-run%d.pprof", name, strings.ReplaceAll(benchutil.FormatSize(wl.size), " ", ""), wl.delay, r+1))
					}
					res, err = runSide(ctx, self, net, sqsc, s3c, sender, bucket, name, childArgs[name], wl, profile)
					if err != nil {
						return fmt.Errorf("run %d, %s, %s: %w", r+1, name, wl, err)
					}
					if !res.Stalled {
						break
					}
					if attempt == 2 {
						return fmt.Errorf("run %d, %s, %s: stalled three times", r+1, name, wl)
					}
					retries++
					why := fmt.Sprintf("no progress for %v", stallAfter)
					if res.Lost != "" {
						why = "lost a response: " + res.Lost
					}
					fmt.Fprintf(stderr, "run %d %-11s %s: stalled (%s); again on a fresh queue\n", r+1, name, wl, why)
				}
				fmt.Fprintf(stderr, "run %d %-11s %s: %.0f msgs/s, %.2f ms CPU/msg, peak RSS %.1f MiB, drain %.2fs, %d handler calls, calls %v\n",
					r+1, name, wl, res.msgsPerSec(), res.cpuMsPerMsg(), res.peakMiB(), res.DrainSecs, res.Handled, res.Calls)
				results[i][name] = append(results[i][name], res)
			}
		}
	}
	fmt.Fprintf(stdout, "consumerbench: %s/%s, GOMAXPROCS %d, %d run(s), %s, %.0fs, %d stalled child(ren) run again; network: %s\n\n",
		runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), *runs, time.Now().UTC().Format(time.RFC3339), time.Since(start).Seconds(), retries, net)
	if *bPrefetch > 0 {
		fmt.Fprintf(stdout, "consumer-aa runs with Prefetch %d, consumer with the default: an A/B pair, not A/A.\n\n", *bPrefetch)
	}
	printTables(stdout, wls, names, results)
	return nil
}

func (wl workload) String() string {
	return fmt.Sprintf("%s × %d, %v handler", benchutil.FormatSize(wl.size), wl.n, wl.delay)
}

// runSide fills a fresh queue, runs one side on it in a child process whose
// requests take net (and that writes a CPU profile to profile, if not
// empty), and checks that the queue and the bucket are empty afterwards.
func runSide(ctx context.Context, self string, net *network, sqsc *sqs.Client, s3c *s3.Client, sender *sqsx.Client, bucket, name string, args []string, wl workload, profile string) (result, error) {
	var r result
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(fmt.Sprintf("consumerbench-%s-%d", name, time.Now().UnixNano()%1e9)),
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(int(visibility / time.Second))},
	})
	if err != nil {
		return r, fmt.Errorf("CreateQueue: %w", err)
	}
	queue := aws.ToString(q.QueueUrl)
	defer sqsc.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: &queue})
	if err := fill(ctx, sender, queue, wl.size, wl.n); err != nil {
		return r, fmt.Errorf("filling the queue: %w", err)
	}
	side := strings.TrimSuffix(name, "-aa")
	args = append([]string{"-side", side, "-queue", queue, "-bucket", bucket,
		"-size", strconv.FormatInt(wl.size, 10), "-n", strconv.Itoa(wl.n), "-delay", wl.delay.String(), "-cpuprofile", profile}, args...)
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), net.env()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	before := net.sqsRequests()
	out, err := cmd.Output()
	if err != nil {
		return r, fmt.Errorf("child: %w\n%s", err, stderr.Bytes())
	}
	if net.sqs != nil && net.sqsRequests() == before {
		return r, errors.New("the child's SQS requests did not go through the proxy")
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return r, fmt.Errorf("child: %w (output %q)", err, out)
	}
	if r.Stalled {
		// Whatever is left goes with the queue; its payloads are removed
		// here, so that the next check of the bucket holds.
		return r, emptyBucket(ctx, s3c, bucket)
	}
	left, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return r, fmt.Errorf("ListObjectsV2: %w", err)
	}
	if len(left.Contents) > 0 {
		return r, fmt.Errorf("%d payload objects left in the bucket (first %s)", len(left.Contents), aws.ToString(left.Contents[0].Key))
	}
	return r, nil
}

// network is the way the sides' requests go: straight to the servers, or
// through a proxy in front of each that adds a latency to every request.
// The parent's own requests (filling the queues, checking the bucket) go
// straight, untimed.
type network struct {
	sqsLatency, s3Latency time.Duration
	sqs, s3               *faultproxy.Proxy // nil when straight
}

// startNetwork starts the proxies if a latency is set or proxy is.
func startNetwork(sqsLatency, s3Latency time.Duration, proxy bool) (*network, error) {
	n := &network{sqsLatency: sqsLatency, s3Latency: s3Latency}
	if sqsLatency < 0 || s3Latency < 0 {
		return nil, fmt.Errorf("negative latency (SQS %v, S3 %v)", sqsLatency, s3Latency)
	}
	if !proxy && sqsLatency == 0 && s3Latency == 0 {
		return n, nil
	}
	start := func(env string, latency time.Duration) (*faultproxy.Proxy, error) {
		target := os.Getenv(env)
		if target == "" {
			return nil, fmt.Errorf("a latency needs the server's endpoint in %s", env)
		}
		return faultproxy.New(target, func(o *faultproxy.Options) { o.Latency = latency })
	}
	var err error
	if n.sqs, err = start("AWS_ENDPOINT_URL_SQS", sqsLatency); err != nil {
		return nil, err
	}
	if n.s3, err = start("AWS_ENDPOINT_URL_S3", s3Latency); err != nil {
		n.sqs.Close()
		return nil, err
	}
	return n, nil
}

// env returns the environment that points a child at the proxies.
func (n *network) env() []string {
	if n.sqs == nil {
		return nil
	}
	return []string{"AWS_ENDPOINT_URL_SQS=" + n.sqs.URL(), "AWS_ENDPOINT_URL_S3=" + n.s3.URL()}
}

// sqsRequests returns how many requests the SQS proxy has received.
func (n *network) sqsRequests() int64 {
	if n.sqs == nil {
		return 0
	}
	return n.sqs.Stats().Requests
}

func (n *network) String() string {
	if n.sqs == nil {
		return "straight to the servers"
	}
	return fmt.Sprintf("through proxies adding %v to every SQS and %v to every S3 request", n.sqsLatency, n.s3Latency)
}

// Close stops the proxies.
func (n *network) Close() {
	if n.sqs != nil {
		n.sqs.Close()
		n.s3.Close()
	}
}

// emptyBucket deletes every object in bucket.
func emptyBucket(ctx context.Context, s3c *s3.Client, bucket string) error {
	for {
		out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
		if err != nil {
			return err
		}
		if len(out.Contents) == 0 {
			return nil
		}
		var ids []s3types.ObjectIdentifier
		for _, o := range out.Contents {
			ids = append(ids, s3types.ObjectIdentifier{Key: o.Key})
		}
		if _, err := s3c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: &bucket, Delete: &s3types.Delete{Objects: ids}}); err != nil {
			return err
		}
	}
}

// ---- bodies ----

// headerLen is the length of a body's header: its number and the CRC32C
// of the rest, "%08x %08x\n".
const headerLen = 18

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// makeBody fills b with message number seq: the header, then printable
// text generated from seq.
func makeBody(b []byte, seq int) {
	var key [32]byte
	copy(key[:], "consumerbench")
	binary.LittleEndian.PutUint64(key[24:], uint64(seq))
	text := b[headerLen:]
	rand.NewChaCha8(key).Read(text)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ."
	for i, c := range text {
		text[i] = alphabet[c&63]
	}
	copy(b, fmt.Sprintf("%08x %08x\n", seq, crc32.Checksum(text, castagnoli)))
}

// checkBody returns the number of the message whose body is s, or an error
// if the body is not one makeBody made.
func checkBody(s string, size int64) (int, error) {
	if int64(len(s)) != size {
		return 0, fmt.Errorf("body of %d bytes, want %d", len(s), size)
	}
	seq, err1 := strconv.ParseUint(s[:8], 16, 32)
	sum, err2 := strconv.ParseUint(s[9:17], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("bad header %q", s[:headerLen])
	}
	text := unsafe.Slice(unsafe.StringData(s[headerLen:]), len(s)-headerLen)
	if crc32.Checksum(text, castagnoli) != uint32(sum) {
		return 0, fmt.Errorf("message %d: CRC32C mismatch", seq)
	}
	return int(seq), nil
}

// fill sends n messages of size bytes to queue with sqsx's SendMessageBatch
// (several batches at once, within 128 MiB of bodies).
func fill(ctx context.Context, sender *sqsx.Client, queue string, size int64, n int) error {
	workers := int(max(1, min(4, (128<<20)/(size*batchSize))))
	batches := make(chan int) // the first message number of a batch
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			bufs := make([][]byte, batchSize)
			for i := range bufs {
				bufs[i] = make([]byte, size)
			}
			for first := range batches {
				in := &sqs.SendMessageBatchInput{QueueUrl: &queue}
				for i := range min(batchSize, n-first) {
					makeBody(bufs[i], first+i)
					in.Entries = append(in.Entries, sqstypes.SendMessageBatchRequestEntry{
						Id:          aws.String(strconv.Itoa(i)),
						MessageBody: aws.String(unsafe.String(unsafe.SliceData(bufs[i]), len(bufs[i]))),
					})
				}
				out, err := sender.SendMessageBatch(gctx, in)
				if err != nil {
					return err
				}
				if len(out.Failed) > 0 {
					return fmt.Errorf("%d entries failed (first: %s)", len(out.Failed), aws.ToString(out.Failed[0].Message))
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(batches)
		for first := 0; first < n; first += batchSize {
			select {
			case batches <- first:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

// ---- the child ----

// tally is what a child counts while its side runs: the handler calls and
// the deletions, and when the last of each happened.
type tally struct {
	n, size int64
	delay   time.Duration
	start   time.Time

	mu          sync.Mutex
	seen        []bool
	handled     int // distinct messages whose handler returned nil
	calls       int
	lastHandled time.Time
	deleted     map[string]bool // message ids
	progress    time.Time
	done        chan struct{} // closed when every message is deleted
	failure     error
}

func newTally(n, size int64, delay time.Duration) *tally {
	return &tally{n: n, size: size, delay: delay, seen: make([]bool, n), deleted: map[string]bool{}, done: make(chan struct{})}
}

// handle is every side's handler: it checks the body, records it, and
// sleeps for the delay.
func (t *tally) handle(ctx context.Context, body string) error {
	seq, err := checkBody(body, t.size)
	if err == nil && int64(seq) >= t.n {
		err = fmt.Errorf("message number %d out of range", seq)
	}
	if err != nil {
		t.fail(err)
		return err
	}
	if t.delay > 0 {
		select {
		case <-time.After(t.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls++
	if !t.seen[seq] {
		t.seen[seq] = true
		t.handled++
		if int64(t.handled) == t.n {
			t.lastHandled = time.Now()
		}
	}
	t.progress = time.Now()
	return nil
}

// deletedIDs records the deletion of messages.
func (t *tally) deletedIDs(ids ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, id := range ids {
		t.deleted[id] = true
	}
	t.progress = time.Now()
	if int64(len(t.deleted)) == t.n && t.failure == nil {
		select {
		case <-t.done:
		default:
			close(t.done)
		}
	}
}

func (t *tally) fail(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failure == nil {
		t.failure = err
		close(t.done)
	}
}

// wait returns when every message is deleted, a side failed, or nothing
// happened for stallAfter (stalled).
func (t *tally) wait() (stalled bool, err error) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-t.done:
			t.mu.Lock()
			defer t.mu.Unlock()
			return false, t.failure
		case <-tick.C:
			t.mu.Lock()
			idle := time.Since(t.progress)
			t.mu.Unlock()
			if idle > stallAfter {
				return true, nil
			}
		}
	}
}

// runChild runs one side on a filled queue and prints its result.
func runChild(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("consumerbench child", flag.ContinueOnError)
	side := fs.String("side", "", "the side to run")
	queue := fs.String("queue", "", "the queue URL")
	bucket := fs.String("bucket", "", "the payload bucket")
	size := fs.Int64("size", 0, "the payload size")
	n := fs.Int64("n", 0, "the number of messages")
	delay := fs.Duration("delay", 0, "the handler delay")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the side's run to this file")
	prefetch := fs.Int("prefetch", 0, "the consumer's Options.Prefetch (0: the default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	calls := &opCounter{n: map[string]int{}}
	sqsc, s3c, err := loadClients(ctx, calls.count)
	if err != nil {
		return err
	}
	var start func(ctx context.Context, t *tally) error
	switch *side {
	case "raw-each", "raw-careful":
		l := &rawLoop{sqs: sqsc, s3: s3c, queue: *queue, batch: *side == "raw-careful"}
		start = l.start
	case "consumer":
		client, err := sqsx.New(sqsc, s3c, func(o *sqsx.Options) { o.Bucket = *bucket })
		if err != nil {
			return err
		}
		start = func(ctx context.Context, t *tally) error { return startConsumer(ctx, client, *queue, *prefetch, t) }
	default:
		return fmt.Errorf("unknown side %q", *side)
	}

	t := newTally(*n, *size, *delay)
	r := result{Side: *side, Size: *size, DelayMs: float64(*delay) / float64(time.Millisecond), Messages: int(*n)}
	r.BaseRSSKiB = benchutil.ProcStatusKiB("VmRSS:")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuTime()
	t.start = time.Now()
	t.progress = t.start
	if err := start(ctx, t); err != nil {
		return err
	}
	stalled, err := t.wait()
	if err != nil {
		if !lostResponse(err) {
			return err
		}
		stalled = true // the parent runs it again, as after a stall
		r.Lost = err.Error()
	}
	end := time.Now()
	r.CPUSecs = (cpuTime() - cpu0).Seconds()
	r.PeakRSSKiB = benchutil.ProcStatusKiB("VmHWM:")
	t.mu.Lock()
	r.Handled = t.calls
	r.Calls = calls.snapshot()
	r.HandledSecs = t.lastHandled.Sub(t.start).Seconds()
	t.mu.Unlock()
	r.DrainSecs = end.Sub(t.start).Seconds()
	r.Stalled = stalled
	// The side's receives are long polls on an empty queue now: the child
	// exits without waiting for them.
	return json.NewEncoder(stdout).Encode(r)
}

// lostResponse reports whether err is a response the servers broke off (see
// the package documentation). Through the latency proxies it arrives as a
// body cut short, which the SDK does not retry; its messages are invisible
// until their visibility timeout either way.
func lostResponse(err error) bool { return errors.Is(err, io.ErrUnexpectedEOF) }

// cpuTime returns the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startConsumer starts the Consumer on queue.
func startConsumer(ctx context.Context, client *sqsx.Client, queue string, prefetch int, t *tally) error {
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.Prefetch = prefetch // 0: the default
		o.Hooks.OnEvent = func(e consumer.Event) {
			if e.Type == consumer.EventAcked {
				t.deletedIDs(e.MessageID)
			}
		}
		o.Hooks.OnError = func(err *consumer.Error) { t.fail(err) }
	})
	if err != nil {
		return err
	}
	go func() {
		err := c.Run(ctx, queue, func(ctx context.Context, m *consumer.Message) error {
			return t.handle(ctx, m.Body)
		})
		if err != nil {
			t.fail(err)
		}
	}()
	return nil
}

// ---- the raw loops ----

// rawLoop is a receive loop written with the SDK alone: raw-careful when
// batch is set, raw-each when not.
type rawLoop struct {
	sqs   *sqs.Client
	s3    *s3.Client
	queue string
	batch bool

	slots chan struct{} // handler calls, shared by the receivers
}

// received is a received message with its body resolved.
type received struct {
	m    sqstypes.Message
	ptr  payload.Pointer // zero if the body came inline
	body string
}

func (l *rawLoop) start(ctx context.Context, t *tally) error {
	l.slots = make(chan struct{}, concurrency)
	for range receivers {
		go func() {
			if err := l.receive(ctx, t); err != nil && ctx.Err() == nil {
				t.fail(err)
			}
		}()
	}
	return nil
}

// receive is one receiver.
func (l *rawLoop) receive(ctx context.Context, t *tally) error {
	for ctx.Err() == nil {
		out, err := l.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:              &l.queue,
			MaxNumberOfMessages:   batchSize,
			WaitTimeSeconds:       int32(waitTime / time.Second),
			VisibilityTimeout:     int32(visibility / time.Second),
			MessageAttributeNames: []string{sqsx.AttributeName},
		})
		if err != nil {
			return fmt.Errorf("ReceiveMessage: %w", err)
		}
		if l.batch {
			err = l.careful(ctx, t, out.Messages)
		} else {
			err = l.each(ctx, t, out.Messages)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// resolve returns a message with its payload read, if it has one.
func (l *rawLoop) resolve(ctx context.Context, m sqstypes.Message) (received, error) {
	rm := received{m: m, body: aws.ToString(m.Body)}
	if _, ok := m.MessageAttributes[sqsx.AttributeName]; !ok {
		return rm, nil
	}
	p, err := payload.DecodePointer(rm.body)
	if err != nil {
		return rm, err
	}
	obj, err := l.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &p.Bucket, Key: &p.Key})
	if err != nil {
		return rm, fmt.Errorf("GetObject: %w", err)
	}
	defer obj.Body.Close()
	buf := make([]byte, aws.ToInt64(obj.ContentLength))
	if _, err := io.ReadFull(obj.Body, buf); err != nil {
		return rm, fmt.Errorf("GetObject: %w", err)
	}
	rm.ptr, rm.body = p, unsafe.String(unsafe.SliceData(buf), len(buf))
	return rm, nil
}

// each handles the messages of one receive one goroutine per message
// (within the handler slots), each fetching its payload, calling the
// handler and deleting its message and payload.
func (l *rawLoop) each(ctx context.Context, t *tally, msgs []sqstypes.Message) error {
	g, gctx := errgroup.WithContext(ctx)
	for _, m := range msgs {
		select {
		case l.slots <- struct{}{}:
		case <-gctx.Done():
			return g.Wait()
		}
		g.Go(func() error {
			defer func() { <-l.slots }()
			rm, err := l.resolve(gctx, m)
			if err != nil {
				return err
			}
			if err := t.handle(gctx, rm.body); err != nil {
				return err
			}
			if _, err := l.sqs.DeleteMessage(gctx, &sqs.DeleteMessageInput{QueueUrl: &l.queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
				return fmt.Errorf("DeleteMessage: %w", err)
			}
			if rm.ptr != (payload.Pointer{}) {
				if _, err := l.s3.DeleteObject(gctx, &s3.DeleteObjectInput{Bucket: &rm.ptr.Bucket, Key: &rm.ptr.Key}); err != nil {
					return fmt.Errorf("DeleteObject: %w", err)
				}
			}
			t.deletedIDs(aws.ToString(m.MessageId))
			return nil
		})
	}
	return g.Wait()
}

// careful fetches the payloads of one receive in parallel, calls the
// handlers (within the handler slots), and deletes the batch with one
// DeleteMessageBatch and its payloads with one DeleteObjects.
func (l *rawLoop) careful(ctx context.Context, t *tally, msgs []sqstypes.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	rms := make([]received, len(msgs))
	fetch, fctx := errgroup.WithContext(ctx)
	fetch.SetLimit(batchSize)
	for i, m := range msgs {
		fetch.Go(func() (err error) {
			rms[i], err = l.resolve(fctx, m)
			return err
		})
	}
	if err := fetch.Wait(); err != nil {
		return err
	}
	handle, hctx := errgroup.WithContext(ctx)
	for _, rm := range rms {
		select {
		case l.slots <- struct{}{}:
		case <-hctx.Done():
			return handle.Wait()
		}
		handle.Go(func() error {
			defer func() { <-l.slots }()
			return t.handle(hctx, rm.body)
		})
	}
	if err := handle.Wait(); err != nil {
		return err
	}
	in := &sqs.DeleteMessageBatchInput{QueueUrl: &l.queue}
	for i, rm := range rms {
		in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: rm.m.ReceiptHandle})
	}
	out, err := l.sqs.DeleteMessageBatch(ctx, in)
	if err != nil {
		return fmt.Errorf("DeleteMessageBatch: %w", err)
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("DeleteMessageBatch: %d entries failed (first: %s)", len(out.Failed), aws.ToString(out.Failed[0].Message))
	}
	// The payloads of the deleted messages, one DeleteObjects per bucket.
	keys := map[string][]s3types.ObjectIdentifier{}
	var ids []string
	for _, s := range out.Successful {
		i, _ := strconv.Atoi(aws.ToString(s.Id))
		rm := rms[i]
		ids = append(ids, aws.ToString(rm.m.MessageId))
		if rm.ptr != (payload.Pointer{}) {
			keys[rm.ptr.Bucket] = append(keys[rm.ptr.Bucket], s3types.ObjectIdentifier{Key: aws.String(rm.ptr.Key)})
		}
	}
	for bucket, objs := range keys {
		dout, err := l.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
		if err != nil {
			return fmt.Errorf("DeleteObjects: %w", err)
		}
		if len(dout.Errors) > 0 {
			return fmt.Errorf("DeleteObjects: %d keys failed (first: %s)", len(dout.Errors), aws.ToString(dout.Errors[0].Message))
		}
	}
	t.deletedIDs(ids...)
	return nil
}

// ---- tables ----

func printTables(w io.Writer, wls []workload, names []string, results []map[string][]result) {
	fmt.Fprintln(w, "Median of the runs (min–max). msgs/s: messages over the time until the last handler returned; CPU: the child's user+system time until the last deletion, per message; drain: time until the last deletion.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| size | handler | side | msgs | msgs/s | CPU ms/msg | peak RSS MiB | drain s | SQS calls/msg | S3 calls/msg |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|")
	for i, wl := range wls {
		for _, name := range names {
			rs := results[i][name]
			fmt.Fprintf(w, "| %s | %v | %s | %d | %s | %s | %s | %s | %.2f | %.2f |\n", benchutil.FormatSize(wl.size), wl.delay, name, wl.n,
				benchutil.Spread(rs, result.msgsPerSec, "%.0f"), benchutil.Spread(rs, result.cpuMsPerMsg, "%.2f"),
				benchutil.Spread(rs, result.peakMiB, "%.1f"), benchutil.Spread(rs, func(r result) float64 { return r.DrainSecs }, "%.2f"),
				benchutil.MedianOf(rs, func(r result) float64 { return r.callsPerMsg("SQS") }),
				benchutil.MedianOf(rs, func(r result) float64 { return r.callsPerMsg("S3") }))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Ratios of msgs/s within each run: median (each run).")
	fmt.Fprintln(w)
	pairs := [][2]string{{"consumer", "raw-careful"}, {"consumer", "raw-each"}, {"raw-careful", "raw-each"}, {"consumer-aa", "consumer"}}
	fmt.Fprint(w, "| size | handler |")
	for _, p := range pairs {
		fmt.Fprintf(w, " %s / %s |", p[0], p[1])
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "|---|---:|"+strings.Repeat("---:|", len(pairs)))
	for i, wl := range wls {
		fmt.Fprintf(w, "| %s | %v |", benchutil.FormatSize(wl.size), wl.delay)
		for _, p := range pairs {
			a, b := results[i][p[0]], results[i][p[1]]
			if len(a) == 0 || len(b) == 0 {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %s |", benchutil.Ratios(a, b, result.msgsPerSec))
		}
		fmt.Fprintln(w)
	}
}

// ---- helpers ----

// loadClients returns clients for the servers the environment names, with
// apiOptions added to both.
func loadClients(ctx context.Context, apiOptions ...func(*middleware.Stack) error) (*sqs.Client, *s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	cfg.APIOptions = append(cfg.APIOptions, apiOptions...)
	return sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// opCounter counts the SDK operations of the clients it is added to.
type opCounter struct {
	mu sync.Mutex
	n  map[string]int
}

// count adds the counting middleware to a stack (an APIOptions function).
func (c *opCounter) count(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("consumerbench.count",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			op := awsmiddleware.GetServiceID(ctx) + " " + awsmiddleware.GetOperationName(ctx)
			c.mu.Lock()
			c.n[op]++
			c.mu.Unlock()
			return next.HandleInitialize(ctx, in)
		}), middleware.After)
}

func (c *opCounter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.n)
}

// defaultCount is how many messages a side sends of each size unless -n
// says.
func defaultCount(size int64) int {
	switch {
	case size <= 1<<10:
		return 4000
	case size <= 300<<10:
		return 600
	}
	return 60
}
