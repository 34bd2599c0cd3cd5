// Command msgbench measures message round trips (send, receive, delete) of
// string bodies through sqsx, next to the same work done by hand with the
// SDK, against the S3 and SQS servers the AWS_* environment names. It
// reports, per side and payload size: messages/s and MiB/s, time per message
// (total and per phase), bytes allocated per message, peak RSS, and the
// ratios of each side to the raw SDK side.
//
// It is a benchmark, not a test: run it by hand against the local servers.
//
//	scripts/servers.sh start && source .servers/env
//	go run ./bench/msgbench
//	go run ./bench/msgbench -sizes 10MiB -n 20 -runs 3
//
// The sides:
//
//   - raw: what a careful engineer writes with the SDK alone: a body over
//     the threshold (256 KiB) is stored with PutObject, its Body an
//     io.SectionReader over the string (so that the SDK's checksum streams
//     it instead of copying it), and sent as a Java-compatible pointer with
//     an ExtendedPayloadSize attribute; ReceiveMessage, then the payloads of
//     the received pointers fetched in parallel (errgroup, limit 10), each
//     GetObject read into a buffer sized from Content-Length and handed over
//     as a string without a copy; a group of messages deleted with one
//     DeleteMessageBatch and its payloads with one DeleteObjects, a single
//     message with DeleteMessage and DeleteObject.
//   - sqsx: an sqsx.Client with default Options (threshold 256 KiB) except
//     MaxPayloadSize, which is lifted so that 100 MiB bodies are read:
//     SendMessage, ReceiveMessage, and DeleteMessageBatch for a batch or
//     DeleteMessage for a single message.
//
// With -aa (the default) the sqsx side runs a second time in every run, as
// side sqsx-aa: the ratio of that A/A pair shows the noise of the machine.
//
// More sides can be added from another file of this package (see register);
// the doc at docs/benchmarks.md says how a peer library was measured that way.
//
// A round trip is done in groups: for the sizes up to -batch-max (default
// 300 KiB) a group is 10 messages (ten sends, receives of up to 10 messages
// until all ten are in, one batch delete); above it a group is one message.
// Every side runs in a child process of its own for each size, so that the
// peak RSS (VmHWM from /proc/self/status) of one does not mix with another's.
// The sides of one run go one after the other, in an order that alternates
// between runs, and -runs repeats the whole set; the tables give the median
// of the runs and each run's ratio to raw.
//
// The bodies are text (64 printable ASCII characters) generated from a
// ChaCha8 stream with a seed of its own for each message, into buffers that
// are allocated before the clock starts and refilled in place. Generating a
// body and hashing it are not timed and allocate nothing. Each received body
// is hashed with SHA-256 and must match the hash of a body sent in the same
// group, once each; the bucket must be empty after the last delete, so a side
// that skips a payload delete fails too. Bytes allocated per message is the
// runtime.MemStats TotalAlloc delta over the timed groups divided by the
// number of messages; it includes the SDK's allocations and the harness's
// small bookkeeping, which is the same for every side.
//
// The local servers now and then lose a ReceiveMessage response on a closed
// connection (the SDK retries the call, but the messages of the lost response
// reappear only after their visibility timeout: 5 s here, 30 s above 10 MiB).
// A group in which that happened (a receive came back empty before all its
// messages were in) is "stalled": it is verified and deleted like any other
// but left out of the times, and the tables count such groups per run. Its
// allocations stay in the bytes per message (a few empty receives' worth).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/google/uuid"
	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/benchutil"
	"github.com/sqsx/sqsx/payload"
	"golang.org/x/sync/errgroup"
)

// threshold is the size above which every side offloads a body: the
// default of sqsx and of the reference clients.
const threshold = sqsx.DefaultThreshold

// env is what a side is built from.
type env struct {
	sqs    *sqs.Client
	s3     *s3.Client
	queue  string
	bucket string
}

// message is a received message as the harness needs it.
type message struct {
	id     string
	body   string
	handle string
}

