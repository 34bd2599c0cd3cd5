//go:build interop

package interop

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
)

// The matrix. Producers: sqsx; the Java SQS client in its default
// configuration (writes the legacy SQSLargePayloadSize attribute) and with
// withLegacyReservedAttributeNameDisabled() (writes ExtendedPayloadSize); the
// Python client. Consumers: sqsx, Java, Python.
var (
	producers = []string{"sqsx", "java-default", "java-legacy-disabled", "python"}
	consumers = []string{"sqsx", "java", "python"}
	kinds     = []string{"large", "small", "batch", "attributes", "fifo", "delete"}
)

const (
	threshold = sqsx.DefaultThreshold // the threshold of every peer
	// pyBinaryError is how the Python client fails to send a message with a
	// Binary attribute (docs/interop.md, limitation P1).
	pyBinaryError = "'bytes' object has no attribute 'encode'"
	// fauxqsStaleHandle is fauxqs's error for ChangeMessageVisibility with a
	// receipt handle it does not know (docs/interop.md, limitation P3).
	fauxqsStaleHandle = "MessageNotInflight"
)

// cell is one producer -> consumer combination for one kind of test, with
// its own queue and bucket.
type cell struct {
	producer, consumer, kind string
	queue, bucket            string
	fifo, batch              bool
	sent                     []Message // what the producer was asked to send
	consumerJob              Job

	produced     Result            // the producer's result
	objects      map[string]string // the bucket after producing: key -> content
	consumed     Result            // the consumer's result
	keysAfter    []string          // the bucket after consuming
	queueAfter   int               // messages left in the queue after consuming
	queueAfterOK error             // error reading queueAfter
}

func (c *cell) id() string { return c.kind + "/" + c.producer + "->" + c.consumer }

// TestInterop runs the whole matrix. Each driver runs once per phase with the
// jobs of all its cells (a JVM start per cell would be slow): first every
// producer, then every consumer, the peers of a phase concurrently. The
// subtests then check each cell.
func TestInterop(t *testing.T) {
	env := testenv.Require(t)
	prod, cons := requirePeers(t, env)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()

	var cells []*cell
	for _, kind := range kinds {
		for _, p := range producers {
			for _, c := range consumers {
				cells = append(cells, newCell(t, env, p, c, kind))
			}
		}
	}
	for _, p := range producers {
		cells = append(cells, newCell(t, env, p, "raw", "wire"))
	}
	sns := newSNSCell(t, env)
	cells = append(cells, sns)

	// Phase 1: produce.
	runPhase(ctx, t, cells, prod, "produce", func(c *cell) (string, Job) {
		j := Job{ID: c.id(), QueueURL: c.queue, Bucket: c.bucket, Batch: c.batch, Messages: c.sent}
		if c == sns {
			j.QueueURL, j.TopicARN = "", c.consumerJob.TopicARN
		}
		return c.producer, j
	}, func(c *cell, r Result) { c.produced = r })
	for _, c := range cells {
		c.objects = objects(ctx, t, env, c.bucket)
	}
	// Raw reads of the wire-format cells.
	wire := map[string]types.Message{}
	for _, c := range cells {
		if c.kind == "wire" {
			msgs, err := env.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
				QueueUrl: aws.String(c.queue), MessageAttributeNames: []string{"All"}, WaitTimeSeconds: 2, VisibilityTimeout: 30,
			})
			if err == nil && len(msgs.Messages) == 1 {
				wire[c.id()] = msgs.Messages[0]
			}
		}
	}

	// Phase 2: consume. Each consumer job expects as many messages as its
	// producer sent.
	for _, c := range cells {
		if c.consumerJob.Count == 0 {
			c.consumerJob.Count = countSent(c.produced)
		}
	}
	runPhase(ctx, t, cells, cons, "consume", func(c *cell) (string, Job) {
		if c.consumer == "raw" {
			return "", Job{}
		}
		j := c.consumerJob
		j.ID, j.QueueURL, j.Bucket, j.TopicARN = c.id(), c.queue, c.bucket, ""
		return c.consumer, j
	}, func(c *cell, r Result) { c.consumed = r })
	for _, c := range cells {
		c.keysAfter = env.Keys(t, c.bucket)
		c.queueAfter, c.queueAfterOK = queueDepth(ctx, env, c.queue)
	}

	// The checks, one subtest per cell.
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			for _, c := range cells {
				if c.kind == kind {
					t.Run(c.producer+"->"+c.consumer, func(t *testing.T) { checkCell(t, c) })
				}
			}
		})
	}
	t.Run("wire", func(t *testing.T) {
		for _, c := range cells {
			if c.kind == "wire" {
				t.Run(c.producer, func(t *testing.T) { checkWire(t, c, wire[c.id()]) })
			}
		}
	})
	t.Run("sns/java-sns->sqsx", func(t *testing.T) { checkSNS(t, sns) })
}

