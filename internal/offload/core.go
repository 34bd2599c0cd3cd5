package offload

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sqsx/sqsx/payload"
)

// Attr is the part of a message attribute the offload rules read. SQS's and
// SNS's MessageAttributeValue are different types with these same fields.
type Attr struct {
	DataType    *string
	StringValue *string
	BinaryValue []byte
}

// Service describes one service to the offload rules. V is its
// MessageAttributeValue type.
type Service[V any] struct {
	// Name is "SQS" or "SNS", for messages.
	Name string
	// Pkg is "sqsx" or "snsx": the prefix of the messages of Failed
	// entries.
	Pkg string
	// BodyField is the input field of the body: "MessageBody", "Message".
	BodyField string
	// MaxMessageSize is the largest message the service accepts.
	MaxMessageSize int64
	// DefaultThreshold is the default Config.Threshold.
	DefaultThreshold int64
	// MaxAttributes is the number of attributes a message may carry.
	MaxAttributes int
	// View reads an attribute; Number makes a Number attribute, String a
	// String one.
	View   func(V) Attr
	Number func(value string) V
	String func(value string) V
}

// Defaults of Config.
const (
	// DefaultConcurrency is the default Config.Concurrency.
	DefaultConcurrency = 10
)

// Config holds the settings that sqsx.Options and snsx.Options share; their
// docs say what each means.
type Config struct {
	Threshold       int64
	AttributeName   string
	BatchSizeLimit  int64
	AlwaysThroughS3 bool
	Concurrency     int
	Logger          *slog.Logger
}