// side is one way of doing the round trip.
type side interface {
	send(ctx context.Context, body string) error
	// receive makes one ReceiveMessage call for up to max messages.
	receive(ctx context.Context, max int32) ([]message, error)
	// delete deletes msgs, which came from one group.
	delete(ctx context.Context, msgs []message) error
}

type sideDef struct {
	name string
	make func(ctx context.Context, e env) (side, error)
}

// sides lists the sides in the order they were registered.
var sides []sideDef

func init() {
	register("raw", func(_ context.Context, e env) (side, error) { return &rawSide{e}, nil })
	register("sqsx", newSqsxSide)
}

// register adds a side. Another file of this package can add one from its
// own init function (files' init functions run in file-name order, after
// main.go's for names after it).
func register(name string, mk func(ctx context.Context, e env) (side, error)) {
	sides = append(sides, sideDef{name, mk})
}

// result is what one child reports, as one JSON line.
type result struct {
	Side        string  `json:"side"`
	Size        int64   `json:"size"`
	Group       int     `json:"group"`
	Messages    int     `json:"messages"`
	Timed       int     `json:"timed_messages"`
	Stalled     int     `json:"stalled_groups"`
	SendNs      int64   `json:"send_ns"`
	RecvNs      int64   `json:"recv_ns"`
	DelNs       int64   `json:"del_ns"`
	AllocBytes  uint64  `json:"alloc_bytes"`
	Mallocs     uint64  `json:"mallocs"`
	BaseRSSKiB  int64   `json:"base_rss_kib"`
	PeakRSSKiB  int64   `json:"peak_rss_kib"`
	ReceiveCall int     `json:"receive_calls"`
	EmptyRecv   int     `json:"empty_receives"`
	Verified    bool    `json:"verified"`
	GCCycles    uint32  `json:"gc_cycles"`
	WallSecs    float64 `json:"wall_secs"`
}

// Times per message, over the groups that did not stall.
func (r result) nsPerMsg() float64   { return float64(r.SendNs+r.RecvNs+r.DelNs) / float64(r.Timed) }
func (r result) sendPerMsg() float64 { return float64(r.SendNs) / float64(r.Timed) }
func (r result) recvPerMsg() float64 { return float64(r.RecvNs) / float64(r.Timed) }
func (r result) delPerMsg() float64  { return float64(r.DelNs) / float64(r.Timed) }
func (r result) allocPerMsg() float64 {
	return float64(r.AllocBytes) / float64(r.Messages)
}

func main() {
	sizesFlag := flag.String("sizes", "1KiB,300KiB,10MiB,100MiB", "comma-separated payload sizes (bytes, or with a KiB or MiB suffix)")
	nFlag := flag.String("n", "", "messages per side and size: one number for all sizes, or a comma-separated list matching -sizes (default: 2000 up to 1 KiB, 500 up to 300 KiB, 60 up to 10 MiB, 10 above; rounded up to whole groups)")
	runs := flag.Int("runs", 3, "how many times to run every side for every size")
	batchMax := flag.String("batch-max", "300KiB", "largest size sent in groups of 10 (received and batch-deleted together); larger sizes go one at a time")
	sideFlag := flag.String("side", "", "comma-separated sides to run (default: all registered)")
	aa := flag.Bool("aa", true, "also run the sqsx side a second time in every run, as side sqsx-aa (an A/A pair, to show the noise)")
	cpuprofile := flag.String("cpuprofile", "", "child only: write a CPU profile of the timed loop to this file")
	child := flag.Bool("child", false, "internal: run one side for one size and print a JSON result")
	bucket := flag.String("bucket", "", "internal: the bucket to use")
	flag.Parse()
	if *aa {
		register("sqsx-aa", newSqsxSide)
	}

	ctx := context.Background()
	sizes, err := parseSizes(*sizesFlag)
	if err != nil {
		fail(err)
	}
	bmax, err := benchutil.ParseSize(*batchMax)
	if err != nil {
		fail(err)
	}
	counts, err := benchutil.ParseCounts(*nFlag, sizes, defaultCount)
	if err != nil {
		fail(err)
	}
	names := make([]string, 0, len(sides))
	for _, s := range sides {
		names = append(names, s.name)
	}
	if *sideFlag != "" {
		names = strings.Split(*sideFlag, ",")
		for _, n := range names {
			if findSide(n) == nil {
				fail(fmt.Errorf("unknown side %q", n))
			}
		}
	}

	if *child {
		if len(sizes) != 1 || len(names) != 1 {
			fail(errors.New("-child takes one size and one side"))
		}
		group := 1
		if sizes[0] <= bmax {
			group = 10
		}
		r, err := runChild(ctx, *findSide(names[0]), *bucket, sizes[0], group, counts[0], *cpuprofile)
		if err != nil {
			fail(fmt.Errorf("side %s, size %d: %w", names[0], sizes[0], err))
		}
		json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := runParent(ctx, names, sizes, counts, *runs, *batchMax); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "msgbench:", err)
	os.Exit(1)
}

