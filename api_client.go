package sqsx

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"golang.org/x/sync/singleflight"

	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// Client is an SQS client that stores message bodies too large for SQS in S3
// and sends a pointer in their place, in the wire format of the AWS extended
// client libraries. It has the methods of *sqs.Client with the same
// signatures, so it can replace one.
//
// A Client is safe for concurrent use. Do not change the Options after New.
type Client struct {
	sqs   SQSAPI
	store *payload.Store
	opts  Options

	queues sync.Map // queue URL -> queueInfo
	lookup singleflight.Group
}

// New returns a Client that sends and receives through sqsAPI and keeps
// payloads in S3 through s3API. The optFns change the default Options. New
// returns an error naming each invalid option.
//
//	cfg, _ := config.LoadDefaultConfig(ctx)
//	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg), func(o *sqsx.Options) {
//		o.Bucket = "my-payload-bucket"
//	})
func New(sqsAPI SQSAPI, s3API S3API, optFns ...func(*Options)) (*Client, error) {
	if sqsAPI == nil {
		return nil, errors.New("sqsx: SQS client is nil")
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.resolveDefaults()
	err := o.validate()
	store, serr := payload.NewStore(s3API, o.StoreOptions)
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("sqsx: invalid Options: %w", err)
	}
	return &Client{sqs: sqsAPI, store: store, opts: o}, nil
}

// Store returns the payload store the client uses, for direct access to
// payloads (for example to read one whose message failed to resolve).
func (c *Client) Store() *payload.Store { return c.store }

// queueInfo is what the client caches about a queue.
type queueInfo struct {
	maxSize      int64
	contentDedup bool
}

// lookupTimeout bounds one GetQueueAttributes call shared by several callers.
const lookupTimeout = 30 * time.Second

// queueAttributes returns the cached attributes of a queue, reading them once.
// Concurrent callers share one request, which runs without the first caller's
// cancellation (each caller still stops waiting when its own ctx ends), so
// one caller giving up does not fail the others.
func (c *Client) queueAttributes(ctx context.Context, queueURL string, optFns []func(*sqs.Options)) (queueInfo, error) {
	if v, ok := c.queues.Load(queueURL); ok {
		return v.(queueInfo), nil
	}
	ch := c.lookup.DoChan(queueURL, func() (any, error) {
		// Another lookup may have finished since the check above.
		if v, ok := c.queues.Load(queueURL); ok {
			return v, nil
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		out, err := c.sqs.GetQueueAttributes(lctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(queueURL),
			AttributeNames: []types.QueueAttributeName{
				types.QueueAttributeNameMaximumMessageSize,
				types.QueueAttributeNameContentBasedDeduplication,
			},
		}, optFns...)
		if err != nil {
			return nil, err
		}
		var qi queueInfo
		if s, ok := out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)]; ok {
			if qi.maxSize, err = strconv.ParseInt(s, 10, 64); err != nil || qi.maxSize <= 0 {
				return nil, fmt.Errorf("queue attribute MaximumMessageSize is %q, not a positive number", s)
			}
		}
		if s, ok := out.Attributes[string(types.QueueAttributeNameContentBasedDeduplication)]; ok {
			qi.contentDedup = s == "true"
		}
		c.queues.Store(queueURL, qi)
		return qi, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return queueInfo{}, r.Err
		}
		return r.Val.(queueInfo), nil
	case <-ctx.Done():
		return queueInfo{}, ctx.Err()
	}
}

// threshold returns the size above which messages to queueURL are offloaded.
func (c *Client) threshold(ctx context.Context, op, queueURL string, optFns []func(*sqs.Options)) (int64, error) {
	if !c.opts.ThresholdFromQueue {
		return c.opts.Threshold, nil
	}
	qi, err := c.queueAttributes(ctx, queueURL, optFns)
	if err != nil {
		return 0, fmt.Errorf("sqsx: %s: reading MaximumMessageSize of %s: %w", op, queueURL, err)
	}
	if qi.maxSize == 0 {
		return c.opts.Threshold, nil
	}
	return min(qi.maxSize, MaxMessageSize), nil
}

// dedupID returns the deduplication id to send with an offloaded message to a
// FIFO queue that deduplicates by content, or nil. SQS would hash the pointer,
// which is unique per send, so without this every resend would get through.
// The id is what SQS would compute from the original body: its SHA-256.
func (c *Client) dedupID(ctx context.Context, queueURL string, given *string, body string, optFns []func(*sqs.Options)) *string {
	if given != nil || !c.contentDedup(ctx, queueURL, optFns) {
		return given
	}
	sum := sha256.Sum256([]byte(body))
	return aws.String(hex.EncodeToString(sum[:]))
}