// Resolve fills in cfg's zero fields and returns it, with every problem
// found, joined.
func (s *Service[V]) Resolve(cfg Config) (Config, error) {
	if cfg.Threshold == 0 {
		cfg.Threshold = s.DefaultThreshold
	}
	if cfg.AttributeName == "" {
		cfg.AttributeName = payload.AttributeName
	}
	if cfg.BatchSizeLimit == 0 {
		cfg.BatchSizeLimit = s.MaxMessageSize
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if cfg.Threshold < 0 || cfg.Threshold > s.MaxMessageSize {
		errs = append(errs, fieldError("Threshold", "%d is outside 0..%d (%s's maximum message size)", cfg.Threshold, s.MaxMessageSize, s.Name))
	}
	if cfg.AttributeName != payload.AttributeName && cfg.AttributeName != payload.LegacyAttributeName {
		errs = append(errs, fieldError("AttributeName", "%q is neither %q nor %q", cfg.AttributeName, payload.AttributeName, payload.LegacyAttributeName))
	}
	if cfg.BatchSizeLimit < 0 || cfg.BatchSizeLimit > s.MaxMessageSize {
		errs = append(errs, fieldError("BatchSizeLimit", "%d is outside 0..%d", cfg.BatchSizeLimit, s.MaxMessageSize))
	}
	if cfg.Concurrency < 0 {
		errs = append(errs, fieldError("Concurrency", "must not be negative, is %d", cfg.Concurrency))
	}
	return cfg, errors.Join(errs...)
}

// fieldError returns an error that starts with the name of the invalid field.
func fieldError(field, format string, args ...any) error {
	return fmt.Errorf("%s: %w", field, fmt.Errorf(format, args...))
}

// Core applies the offload rules of one client: its service's, with its
// settings and its payload store.
type Core[V any] struct {
	*Service[V]
	Config
	Store *payload.Store
	Telemetry
}

// AttributesSize returns what attrs add to a message's size, as the
// services count it.
func (s *Service[V]) AttributesSize(attrs map[string]V) int64 {
	var n int64
	for name, v := range attrs {
		a := s.View(v)
		n += payload.AttributeSize(name, aws.ToString(a.DataType), a.StringValue, a.BinaryValue)
	}
	return n
}

// Size returns a message's size as the services count it.
func (s *Service[V]) Size(body string, attrs map[string]V) int64 {
	return int64(len(body)) + s.AttributesSize(attrs)
}

// Msg is one message to send.
type Msg[V any] struct {
	Body  string
	Attrs map[string]V
	// NoOffload, if not nil, is why the message may not be offloaded (SNS's
	// MessageStructure "json"), in NoOffloadField, with NoOffloadCode the code of a
	// Failed batch entry; AlwaysThroughS3 does not apply to it.
	NoOffload      error
	NoOffloadField string
	NoOffloadCode  string
}

// Call holds what applies to one call: the threshold (the client's, or the
// queue's) and the per-call options.
type Call struct {
	Threshold int64
	Options   CallOptions
}

// CallOptions are the settings one call may change.
type CallOptions struct {
	Bucket          string
	KeyPrefix       string
	AlwaysThroughS3 bool
}

// Wire is the form in which a message whose body went to S3 is sent.
type Wire[V any] struct {
	Pointer payload.Pointer
	Body    string       // the pointer
	Attrs   map[string]V // the caller's, plus the size attribute
}

// Check validates a message to send, whatever its size, as an
// *payload.InputError.
func (s *Service[V]) Check(op string, m Msg[V]) error {
	if field, err := s.check(m); err != nil {
		return &payload.InputError{Op: op, Field: field, Err: err}
	}
	return nil
}

func (s *Service[V]) check(m Msg[V]) (field string, err error) {
	if m.Body == "" {
		return s.BodyField, payload.ErrEmptyBody
	}
	return CheckAttributes(m.Attrs)
}

// CheckAttributes refuses a reserved attribute set by the caller.
func CheckAttributes[V any](attrs map[string]V) (field string, err error) {
	for name := range attrs {
		if name == payload.AttributeName || name == payload.LegacyAttributeName {
			return fmt.Sprintf("MessageAttributes[%q]", name),
				fmt.Errorf("%w: %q is set by the extended client on offloaded messages", payload.ErrReservedAttribute, name)
		}
	}
	return "", nil
}

// CheckCall validates the per-call options, as an *payload.InputError.
func (c *Core[V]) CheckCall(op string, o CallOptions) error {
	if err := c.Store.CheckPlacement(o.Bucket, o.KeyPrefix); err != nil {
		return &payload.InputError{Op: op, Field: "WithOffloadOptions", Err: err}
	}
	return nil
}

// Offloads reports whether m, of size bytes, goes to S3 in call.
func (c *Core[V]) Offloads(m Msg[V], size int64, call Call) bool {
	if size > call.Threshold {
		return true
	}
	return (c.AlwaysThroughS3 || call.Options.AlwaysThroughS3) && m.NoOffload == nil
}

// checkOffload validates a message that is to go to S3.
func (c *Core[V]) checkOffload(m Msg[V], call Call) (field string, err error) {
	if m.NoOffload != nil {
		return m.NoOffloadField, m.NoOffload
	}
	if c.Store.Bucket() == "" && call.Options.Bucket == "" {
		return c.BodyField, fmt.Errorf("%w: the message must be offloaded", payload.ErrNoBucket)
	}
	if limit := c.MaxAttributes - 1; len(m.Attrs) > limit {
		return "MessageAttributes", fmt.Errorf("%w: an offloaded message may have at most %d, it has %d (one is reserved for %s)",
			payload.ErrTooManyAttributes, limit, len(m.Attrs), c.AttributeName)
	}
	return "", nil
}

// prepare picks the key and builds the wire form of a message whose body of
// size bytes (math.MaxInt64 when not known yet) goes to S3, without
// uploading it. It fails with ErrAttributesTooLarge if the wire form is still
// over the threshold.
func (c *Core[V]) prepare(ctx context.Context, size int64, attrs map[string]V, call Call) (*Wire[V], error) {
	p, err := c.Store.NewPointerIn(ctx, call.Options.Bucket, call.Options.KeyPrefix)
	if err != nil {
		return nil, err
	}
	ptrBody, err := payload.EncodePointer(p)
	if err != nil {
		return nil, err
	}
	w := &Wire[V]{Pointer: p, Body: ptrBody, Attrs: c.withSize(attrs, size)}
	if n := c.Size(w.Body, w.Attrs); n > call.Threshold {
		return nil, fmt.Errorf("%w: offloaded, the message still takes %d bytes (%d of them attributes), more than the threshold of %d; move data from the attributes into the body",
			payload.ErrAttributesTooLarge, n, c.AttributesSize(w.Attrs), call.Threshold)
	}
	return w, nil
}

// withSize returns a copy of attrs plus the size attribute.
func (c *Core[V]) withSize(attrs map[string]V, size int64) map[string]V {
	out := make(map[string]V, len(attrs)+1)
	maps.Copy(out, attrs)
	out[c.AttributeName] = c.Number(strconv.FormatInt(size, 10))
	return out
}

// Offload stores the body of m, checked with Check, in S3 if it is to be
// offloaded in call, and returns the form in which to send it; nil when m is
// sent as it is. A message that may not be offloaded is an
// *payload.InputError.
func (c *Core[V]) Offload(ctx context.Context, op string, m Msg[V], call Call) (*Wire[V], error) {
	if !c.Offloads(m, c.Size(m.Body, m.Attrs), call) {
		return nil, nil
	}
	if field, err := c.checkOffload(m, call); err != nil {
		return nil, &payload.InputError{Op: op, Field: field, Err: err}
	}
	w, err := c.prepare(ctx, int64(len(m.Body)), m.Attrs, call)
	if errors.Is(err, payload.ErrAttributesTooLarge) {
		return nil, &payload.InputError{Op: op, Field: "MessageAttributes", Err: err}
	} else if err != nil {
		return nil, err
	}
	if err := c.Store.PutAt(ctx, w.Pointer, m.Body); err != nil {
		return nil, err
	}
	return w, nil
}

// Metadata returns the OffloadMetadata of a message of m sent in call, as w
// when it went to S3 (size: its payload's size).
func (c *Core[V]) Metadata(m Msg[V], w *Wire[V], size int64, call Call) payload.OffloadMetadata {
	md := payload.OffloadMetadata{
		Size:            size,
		AttributesSize:  c.AttributesSize(m.Attrs),
		Threshold:       call.Threshold,
		AlwaysThroughS3: c.AlwaysThroughS3 || call.Options.AlwaysThroughS3,
	}
	if w != nil {
		md.Offloaded, md.Pointer = true, w.Pointer
	}
	return md
}

// widest is the size used to check the wire form of a stream whose size is
// not known yet.
const widest = math.MaxInt64

// Apply returns the zero T changed by fns, in order: a client's Options
// from New's optFns.
func Apply[T any](fns []func(*T)) T {
	var o T
	for _, fn := range fns {
		fn(&o)
	}
	return o
}