func findSide(name string) *sideDef {
	for i := range sides {
		if sides[i].name == name {
			return &sides[i]
		}
	}
	return nil
}

func loadClients(ctx context.Context) (*sqs.Client, *s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, err
	}
	return sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// runParent creates the bucket, runs a child per run, size and side, and
// prints the tables.
func runParent(ctx context.Context, names []string, sizes []int64, counts []int, runs int, batchMax string) error {
	_, s3c, err := loadClients(ctx)
	if err != nil {
		return err
	}
	bucket := fmt.Sprintf("msgbench-%d", time.Now().UnixNano()%1e9)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("CreateBucket %s: %w", bucket, err)
	}
	defer s3c.DeleteBucket(context.WithoutCancel(ctx), &s3.DeleteBucketInput{Bucket: aws.String(bucket)})
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// results[size index][side] holds one result per run.
	results := make([]map[string][]result, len(sizes))
	for i := range results {
		results[i] = map[string][]result{}
	}
	start := time.Now()
	for run := range runs {
		order := slices.Clone(names)
		if run%2 == 1 {
			slices.Reverse(order)
		}
		for i, size := range sizes {
			for _, name := range order {
				args := []string{"-child", "-side", name, "-sizes", strconv.FormatInt(size, 10),
					"-n", strconv.Itoa(counts[i]), "-bucket", bucket, "-batch-max", batchMax}
				cmd := exec.CommandContext(ctx, self, args...)
				cmd.Stderr = os.Stderr
				out, err := cmd.Output()
				if err != nil {
					return fmt.Errorf("run %d, side %s, size %s: %w", run+1, name, benchutil.FormatSize(size), err)
				}
				var r result
				if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
					return fmt.Errorf("side %s: %w (output %q)", name, err, out)
				}
				if !r.Verified {
					return fmt.Errorf("side %s, size %s: a received body did not match", name, benchutil.FormatSize(size))
				}
				fmt.Fprintf(os.Stderr, "run %d %-5s %7s: %d msgs, %.2f ms/msg, %s/msg allocated, peak RSS %.1f MiB, %d receive calls (%d empty), %d stalled groups, %.1fs\n",
					run+1, name, benchutil.FormatSize(size), r.Messages, r.nsPerMsg()/1e6, fmtBytes(r.allocPerMsg()),
					float64(r.PeakRSSKiB)/1024, r.ReceiveCall, r.EmptyRecv, r.Stalled, r.WallSecs)
				results[i][name] = append(results[i][name], r)
			}
		}
	}
	fmt.Printf("msgbench: %s/%s, GOMAXPROCS %d, %d run(s), %s, %.0fs\n\n", runtime.GOOS, runtime.GOARCH,
		runtime.GOMAXPROCS(0), runs, time.Now().UTC().Format(time.RFC3339), time.Since(start).Seconds())
	printTables(names, sizes, results)
	return nil
}