// requirePeers returns the producers and consumers by name. The Java and
// Python drivers are found through SQSX_INTEROP_JAVA_CP (the driver's class
// path) and SQSX_INTEROP_PYTHON (a Python with the pinned packages), which
// scripts/interop.sh sets; without them the test skips, or fails under
// CI=true.
func requirePeers(t *testing.T, env *testenv.Clients) (prod, cons map[string]peer) {
	t.Helper()
	cp, py := os.Getenv("SQSX_INTEROP_JAVA_CP"), os.Getenv("SQSX_INTEROP_PYTHON")
	if cp == "" || py == "" {
		msg := "SQSX_INTEROP_JAVA_CP or SQSX_INTEROP_PYTHON unset; run scripts/interop.sh"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	driver, err := filepath.Abs(filepath.Join("python", "driver.py"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	java := func(sub string, args ...string) execPeer {
		return execPeer{dir: mkdir(t, dir, sub), argv: func(cmd string) []string {
			return append([]string{"java", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", cp, "sqsx.interop.Driver", cmd}, args...)
		}}
	}
	python := execPeer{dir: mkdir(t, dir, "python"), argv: func(cmd string) []string { return []string{py, driver, cmd} }}
	prod = map[string]peer{
		"sqsx":                 goPeer{env},
		"java-default":         java("java-default", "--mode", "default"),
		"java-legacy-disabled": java("java-legacy-disabled", "--mode", "legacy-disabled"),
		"python":               python,
		"java-sns":             snsPublisher{java("java-sns")},
	}
	cons = map[string]peer{"sqsx": goPeer{env}, "java": java("java-consumer"), "python": python}
	return prod, cons
}

// snsPublisher runs the Java driver's "publish" command for "produce".
type snsPublisher struct{ execPeer }

func (p snsPublisher) run(ctx context.Context, _ string, spec Spec) (Results, error) {
	return p.execPeer.run(ctx, "publish", spec)
}

func mkdir(t *testing.T, parent, name string) string {
	d := filepath.Join(parent, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// runPhase runs command on each peer with the jobs of its cells (job returns the peer's
// name, "" for none), runs the peers concurrently and stores each job's
// result. A peer that fails as a whole fails each of its jobs.
func runPhase(ctx context.Context, t *testing.T, cells []*cell, peers map[string]peer, command string, job func(*cell) (string, Job), store func(*cell, Result)) {
	t.Helper()
	specs := map[string]*Spec{}
	byID := map[string]*cell{}
	for _, c := range cells {
		name, j := job(c)
		if name == "" {
			continue
		}
		if specs[name] == nil {
			specs[name] = &Spec{}
		}
		specs[name].Jobs = append(specs[name].Jobs, j)
		byID[j.ID] = c
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, spec := range specs {
		p, ok := peers[name]
		if !ok {
			t.Fatalf("no peer %q", name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			res, err := p.run(ctx, command, *spec)
			t.Logf("%s: %d jobs in %v", name, len(spec.Jobs), time.Since(start).Round(time.Millisecond))
			mu.Lock()
			defer mu.Unlock()
			for _, j := range spec.Jobs {
				r, ok := res.Results[j.ID]
				switch {
				case err != nil:
					r = Result{Error: err.Error()}
				case !ok:
					r = Result{Error: "the driver reported no result for this job"}
				}
				store(byID[j.ID], r)
			}
		}()
	}
	wg.Wait()
}
