// Command streambench measures a streaming round trip of one large message
// through sqsx (SendMessageStream up; ReceiveMessageUnresolved, OpenPayload
// and DeleteMessage down) against the S3 and SQS servers the AWS_*
// environment names, next to a plain S3 round trip of the same size with the
// SDK alone, and reports MiB/s and peak RSS for each.
//
// It is a benchmark, not a test: run it by hand against the local servers.
//
//	scripts/servers.sh start && source .servers/env
//	go run ./bench/streambench -size 5GiB
//
// The data is generated as it is sent (a deterministic ChaCha8 stream), never
// stored in a file or held in memory, and hashed with SHA-256 on the way up
// and on the way down; the two hashes must match. Each side runs in its own
// child process, so that the peak RSS (VmHWM from /proc/self/status) of one
// does not mix with the other's.
//
// The sides:
//
//   - sqsx: an sqsx.Client with default Options: SendMessageStream (a
//     multipart upload of 8 MiB parts, 3 at once, CRC32C checksums per part
//     and for the whole object, then the pointer sent to SQS), then
//     ReceiveMessageUnresolved and OpenPayload read to the end (the store
//     verifies the CRC32C, and so does the SDK), then DeleteMessage.
//   - raw: what a program without this library would write with the SDK: a
//     multipart upload with the same part size and concurrency (parts read
//     into a fixed pool of concurrency+1 buffers, SDK defaults otherwise,
//     which send a CRC32 per part), then one GetObject read to the end (SDK
//     defaults: it validates the full-object checksum the server returns).
//     A single PutObject is not an option for a stream of unknown length over
//     plain HTTP: the SDK must hash a request body before it sends it.
//
// Upload and download are timed separately; MiB/s counts the payload bytes.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/benchutil"
	"github.com/sqsx/sqsx/payload"
	"golang.org/x/sync/errgroup"
)

// result is what one side reports, as one JSON line.
type result struct {
	Side         string  `json:"side"`
	Bytes        int64   `json:"bytes"`
	UploadSecs   float64 `json:"upload_secs"`
	DownloadSecs float64 `json:"download_secs"`
	PeakRSSKiB   int64   `json:"peak_rss_kib"`
	Verified     bool    `json:"verified"`
}

func main() {
	sizeFlag := flag.String("size", "1GiB", "payload size: a number of bytes with an optional KiB, MiB or GiB suffix")
	side := flag.String("side", "both", `which side to run: "sqsx", "raw", or "both" (each in a child process)`)
	bucket := flag.String("bucket", "", "bucket to use (default: create one and remove it afterwards)")
	flag.Parse()
	size, err := benchutil.ParseSize(*sizeFlag)
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	if *side == "both" {
		if err := runBoth(ctx, size, *sizeFlag, *bucket); err != nil {
			fail(err)
		}
		return
	}
	client, err := newClient(ctx)
	if err != nil {
		fail(err)
	}
	b := *bucket
	if b == "" {
		b = fmt.Sprintf("streambench-%d", time.Now().UnixNano()%1e9)
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			fail(fmt.Errorf("CreateBucket %s: %w", b, err))
		}
		defer client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(b)})
	}
	var r result
	switch *side {
	case "sqsx":
		r, err = runSqsx(ctx, client, b, size)
	case "raw":
		r, err = runRaw(ctx, client, b, size)
	default:
		err = fmt.Errorf("unknown -side %q", *side)
	}
	if err != nil {
		fail(err)
	}
	r.PeakRSSKiB = benchutil.ProcStatusKiB("VmHWM:")
	json.NewEncoder(os.Stdout).Encode(r)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "streambench:", err)
	os.Exit(1)
}

func newClient(ctx context.Context) (*s3.Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }), nil
}

// runBoth runs each side in a child process and prints a table.
func runBoth(ctx context.Context, size int64, sizeFlag, bucket string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var results []result
	for _, side := range []string{"raw", "sqsx"} {
		args := []string{"-side", side, "-size", sizeFlag}
		if bucket != "" {
			args = append(args, "-bucket", bucket)
		}
		cmd := exec.CommandContext(ctx, self, args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("side %s: %w", side, err)
		}
		var r result
		if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
			return fmt.Errorf("side %s: %w (output %q)", side, err, out)
		}
		results = append(results, r)
	}
	mib := float64(size) / (1 << 20)
	fmt.Printf("%s round trip, %s/%s, GOMAXPROCS %d, %s\n\n", sizeFlag, runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), time.Now().UTC().Format(time.RFC3339))
	fmt.Println("| side | upload MiB/s | download MiB/s | upload s | download s | peak RSS MiB | SHA-256 round trip |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---|")
	for _, r := range results {
		fmt.Printf("| %s | %.0f | %.0f | %.1f | %.1f | %.1f | %v |\n", r.Side, mib/r.UploadSecs, mib/r.DownloadSecs,
			r.UploadSecs, r.DownloadSecs, float64(r.PeakRSSKiB)/1024, map[bool]string{true: "match", false: "MISMATCH"}[r.Verified])
	}
	for _, r := range results {
		if !r.Verified {
			return errors.New("a round trip returned other bytes")
		}
	}
	return nil
}