func printTables(names []string, sizes []int64, results []map[string][]result) {
	fmt.Println("Medians of the runs. Times are ms per message (send + receive + delete), over the groups that did not stall.")
	fmt.Println()
	fmt.Println("| size | side | msgs | msgs/s | MiB/s | ms/msg | send | receive | delete | alloc/msg | peak RSS MiB | (peak-base)/size | stalled groups |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i, size := range sizes {
		for _, name := range names {
			rs := results[i][name]
			nsMsg := benchutil.MedianOf(rs, result.nsPerMsg)
			peak := benchutil.MedianOf(rs, func(r result) float64 { return float64(r.PeakRSSKiB) / 1024 })
			over := "–"
			if size >= 1<<20 {
				over = fmt.Sprintf("%.2f", benchutil.MedianOf(rs, func(r result) float64 { return float64((r.PeakRSSKiB-r.BaseRSSKiB)*1024) / float64(size) }))
			}
			var empty []string
			for _, r := range rs {
				empty = append(empty, strconv.Itoa(r.Stalled))
			}
			fmt.Printf("| %s | %s | %d | %.0f | %.1f | %.2f | %.2f | %.2f | %.2f | %s | %.1f | %s | %s |\n",
				benchutil.FormatSize(size), name, rs[0].Messages, 1e9/nsMsg, float64(size)/(1<<20)*1e9/nsMsg, nsMsg/1e6,
				benchutil.MedianOf(rs, result.sendPerMsg)/1e6, benchutil.MedianOf(rs, result.recvPerMsg)/1e6, benchutil.MedianOf(rs, result.delPerMsg)/1e6,
				fmtBytes(benchutil.MedianOf(rs, result.allocPerMsg)),
				peak, over, strings.Join(empty, ", "))
		}
	}
	fmt.Println()
	fmt.Println("Ratios to raw (below 1 is less time, fewer bytes, less memory than raw), and of the A/A pair: median of the runs, each run in parentheses.")
	fmt.Println()
	fmt.Println("| size | side | time | send | receive | delete | alloc | peak RSS |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	for i, size := range sizes {
		raw, ok := results[i]["raw"]
		if !ok {
			continue
		}
		for _, name := range names {
			if name == "raw" {
				continue
			}
			rs := results[i][name]
			base := "raw"
			if a, ok := strings.CutSuffix(name, "-aa"); ok && results[i][a] != nil {
				// The A/A pair: the same side twice in one run.
				raw, base = results[i][a], a
			}
			fmt.Printf("| %s | %s/%s | %s | %s | %s | %s | %s | %s |\n", benchutil.FormatSize(size), name, base,
				benchutil.Ratios(rs, raw, result.nsPerMsg), benchutil.Ratios(rs, raw, result.sendPerMsg),
				benchutil.Ratios(rs, raw, result.recvPerMsg), benchutil.Ratios(rs, raw, result.delPerMsg),
				benchutil.Ratios(rs, raw, result.allocPerMsg),
				benchutil.Ratios(rs, raw, func(r result) float64 { return float64(r.PeakRSSKiB) }))
		}
	}
}

