package sqsx

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// OffloadMetadata says what a send did with one message's body: whether it
// went to S3, where, its size and the threshold applied. It is
// payload.OffloadMetadata, which snsx reports too.
type OffloadMetadata = payload.OffloadMetadata

// GetOffloadMetadata returns what SendMessage or SendMessageStream did with
// the message, from the output's ResultMetadata; ok is false for the output
// of another call.
//
//	out, err := client.SendMessage(ctx, in)
//	if err != nil {
//		return err
//	}
//	if md, _ := sqsx.GetOffloadMetadata(out.ResultMetadata); md.Offloaded {
//		log.Printf("%s: %d bytes in %s", aws.ToString(out.MessageId), md.Size, md.Pointer)
//	}
func GetOffloadMetadata(metadata middleware.Metadata) (md OffloadMetadata, ok bool) {
	return offload.Metadata(metadata)
}

// GetBatchOffloadMetadata returns what SendMessageBatch did with each
// message it sent, by entry id, from the output's ResultMetadata: one
// OffloadMetadata per entry of out.Successful. It returns nil for the output
// of another call.
func GetBatchOffloadMetadata(metadata middleware.Metadata) map[string]OffloadMetadata {
	return offload.BatchMetadata(metadata)
}

// unresolvedKey is the ResultMetadata key of the unresolved messages.
type unresolvedKey struct{}

// GetUnresolvedMessages returns the messages of a ReceiveMessage (or
// ReceiveMessageUnresolved) call whose payloads could not be resolved, with
// what was done with each, from the output's ResultMetadata. It returns nil
// when every message resolved.
//
//	out, err := client.ReceiveMessage(ctx, in)
//	for _, u := range sqsx.GetUnresolvedMessages(out.ResultMetadata) {
//		log.Printf("%s: %s, %s", u.MessageID, u.Code, u.Action)
//	}
func GetUnresolvedMessages(metadata middleware.Metadata) []UnresolvedMessage {
	v, _ := metadata.Get(unresolvedKey{}).([]UnresolvedMessage)
	return v
}

// Threshold returns the size above which a message sent to queueURL is
// offloaded: Options.Threshold, or with ThresholdFromQueue the queue's
// MaximumMessageSize (read once per queue and cached, so that a send that
// follows reads nothing more).
func (c *Client) Threshold(ctx context.Context, queueURL string, optFns ...func(*sqs.Options)) (int64, error) {
	call, _, err := c.call(ctx, "Threshold", queueURL, optFns)
	return call.Threshold, err
}

// MessageSize returns a message's size as SQS counts it and as the
// threshold is compared with: the bytes of the body plus, for each message
// attribute, the bytes of its name, data type and value.
func MessageSize(body string, attrs map[string]types.MessageAttributeValue) int64 {
	return sqsService.Size(body, attrs)
}
