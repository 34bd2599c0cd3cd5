package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx/payload"
)

// messageJSON is one message as receive and peek print it with --json.
type messageJSON struct {
	MessageID string `json:"message_id"`
	// Size is the size of the body in bytes: of the payload, for an
	// offloaded message.
	Size int64 `json:"size"`
	// Offloaded: the body is stored in S3, at Pointer.
	Offloaded bool   `json:"offloaded"`
	Pointer   string `json:"pointer,omitempty"`
	// SNSEnvelope: the message came from SNS without raw delivery.
	SNSEnvelope   bool                `json:"sns_envelope,omitempty"`
	ReceiptHandle string              `json:"receipt_handle,omitempty"`
	GroupID       string              `json:"group_id,omitempty"`
	ReceiveCount  int                 `json:"receive_count,omitempty"`
	SentAt        string              `json:"sent_at,omitempty"`
	Attributes    map[string]attrJSON `json:"attributes,omitempty"`
	Out           string              `json:"out,omitempty"`
	Body          *string             `json:"body,omitempty"`
	Deleted       *bool               `json:"deleted,omitempty"`
	Warning       string              `json:"warning,omitempty"`
	// Error and Hint: the message could not be received (or, for peek,
	// its body could not be read); it has no body.
	Error string `json:"error,omitempty"`
	Hint  string `json:"hint,omitempty"`
	// Code says why the body could not be read from S3, when it could
	// not, as sqsx.UnresolvedMessage.Code: PayloadNotFound,
	// PayloadBucketNotAllowed, InvalidPayloadPointer, PayloadTooLarge, ...
	Code  string `json:"code,omitempty"`
	attrs map[string]types.MessageAttributeValue
}

// attrJSON is a message attribute as --json prints it; a Binary value is
// base64.
type attrJSON struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// newMessageJSON returns the description of m, whose body is size bytes,
// without its body and leaving out the reserved attributes.
func newMessageJSON(m types.Message, size int64) *messageJSON {
	j := &messageJSON{
		MessageID: aws.ToString(m.MessageId),
		Size:      size,
		attrs:     map[string]types.MessageAttributeValue{},
	}
	if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		j.ReceiveCount = n
	}
	j.GroupID = m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		j.SentAt = time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
	}
	for name, v := range m.MessageAttributes {
		if name == payload.AttributeName || name == payload.LegacyAttributeName {
			continue
		}
		if j.Attributes == nil {
			j.Attributes = map[string]attrJSON{}
		}
		value := aws.ToString(v.StringValue)
		if v.BinaryValue != nil {
			value = base64.StdEncoding.EncodeToString(v.BinaryValue)
		}
		j.Attributes[name] = attrJSON{Type: aws.ToString(v.DataType), Value: value}
		j.attrs[name] = v
	}
	return j
}

// printHeader prints the message's description as text: a first line with
// its id, size and where its body is, then its attributes.
func (j *messageJSON) printHeader(w io.Writer) {
	fmt.Fprintf(w, "message %s: %d bytes", j.MessageID, j.Size)
	switch {
	case j.Offloaded && j.SNSEnvelope:
		fmt.Fprintf(w, ", body stored in S3 at %s (in an SNS envelope)", j.Pointer)
	case j.Offloaded:
		fmt.Fprintf(w, ", body stored in S3 at %s", j.Pointer)
	default:
		fmt.Fprint(w, ", body sent in SQS")
	}
	if j.ReceiveCount > 0 {
		fmt.Fprintf(w, ", receive count %d", j.ReceiveCount)
	}
	if j.GroupID != "" {
		fmt.Fprintf(w, ", group %s", j.GroupID)
	}
	if j.SentAt != "" {
		fmt.Fprintf(w, ", sent %s", j.SentAt)
	}
	fmt.Fprintln(w)
	names := make([]string, 0, len(j.attrs))
	for name := range j.attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  attribute %s\n", formatAttribute(name, j.attrs[name]))
	}
}

// formatAttribute returns an attribute in the name=Type:value form of
// sqsx send --attr, Binary values in base64, long values shortened.
func formatAttribute(name string, v types.MessageAttributeValue) string {
	value := aws.ToString(v.StringValue)
	if v.BinaryValue != nil {
		value = base64.StdEncoding.EncodeToString(v.BinaryValue)
	}
	const maxShown = 80
	if len(value) > maxShown {
		cut := maxShown
		for cut > 0 && !isRuneStart(value[cut]) {
			cut--
		}
		value = fmt.Sprintf("%s... (%d bytes)", value[:cut], len(value))
	}
	return fmt.Sprintf("%s=%s:%s", name, aws.ToString(v.DataType), value)
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// plural returns "1 second", "2 seconds" and so on.
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