// runChild runs one side for one size and returns its result.
func runChild(ctx context.Context, def sideDef, bucket string, size int64, group, n int, cpuprofile string) (result, error) {
	r := result{Side: def.name, Size: size, Group: group}
	wall := time.Now()
	sqsc, s3c, err := loadClients(ctx)
	if err != nil {
		return r, err
	}
	q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(fmt.Sprintf("msgbench-%s-%d", def.name, time.Now().UnixNano()%1e9)),
		// Long enough for a receive and a delete of one group on a slow
		// run; a message lost to the receive flake (see the perf notes)
		// comes back after this, and the wait counts in the receive time.
		Attributes: map[string]string{"VisibilityTimeout": strconv.Itoa(visibility(size))},
	})
	if err != nil {
		return r, fmt.Errorf("CreateQueue: %w", err)
	}
	defer sqsc.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	s, err := def.make(ctx, env{sqs: sqsc, s3: s3c, queue: aws.ToString(q.QueueUrl), bucket: bucket})
	if err != nil {
		return r, err
	}

	r.BaseRSSKiB = benchutil.ProcStatusKiB("VmRSS:")
	// The bodies: group buffers allocated once, refilled in place per group.
	bufs := make([][]byte, group)
	for i := range bufs {
		bufs[i] = make([]byte, size)
	}
	groups := (n + group - 1) / group
	var seq uint64

	// One untimed group first: connections, SDK caches, the runtime's heap.
	if _, err := roundTrip(ctx, s, bufs, &seq); err != nil {
		return r, fmt.Errorf("warm-up: %w", err)
	}
	var stop func()
	if cpuprofile != "" {
		if stop, err = startCPUProfile(cpuprofile); err != nil {
			return r, err
		}
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range groups {
		g, err := roundTrip(ctx, s, bufs, &seq)
		if err != nil {
			return r, err
		}
		r.ReceiveCall += g.calls
		r.EmptyRecv += g.empty
		r.Messages += group
		if g.empty > 0 {
			// A message went missing and came back only after its
			// visibility timeout: the receive flake of the local servers
			// (see the doc comment). Such a group is verified and deleted
			// like any other but left out of the times.
			r.Stalled++
			continue
		}
		r.Timed += group
		r.SendNs += g.send.Nanoseconds()
		r.RecvNs += g.recv.Nanoseconds()
		r.DelNs += g.del.Nanoseconds()
	}
	runtime.ReadMemStats(&after)
	if stop != nil {
		stop()
	}
	if r.Timed == 0 {
		return r, fmt.Errorf("all %d groups stalled", r.Stalled)
	}
	r.AllocBytes = after.TotalAlloc - before.TotalAlloc
	r.Mallocs = after.Mallocs - before.Mallocs
	r.GCCycles = after.NumGC - before.NumGC
	r.PeakRSSKiB = benchutil.ProcStatusKiB("VmHWM:")

	// Every payload must be gone.
	left, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	if err != nil {
		return r, fmt.Errorf("ListObjectsV2: %w", err)
	}
	if len(left.Contents) > 0 {
		return r, fmt.Errorf("%d payload objects left in the bucket after the deletes (first %s)", len(left.Contents), aws.ToString(left.Contents[0].Key))
	}
	r.Verified = true
	r.WallSecs = time.Since(wall).Seconds()
	return r, nil
}

// visibility returns the queue's visibility timeout in seconds for size.
func visibility(size int64) int {
	if size > 10<<20 {
		return 30
	}
	return 5
}

// groupStats is what one group's round trip took.
type groupStats struct {
	send, recv, del time.Duration
	calls, empty    int // ReceiveMessage calls, and those that returned nothing
}

// roundTrip sends one group of len(bufs) messages, receives them all,
// checks their bodies and deletes them.
func roundTrip(ctx context.Context, s side, bufs [][]byte, seq *uint64) (g groupStats, err error) {
	want := make(map[[32]byte]int, len(bufs))
	for _, b := range bufs {
		*seq++
		fill(b, *seq)
		want[sha256.Sum256(b)]++
	}

	t0 := time.Now()
	for _, b := range bufs {
		if err := s.send(ctx, unsafe.String(unsafe.SliceData(b), len(b))); err != nil {
			return g, fmt.Errorf("send: %w", err)
		}
	}
	t1 := time.Now()
	var got []message
	deadline := t1.Add(2 * time.Minute)
	for len(got) < len(bufs) {
		if time.Now().After(deadline) {
			return g, fmt.Errorf("received %d of %d messages within 2 minutes", len(got), len(bufs))
		}
		g.calls++
		msgs, err := s.receive(ctx, int32(len(bufs)-len(got)))
		if err != nil {
			return g, fmt.Errorf("receive: %w", err)
		}
		if len(msgs) == 0 {
			g.empty++
		}
		got = append(got, msgs...)
	}
	t2 := time.Now()
	if len(got) != len(bufs) {
		return g, fmt.Errorf("received %d messages, want %d", len(got), len(bufs))
	}
	for _, m := range got {
		h := sha256.Sum256(unsafe.Slice(unsafe.StringData(m.body), len(m.body)))
		if want[h] == 0 {
			return g, fmt.Errorf("message %s: body of %d bytes matches no body sent in this group", m.id, len(m.body))
		}
		want[h]--
	}
	t3 := time.Now()
	if err := s.delete(ctx, got); err != nil {
		return g, fmt.Errorf("delete: %w", err)
	}
	g.send, g.recv, g.del = t1.Sub(t0), t2.Sub(t1), time.Since(t3)
	return g, nil
}

