package snsx

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/outcome"
	"github.com/sqsx/sqsx/payload"
)

// ErrMessageStructureJSON: a message with MessageStructure "json" must be
// offloaded. Its per-protocol JSON cannot be replaced by one pointer, and the
// reference clients do not offload it either.
var ErrMessageStructureJSON = errors.New(`MessageStructure "json" cannot be offloaded`)

// UnsupportedOperationError is returned by a pass-through method when the SNS
// client given to New does not implement that operation.
type UnsupportedOperationError = sqsx.UnsupportedOperationError

// Client is an SNS client that stores message bodies too large for SNS in S3
// and publishes a pointer in their place. It has the methods of *sns.Client
// with the same signatures.
//
// A Client is safe for concurrent use. Do not change the Options after New.
type Client struct {
	sns   SNSAPI
	store *payload.Store
	opts  Options
}

// New returns a Client that publishes through snsAPI and stores payloads
// through s3API. It returns an error naming each invalid option.
func New(snsAPI SNSAPI, s3API payload.S3API, optFns ...func(*Options)) (*Client, error) {
	if snsAPI == nil {
		return nil, errors.New("snsx: SNS client is nil")
	}
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	o.resolveDefaults()
	if !o.DeletableByConsumers {
		// Last, so that a caller's option that replaces Metadata cannot
		// drop the marker.
		o.PutObjectOptions = append(slices.Clone(o.PutObjectOptions), markFanout)
	}
	err := o.validate()
	store, serr := payload.NewStore(s3API, o.StoreOptions)
	if err = errors.Join(err, serr); err != nil {
		return nil, fmt.Errorf("snsx: invalid Options: %w", err)
	}
	return &Client{sns: snsAPI, store: store, opts: o}, nil
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

// checkMessage validates a message to publish, whatever its size.
func checkMessage(body string, attrs map[string]types.MessageAttributeValue) (field string, err error) {
	if body == "" {
		return "Message", sqsx.ErrEmptyBody
	}
	for name := range attrs {
		if name == payload.AttributeName || name == payload.LegacyAttributeName {
			return fmt.Sprintf("MessageAttributes[%q]", name),
				fmt.Errorf("%w: %q is set by the extended client on offloaded messages", sqsx.ErrReservedAttribute, name)
		}
	}
	return "", nil
}

// checkOffload validates a message that is to be offloaded.
func (c *Client) checkOffload(structure *string, attrs map[string]types.MessageAttributeValue) (field string, err error) {
	if aws.ToString(structure) == "json" {
		return "MessageStructure", ErrMessageStructureJSON
	}
	if c.store.Bucket() == "" {
		return "Message", fmt.Errorf("%w: the message must be offloaded", sqsx.ErrNoBucket)
	}
	if len(attrs) > MaxAttributes-1 {
		return "MessageAttributes", fmt.Errorf("%w: an offloaded message may have at most %d, it has %d (one is reserved for %s)",
			sqsx.ErrTooManyAttributes, MaxAttributes-1, len(attrs), c.opts.AttributeName)
	}
	return "", nil
}

// offloaded is the wire form of a message whose body went to S3.
type offloaded struct {
	pointer payload.Pointer
	body    string
	attrs   map[string]types.MessageAttributeValue
}

// prepareOffload picks the key and builds the wire form, without uploading.
// It fails with ErrAttributesTooLarge if the wire form is still over the
// threshold.
func (c *Client) prepareOffload(ctx context.Context, body string, attrs map[string]types.MessageAttributeValue) (offloaded, error) {
	p, err := c.store.NewPointer(ctx)
	if err != nil {
		return offloaded{}, err
	}
	ptrBody, err := payload.EncodePointer(p)
	if err != nil {
		return offloaded{}, err
	}
	wire := make(map[string]types.MessageAttributeValue, len(attrs)+1)
	maps.Copy(wire, attrs)
	wire[c.opts.AttributeName] = types.MessageAttributeValue{
		DataType:    aws.String("Number"),
		StringValue: aws.String(strconv.Itoa(len(body))),
	}
	off := offloaded{pointer: p, body: ptrBody, attrs: wire}
	if n := messageSize(off.body, off.attrs); n > c.opts.Threshold {
		return offloaded{}, fmt.Errorf("%w: offloaded, the message still takes %d bytes (%d of them attributes), more than the threshold of %d; move data from the attributes into the message",
			sqsx.ErrAttributesTooLarge, n, attributesSize(wire), c.opts.Threshold)
	}
	return off, nil
}

// tracked returns the per-call option that installs t on an SNS call.
func tracked(t *outcome.Tracker) func(*sns.Options) {
	return func(o *sns.Options) { o.APIOptions = append(o.APIOptions, t.Install) }
}