// generated returns the benchmark's data: size pseudo-random bytes, made as
// they are read.
func generated(size int64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{'s', 'q', 's', 'x'}), size)
}

func runSqsx(ctx context.Context, client *s3.Client, bucket string, size int64) (result, error) {
	r := result{Side: "sqsx", Bytes: size}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return r, err
	}
	sqsClient := sqs.NewFromConfig(cfg)
	q, err := sqsClient.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("streambench-%d", time.Now().UnixNano()%1e9))})
	if err != nil {
		return r, fmt.Errorf("CreateQueue: %w", err)
	}
	defer sqsClient.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	// Default options: the memory bound is the library's own.
	c, err := sqsx.New(sqsClient, client, func(o *sqsx.Options) { o.Bucket = bucket })
	if err != nil {
		return r, err
	}

	up := sha256.New()
	start := time.Now()
	if _, err := c.SendMessageStream(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl}, io.TeeReader(generated(size), up)); err != nil {
		return r, err
	}
	r.UploadSecs = time.Since(start).Seconds()

	down := sha256.New()
	start = time.Now()
	out, err := c.ReceiveMessageUnresolved(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 5, VisibilityTimeout: 600})
	if err != nil {
		return r, err
	}
	if len(out.Messages) != 1 {
		return r, fmt.Errorf("received %d messages, want 1", len(out.Messages))
	}
	m := out.Messages[0]
	body, n, err := c.OpenPayload(ctx, m)
	if err != nil {
		return r, err
	}
	_, err = io.Copy(down, body)
	body.Close()
	if err != nil {
		return r, err
	}
	r.DownloadSecs = time.Since(start).Seconds()
	if n != size {
		return r, fmt.Errorf("payload has %d bytes, want %d", n, size)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
		return r, err
	}
	r.Verified = bytes.Equal(up.Sum(nil), down.Sum(nil))
	return r, nil
}

func runRaw(ctx context.Context, client *s3.Client, bucket string, size int64) (result, error) {
	r := result{Side: "raw", Bytes: size}
	key := "raw-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	up := sha256.New()
	start := time.Now()
	if err := rawUpload(ctx, client, bucket, key, io.TeeReader(generated(size), up)); err != nil {
		return r, err
	}
	r.UploadSecs = time.Since(start).Seconds()
	defer client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})

	down := sha256.New()
	start = time.Now()
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return r, err
	}
	_, err = io.Copy(down, out.Body)
	out.Body.Close()
	if err != nil {
		return r, err
	}
	r.DownloadSecs = time.Since(start).Seconds()
	r.Verified = bytes.Equal(up.Sum(nil), down.Sum(nil))
	return r, nil
}

// rawUpload is a plain multipart upload with the SDK: the part size and
// concurrency of payload's defaults, buffers from a fixed pool.
func rawUpload(ctx context.Context, client *s3.Client, bucket, key string, src io.Reader) error {
	const partSize, conc = payload.DefaultPartSize, payload.DefaultUploadConcurrency
	created, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	id := created.UploadId
	pool := make(chan []byte, conc+1)
	for range conc + 1 {
		pool <- make([]byte, partSize)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	var mu sync.Mutex
	var parts []s3types.CompletedPart
	for num := int32(1); ; num++ {
		buf := <-pool
		n, rerr := io.ReadFull(src, buf)
		if n == 0 {
			pool <- buf
			if rerr != io.EOF {
				err = rerr
			}
			break
		}
		g.Go(func() error {
			defer func() { pool <- buf }()
			out, err := client.UploadPart(gctx, &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id, PartNumber: aws.Int32(num),
				Body: bytes.NewReader(buf[:n]), ContentLength: aws.Int64(int64(n)),
			})
			if err != nil {
				return err
			}
			mu.Lock()
			parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(num), ETag: out.ETag})
			mu.Unlock()
			return nil
		})
		if rerr != nil {
			if rerr != io.ErrUnexpectedEOF {
				err = rerr
			}
			break
		}
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	if err == nil {
		slices.SortFunc(parts, func(a, b s3types.CompletedPart) int { return int(*a.PartNumber - *b.PartNumber) })
		_, err = client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
		})
	}
	if err != nil {
		client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: id})
	}
	return err
}