// fill overwrites b with printable text generated from seed.
func fill(b []byte, seed uint64) {
	var key [32]byte
	copy(key[:], "msgbench")
	binary.LittleEndian.PutUint64(key[24:], seed)
	rand.NewChaCha8(key).Read(b)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ."
	for i, c := range b {
		b[i] = alphabet[c&63]
	}
}

// ---- sqsx ----

type sqsxSide struct {
	c     *sqsx.Client
	queue string
}

func newSqsxSide(_ context.Context, e env) (side, error) {
	c, err := sqsx.New(e.sqs, e.s3, func(o *sqsx.Options) {
		o.Bucket = e.bucket
		// The string API reads at most 64 MiB by default; the 100 MiB
		// bodies measured here are allowed, as the raw side allows them.
		o.MaxPayloadSize = -1
	})
	if err != nil {
		return nil, err
	}
	return &sqsxSide{c, e.queue}, nil
}

func (s *sqsxSide) send(ctx context.Context, body string) error {
	_, err := s.c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: &s.queue, MessageBody: &body})
	return err
}

func (s *sqsxSide) receive(ctx context.Context, max int32) ([]message, error) {
	out, err := s.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &s.queue, MaxNumberOfMessages: max, WaitTimeSeconds: 1})
	if err != nil {
		return nil, err
	}
	return messages(out.Messages), nil
}

func (s *sqsxSide) delete(ctx context.Context, msgs []message) error {
	return deleteWith(ctx, s.queue, msgs, s.c.DeleteMessage, s.c.DeleteMessageBatch)
}

// messages converts SDK messages.
func messages(ms []sqstypes.Message) []message {
	out := make([]message, len(ms))
	for i, m := range ms {
		out[i] = message{id: aws.ToString(m.MessageId), body: aws.ToString(m.Body), handle: aws.ToString(m.ReceiptHandle)}
	}
	return out
}

// deleteWith deletes one message with del, or several with one batch call.
func deleteWith(ctx context.Context, queue string, msgs []message,
	del func(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error),
	batch func(context.Context, *sqs.DeleteMessageBatchInput, ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error),
) error {
	if len(msgs) == 1 {
		_, err := del(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: &msgs[0].handle})
		return err
	}
	entries := make([]sqstypes.DeleteMessageBatchRequestEntry, len(msgs))
	for i := range msgs {
		entries[i] = sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: &msgs[i].handle}
	}
	out, err := batch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &queue, Entries: entries})
	if err != nil {
		return err
	}
	if len(out.Failed) > 0 {
		return fmt.Errorf("%d batch delete entries failed (first: %s)", len(out.Failed), aws.ToString(out.Failed[0].Message))
	}
	return nil
}

// ---- raw ----

// rawSide is the round trip written by hand with the SDK.
type rawSide struct{ env }

func (s *rawSide) send(ctx context.Context, body string) error {
	in := &sqs.SendMessageInput{QueueUrl: &s.queue, MessageBody: &body}
	if len(body) > threshold {
		key := uuid.NewString()
		// An io.SectionReader has no WriteTo: the SDK's checksum reads it
		// in chunks instead of copying the whole body (strings.Reader's
		// WriteTo would).
		r := io.NewSectionReader(strings.NewReader(body), 0, int64(len(body)))
		if _, err := s.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.bucket, Key: &key, Body: r}); err != nil {
			return err
		}
		ptr, err := payload.EncodePointer(payload.Pointer{Bucket: s.bucket, Key: key})
		if err != nil {
			return err
		}
		in.MessageBody = &ptr
		in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{
			sqsx.AttributeName: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(len(body)))},
		}
	}
	_, err := s.sqs.SendMessage(ctx, in)
	return err
}

