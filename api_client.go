package sqsx

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// Client is an SQS client that stores message bodies too large for SQS in S3
// and sends a pointer in their place, in the wire format of the AWS extended
// client libraries. It has the methods of *sqs.Client with the same
// signatures, so it can replace one.
//
// A Client is safe for concurrent use. Do not change the Options after New.
type Client struct {
	sqs   SQSAPI // as given to New
	api   uaSQS  // sqs, adding the user-agent key
	store *payload.Store
	opts  Options
	core  *offload.Core[types.MessageAttributeValue]

	queues offload.Targets[queueInfo]
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
	o := offload.Apply(optFns)
	resolveTelemetry(sqsAPI, &o)
	cfg, err := sqsService.Resolve(offload.Config{Threshold: o.Threshold, AttributeName: o.AttributeName,
		BatchSizeLimit: o.BatchSizeLimit, AlwaysThroughS3: o.AlwaysThroughS3, Concurrency: o.Concurrency, Logger: o.Logger})
	o.Threshold, o.AttributeName, o.BatchSizeLimit = cfg.Threshold, cfg.AttributeName, cfg.BatchSizeLimit
	o.Concurrency, o.Logger = cfg.Concurrency, cfg.Logger
	err = errors.Join(err, o.validate())
	store, serr := payload.NewStore(s3API, o.StoreOptions)
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("sqsx: invalid Options: %w", err)
	}
	core := &offload.Core[types.MessageAttributeValue]{Service: sqsService, Config: cfg, Store: store,
		Telemetry: offload.Telemetry{Tracer: telemetry.NewTracer(o.TracerProvider), Metrics: telemetry.NewMetrics(o.MeterProvider),
			Traceparent: o.PropagateTraceparent}}
	return &Client{sqs: sqsAPI, api: uaSQS{sqsAPI}, store: store, opts: o, core: core}, nil
}

// sqsService describes SQS to the offload rules.
var sqsService = &offload.Service[types.MessageAttributeValue]{
	Name: "SQS", Pkg: "sqsx", BodyField: "MessageBody",
	MaxMessageSize: MaxMessageSize, DefaultThreshold: DefaultThreshold, MaxAttributes: MaxAttributes,
	View: func(v types.MessageAttributeValue) offload.Attr {
		return offload.Attr{DataType: v.DataType, StringValue: v.StringValue, BinaryValue: v.BinaryValue}
	},
	Number: func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("Number"), StringValue: aws.String(s)}
	},
	String: func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s)}
	},
}

// message is a message to send, as the offload rules see it.
type message = offload.Msg[types.MessageAttributeValue]

// Store returns the payload store the client uses, for direct access to
// payloads (for example to read one whose message failed to resolve).
func (c *Client) Store() *payload.Store { return c.store }

// queueInfo is what the client caches about a queue.
type queueInfo struct {
	maxSize      int64
	contentDedup bool
}

// queueAttributes returns the cached attributes of a queue, reading them
// once (see offload.Targets).
func (c *Client) queueAttributes(ctx context.Context, queueURL string, optFns []func(*sqs.Options)) (queueInfo, error) {
	return c.queues.Get(ctx, queueURL, func(ctx context.Context) (queueInfo, error) {
		out, err := c.api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
			QueueUrl: aws.String(queueURL),
			AttributeNames: []types.QueueAttributeName{
				types.QueueAttributeNameMaximumMessageSize,
				types.QueueAttributeNameContentBasedDeduplication,
			},
		}, optFns...)
		if err != nil {
			return queueInfo{}, err
		}
		var qi queueInfo
		if s, ok := out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)]; ok {
			if qi.maxSize, err = strconv.ParseInt(s, 10, 64); err != nil || qi.maxSize <= 0 {
				return queueInfo{}, fmt.Errorf("queue attribute MaximumMessageSize is %q, not a positive number", s)
			}
		}
		if s, ok := out.Attributes[string(types.QueueAttributeNameContentBasedDeduplication)]; ok {
			qi.contentDedup = s == "true"
		}
		return qi, nil
	})
}

// call returns what applies to one send to queueURL: the threshold and the
// per-call options found in optFns (see WithOffloadOptions), and optFns
// without them, for SQS.
func (c *Client) call(ctx context.Context, op, queueURL string, optFns []func(*sqs.Options)) (offload.Call, []func(*sqs.Options), error) {
	var sink offload.Sink[CallOptions]
	optFns = offload.Split(optFns, callOptionCode, func(fn func(*sqs.Options)) { fn(&sqs.Options{Logger: &sink}) })
	call := offload.Call{Threshold: c.core.Threshold, Options: offload.CallOptions(sink.C)}
	if err := c.core.CheckCall(op, call.Options); err != nil {
		return call, nil, err
	}
	if !c.opts.ThresholdFromQueue {
		return call, optFns, nil
	}
	qi, err := c.queueAttributes(ctx, queueURL, optFns)
	if err != nil {
		return call, nil, fmt.Errorf("sqsx: %s: reading MaximumMessageSize of %s: %w", op, queueURL, err)
	}
	if qi.maxSize != 0 {
		call.Threshold = min(qi.maxSize, MaxMessageSize)
	}
	return call, optFns, nil
}

// contentDedup returns whether an offloaded message sent with params takes
// the SHA-256 of its body as its deduplication id: it has none, and its
// queue is a FIFO queue that deduplicates by content. See offload.DedupID.
func (c *Client) contentDedup(ctx context.Context, params *sqs.SendMessageInput, optFns []func(*sqs.Options)) func() bool {
	queueURL := aws.ToString(params.QueueUrl)
	return func() bool {
		return params.MessageDeduplicationId == nil && c.queueDedup(ctx, queueURL, optFns)
	}
}

// queueDedup reports whether queueURL is a FIFO queue that deduplicates by
// content.
func (c *Client) queueDedup(ctx context.Context, queueURL string, optFns []func(*sqs.Options)) bool {
	return c.core.ContentDedup(queueURL, func() (bool, error) {
		qi, err := c.queueAttributes(ctx, queueURL, optFns)
		return qi.contentDedup, err
	})
}

// isReserved reports whether name is one of the reserved attribute names.
func isReserved(name string) bool {
	return name == AttributeName || name == LegacyAttributeName
}

// tracked returns the per-call option that installs t on an SQS call.
func tracked(t *outcome.Tracker) func(*sqs.Options) {
	return func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, t.Install) }
}
