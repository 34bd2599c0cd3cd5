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

// messageJSON is one message as receive and peek print it with --output
// json: the fields of SQS's Message under the names aws-cli prints
// (MessageId, ReceiptHandle, Body, Attributes, MessageAttributes), so jq
// scripts written for 'aws sqs receive-message' read it too, followed by
// what sqsx adds.
type messageJSON struct {
	MessageID     string `json:"MessageId"`
	ReceiptHandle string `json:",omitempty"`
	// Body is the body, the payload's for an offloaded message; absent when
	// it was written elsewhere (Out) or could not be read (Error).
	Body *string `json:",omitempty"`
	// Attributes are the message's system attributes, as SQS returns them
	// (SentTimestamp, ApproximateReceiveCount, MessageGroupId...).
	Attributes map[string]string `json:",omitempty"`
	// MessageAttributes leaves out the reserved attribute of offloaded
	// messages.
	MessageAttributes map[string]attrJSON `json:",omitempty"`
	// Size is the size of the body in bytes: of the payload, for an
	// offloaded message.
	Size int64
	// Offloaded: the body is stored in S3, at Payload (s3://BUCKET/KEY).
	Offloaded bool
	Payload   string `json:",omitempty"`
	// SNSEnvelope: the message came from SNS without raw delivery.
	SNSEnvelope bool   `json:",omitempty"`
	Out         string `json:",omitempty"`
	Deleted     *bool  `json:",omitempty"`
	Warning     string `json:",omitempty"`
	// Error and Hint: the message could not be received (or, for peek,
	// its body could not be read); it has no body.
	Error string `json:",omitempty"`
	Hint  string `json:",omitempty"`
	// ErrorCode says why the body could not be read from S3, when it could
	// not, as sqsx.UnresolvedMessage.Code: PayloadNotFound,
	// PayloadBucketNotAllowed, InvalidPayloadPointer, PayloadTooLarge, ...
	ErrorCode string `json:",omitempty"`

	// For the text output.
	groupID      string
	receiveCount int
	sentAt       string
	attrs        map[string]types.MessageAttributeValue
}

// attrJSON is a message attribute as aws-cli prints it: a Binary value
// is base64.
type attrJSON struct {
	DataType    string
	StringValue *string `json:",omitempty"`
	BinaryValue []byte  `json:",omitempty"`
}

// newAttrJSON returns v as aws-cli prints it.
func newAttrJSON(v types.MessageAttributeValue) attrJSON {
	return attrJSON{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
}

// attrText returns an attribute's value as text: a Binary value in base64.
func attrText(v types.MessageAttributeValue) string {
	if v.BinaryValue != nil {
		return base64.StdEncoding.EncodeToString(v.BinaryValue)
	}
	return aws.ToString(v.StringValue)
}

// newMessageJSON returns the description of m, whose body is size bytes,
// without its body and leaving out the reserved attributes.
func newMessageJSON(m types.Message, size int64) *messageJSON {
	j := &messageJSON{
		MessageID:  aws.ToString(m.MessageId),
		Size:       size,
		Attributes: m.Attributes,
		attrs:      map[string]types.MessageAttributeValue{},
	}
	if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
		j.receiveCount = n
	}
	j.groupID = m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
	if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		j.sentAt = time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
	}
	for name, v := range m.MessageAttributes {
		if name == payload.AttributeName || name == payload.LegacyAttributeName {
			continue
		}
		if j.MessageAttributes == nil {
			j.MessageAttributes = map[string]attrJSON{}
		}
		j.MessageAttributes[name] = newAttrJSON(v)
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
		fmt.Fprintf(w, ", body stored in S3 at %s (in an SNS envelope)", j.Payload)
	case j.Offloaded:
		fmt.Fprintf(w, ", body stored in S3 at %s", j.Payload)
	default:
		fmt.Fprint(w, ", body sent in SQS")
	}
	if j.receiveCount > 0 {
		fmt.Fprintf(w, ", receive count %d", j.receiveCount)
	}
	if j.groupID != "" {
		fmt.Fprintf(w, ", group %s", j.groupID)
	}
	if j.sentAt != "" {
		fmt.Fprintf(w, ", sent %s", j.sentAt)
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
	value := attrText(v)
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
