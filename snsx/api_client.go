package snsx

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/internal/telemetry"
	"github.com/sqsx/sqsx/payload"
)

// ErrMessageStructureJSON: a message with MessageStructure "json" must be
// offloaded. Its per-protocol JSON cannot be replaced by one pointer, and the
// reference clients do not offload it either.
var ErrMessageStructureJSON = errors.New(`MessageStructure "json" cannot be offloaded`)

// UnsupportedOperationError is returned by a pass-through method when the SNS
// client given to New does not implement that operation. It is
// payload.UnsupportedOperationError, as sqsx's is.
type UnsupportedOperationError = payload.UnsupportedOperationError

// Client is an SNS client that stores message bodies too large for SNS in S3
// and publishes a pointer in their place. It has the methods of *sns.Client
// with the same signatures.
//
// A Client is safe for concurrent use. Do not change the Options after New.
type Client struct {
	sns   SNSAPI // as given to New
	api   uaSNS  // sns, adding the user-agent key
	store *payload.Store
	opts  Options
	core  *offload.Core[types.MessageAttributeValue]

	topics offload.Targets[bool] // topic ARN -> ContentBasedDeduplication
}

// New returns a Client that publishes through snsAPI and stores payloads
// through s3API. It returns an error naming each invalid option.
func New(snsAPI SNSAPI, s3API payload.S3API, optFns ...func(*Options)) (*Client, error) {
	if snsAPI == nil {
		return nil, errors.New("snsx: SNS client is nil")
	}
	o := offload.Apply(optFns)
	resolveTelemetry(snsAPI, &o)
	if !o.DeletableByConsumers {
		// Last, so that a caller's option that replaces Metadata cannot
		// drop the marker.
		o.PutObjectOptions = append(slices.Clone(o.PutObjectOptions), markFanout)
	}
	cfg, err := snsService.Resolve(offload.Config{Threshold: o.Threshold, AttributeName: o.AttributeName,
		BatchSizeLimit: o.BatchSizeLimit, AlwaysThroughS3: o.AlwaysThroughS3, Concurrency: o.Concurrency, Logger: o.Logger})
	o.Threshold, o.AttributeName, o.BatchSizeLimit = cfg.Threshold, cfg.AttributeName, cfg.BatchSizeLimit
	o.Concurrency, o.Logger = cfg.Concurrency, cfg.Logger
	store, serr := payload.NewStore(s3API, o.StoreOptions)
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("snsx: invalid Options: %w", err)
	}
	core := &offload.Core[types.MessageAttributeValue]{Service: snsService, Config: cfg, Store: store,
		Telemetry: offload.Telemetry{Tracer: telemetry.NewTracer(o.TracerProvider), Metrics: telemetry.NewMetrics(o.MeterProvider),
			Traceparent: o.PropagateTraceparent}}
	return &Client{sns: snsAPI, api: uaSNS{snsAPI}, store: store, opts: o, core: core}, nil
}

// snsService describes SNS to the offload rules.
var snsService = &offload.Service[types.MessageAttributeValue]{
	Name: "SNS", Pkg: "snsx", BodyField: "Message", MaxAttributes: MaxAttributes,
	MaxMessageSize: MaxMessageSize, DefaultThreshold: DefaultThreshold,
	View: func(v types.MessageAttributeValue) offload.Attr {
		return offload.Attr{BinaryValue: v.BinaryValue, DataType: v.DataType, StringValue: v.StringValue}
	},
	Number: func(n string) types.MessageAttributeValue {
		return types.MessageAttributeValue{StringValue: aws.String(n), DataType: aws.String("Number")}
	},
	String: func(s string) types.MessageAttributeValue {
		return types.MessageAttributeValue{StringValue: aws.String(s), DataType: aws.String("String")}
	},
}

// markFanout adds the fan-out marker to an upload.
func markFanout(in *s3.PutObjectInput) {
	md := make(map[string]string, len(in.Metadata)+1)
	maps.Copy(md, in.Metadata)
	md[FanoutMetadataKey] = "true"
	in.Metadata = md
}

// Store returns the payload store the client uses.
func (c *Client) Store() *payload.Store { return c.store }

// message returns a message to publish as the offload rules see it: one
// with MessageStructure "json" may not be offloaded.
func message(body *string, attrs map[string]types.MessageAttributeValue, structure *string) offload.Msg[types.MessageAttributeValue] {
	m := offload.Msg[types.MessageAttributeValue]{Body: aws.ToString(body), Attrs: attrs}
	if aws.ToString(structure) == "json" {
		m.NoOffload, m.NoOffloadField, m.NoOffloadCode = ErrMessageStructureJSON, "MessageStructure", CodeMessageStructureJSON
	}
	return m
}

// call returns the per-call options found in optFns (see
// WithOffloadOptions), with the threshold, and optFns without them, for SNS.
func (c *Client) call(op string, optFns []func(*sns.Options)) (offload.Call, []func(*sns.Options), error) {
	var sink offload.Sink[CallOptions]
	optFns = offload.Split(optFns, callOptionCode, func(fn func(*sns.Options)) { fn(&sns.Options{Logger: &sink}) })
	call := offload.Call{Threshold: c.core.Threshold, Options: offload.CallOptions(sink.C)}
	return call, optFns, c.core.CheckCall(op, call.Options)
}

// topicAttributesAPI is the SNS operation that reads a topic's attributes,
// which SNSAPI leaves out so that existing fakes of it still satisfy it.
type topicAttributesAPI interface {
	GetTopicAttributes(ctx context.Context, params *sns.GetTopicAttributesInput, optFns ...func(*sns.Options)) (*sns.GetTopicAttributesOutput, error)
}

// topicDedup reports whether topicARN is a FIFO topic that deduplicates by
// content, reading its ContentBasedDeduplication attribute once. An SNS
// client without GetTopicAttributes says no.
func (c *Client) topicDedup(ctx context.Context, topicARN string, optFns []func(*sns.Options)) bool {
	return c.core.ContentDedup(topicARN, func() (bool, error) {
		return c.topics.Get(ctx, topicARN, func(ctx context.Context) (bool, error) {
			api, ok := c.sns.(topicAttributesAPI)
			if !ok {
				return false, &UnsupportedOperationError{Op: "GetTopicAttributes"}
			}
			out, err := api.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String(topicARN)}, withUserAgent(optFns)...)
			if err != nil {
				return false, err
			}
			return out.Attributes["ContentBasedDeduplication"] == "true", nil
		})
	})
}

// tracked returns the per-call option that installs t on an SNS call.
func tracked(t *outcome.Tracker) func(*sns.Options) {
	return func(o *sns.Options) { o.APIOptions = append(o.APIOptions, t.Install) }
}