func (s *rawSide) receive(ctx context.Context, max int32) ([]message, error) {
	out, err := s.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: &s.queue, MaxNumberOfMessages: max, WaitTimeSeconds: 1,
		MessageAttributeNames: []string{sqsx.AttributeName},
	})
	if err != nil {
		return nil, err
	}
	msgs := messages(out.Messages)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(10)
	for i, m := range out.Messages {
		if _, ok := m.MessageAttributes[sqsx.AttributeName]; !ok {
			continue
		}
		g.Go(func() error {
			p, err := payload.DecodePointer(msgs[i].body)
			if err != nil {
				return err
			}
			obj, err := s.s3.GetObject(gctx, &s3.GetObjectInput{Bucket: &p.Bucket, Key: &p.Key})
			if err != nil {
				return err
			}
			defer obj.Body.Close()
			b := make([]byte, aws.ToInt64(obj.ContentLength))
			if _, err := io.ReadFull(obj.Body, b); err != nil {
				return err
			}
			msgs[i].body = unsafe.String(unsafe.SliceData(b), len(b))
			// Keep where the payload is, for the delete: bucket and key ride
			// along in the handle, as the extended clients do.
			msgs[i].handle = p.Bucket + "\x00" + p.Key + "\x00" + msgs[i].handle
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return msgs, nil
}

// splitHandle returns the payload's bucket and key (empty if none) and the
// receipt handle SQS issued.
func splitHandle(h string) (bucket, key, handle string) {
	if parts := strings.SplitN(h, "\x00", 3); len(parts) == 3 {
		return parts[0], parts[1], parts[2]
	}
	return "", "", h
}

func (s *rawSide) delete(ctx context.Context, msgs []message) error {
	if len(msgs) == 1 {
		bucket, key, handle := splitHandle(msgs[0].handle)
		if _, err := s.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &s.queue, ReceiptHandle: &handle}); err != nil {
			return err
		}
		if key != "" {
			if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key}); err != nil {
				return err
			}
		}
		return nil
	}
	in := &sqs.DeleteMessageBatchInput{QueueUrl: &s.queue}
	objects := map[string][]s3types.ObjectIdentifier{}
	for i, m := range msgs {
		bucket, key, handle := splitHandle(m.handle)
		in.Entries = append(in.Entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(handle)})
		if key != "" {
			objects[bucket] = append(objects[bucket], s3types.ObjectIdentifier{Key: aws.String(key)})
		}
	}
	out, err := s.sqs.DeleteMessageBatch(ctx, in)
	if err != nil {
		return err
	}
	if len(out.Failed) > 0 {
		// A careful program would delete only the payloads of the deleted
		// messages; here every entry must succeed.
		return fmt.Errorf("%d batch delete entries failed (first: %s)", len(out.Failed), aws.ToString(out.Failed[0].Message))
	}
	for bucket, objs := range objects {
		dout, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{Objects: objs, Quiet: aws.Bool(true)}})
		if err != nil {
			return err
		}
		if len(dout.Errors) > 0 {
			return fmt.Errorf("DeleteObjects: %d keys failed (first: %s)", len(dout.Errors), aws.ToString(dout.Errors[0].Message))
		}
	}
	return nil
}

// ---- helpers ----

// startCPUProfile starts a CPU profile into path and returns its stop.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func parseSizes(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		n, err := benchutil.ParseSize(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, fmt.Errorf("size %q must be positive", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func fmtBytes(b float64) string {
	switch {
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

// defaultCount is how many messages a side sends of each size unless -n
// says.
func defaultCount(size int64) int {
	switch {
	case size <= 1<<10:
		return 2000
	case size <= 300<<10:
		return 500
	case size <= 10<<20:
		return 60
	}
	return 10
}