// contentDedup reports whether queueURL is a FIFO queue that deduplicates by
// content.
func (c *Client) contentDedup(ctx context.Context, queueURL string, optFns []func(*sqs.Options)) bool {
	if !strings.HasSuffix(queueURL, ".fifo") {
		return false
	}
	qi, err := c.queueAttributes(ctx, queueURL, optFns)
	if err != nil {
		c.opts.Logger.Warn("sqsx: cannot read ContentBasedDeduplication; offloaded FIFO messages will not be deduplicated by content",
			"queue", queueURL, "error", err)
		return false
	}
	return qi.contentDedup
}

// messageSize is the size of a message as SQS counts it.
func messageSize(body string, attrs map[string]types.MessageAttributeValue) int64 {
	return int64(len(body)) + attributesSize(attrs)
}

func attributesSize(attrs map[string]types.MessageAttributeValue) int64 {
	var n int64
	for name, v := range attrs {
		n += payload.AttributeSize(name, aws.ToString(v.DataType), v.StringValue, v.BinaryValue)
	}
	return n
}

// isReserved reports whether name is one of the reserved attribute names.
func isReserved(name string) bool {
	return name == AttributeName || name == LegacyAttributeName
}

// checkMessage validates a message to send, whatever its size. It returns
// the offending field and the problem.
func checkMessage(body string, attrs map[string]types.MessageAttributeValue) (field string, err error) {
	if body == "" {
		return "MessageBody", ErrEmptyBody
	}
	return checkAttributes(attrs)
}

// checkAttributes refuses a reserved attribute set by the caller.
func checkAttributes(attrs map[string]types.MessageAttributeValue) (field string, err error) {
	for name := range attrs {
		if isReserved(name) {
			return fmt.Sprintf("MessageAttributes[%q]", name),
				fmt.Errorf("%w: %q is set by the extended client on offloaded messages", ErrReservedAttribute, name)
		}
	}
	return "", nil
}

// checkOffload validates a message that is to be offloaded.
func (c *Client) checkOffload(attrs map[string]types.MessageAttributeValue, threshold int64) (field string, err error) {
	if c.store.Bucket() == "" {
		return "MessageBody", fmt.Errorf("%w: the message must be offloaded", ErrNoBucket)
	}
	if len(attrs) > MaxAttributes-1 {
		return "MessageAttributes", fmt.Errorf("%w: an offloaded message may have at most %d, it has %d (one is reserved for %s)",
			ErrTooManyAttributes, MaxAttributes-1, len(attrs), c.opts.AttributeName)
	}
	return "", nil
}

// checkWireSize fails an offloaded message that is still over the threshold:
// its attributes, with the pointer and the size attribute, take too much room.
func checkWireSize(off offloaded, threshold int64) error {
	if n := messageSize(off.body, off.attrs); n > threshold {
		return fmt.Errorf("%w: offloaded, the message still takes %d bytes (%d of them attributes), more than the threshold of %d; move data from the attributes into the body",
			ErrAttributesTooLarge, n, attributesSize(off.attrs), threshold)
	}
	return nil
}

// withMarker returns a copy of attrs plus the size attribute.
func (c *Client) withMarker(attrs map[string]types.MessageAttributeValue, size int64) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(attrs)+1)
	for k, v := range attrs {
		out[k] = v
	}
	out[c.opts.AttributeName] = types.MessageAttributeValue{
		DataType:    aws.String("Number"),
		StringValue: aws.String(strconv.FormatInt(size, 10)),
	}
	return out
}

// offloaded is the wire form of a message whose body went to S3.
type offloaded struct {
	pointer payload.Pointer
	body    string
	attrs   map[string]types.MessageAttributeValue
}

// prepareOffload picks the key and builds the wire form, without uploading.
func (c *Client) prepareOffload(ctx context.Context, body string, attrs map[string]types.MessageAttributeValue) (offloaded, error) {
	p, err := c.store.NewPointer(ctx)
	if err != nil {
		return offloaded{}, err
	}
	ptrBody, err := payload.EncodePointer(p)
	if err != nil {
		return offloaded{}, err
	}
	return offloaded{pointer: p, body: ptrBody, attrs: c.withMarker(attrs, int64(len(body)))}, nil
}

// tracked returns the per-call option that installs t on an SQS call.
func tracked(t *outcome.Tracker) func(*sqs.Options) {
	return func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, t.Install) }
}
