package snsx

import (
	"github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// GetBatchOffloadMetadata returns, by entry id, what PublishBatch did with
// the body of each entry of out.Successful, from out.ResultMetadata (nil
// for another call's output).
func GetBatchOffloadMetadata(metadata middleware.Metadata) map[string]OffloadMetadata {
	return offload.BatchMetadata(metadata)
}

// GetOffloadMetadata returns what Publish or PublishStream did with the
// message's body (ok false for another call's output):
//
//	out, err := client.Publish(ctx, in)
//	if err == nil {
//		md, _ := snsx.GetOffloadMetadata(out.ResultMetadata)
//		fmt.Println(md.Offloaded, md.Size, md.Pointer)
//	}
func GetOffloadMetadata(metadata middleware.Metadata) (md OffloadMetadata, ok bool) {
	return offload.Metadata(metadata)
}

// OffloadMetadata is what GetOffloadMetadata reports: payload.OffloadMetadata,
// as in sqsx.
type OffloadMetadata = payload.OffloadMetadata

// MessageSize returns a message's size as SNS counts it and as
// Options.Threshold is compared with: the bytes of the message plus, for
// each message attribute, the bytes of its name, data type and value.
func MessageSize(message string, attrs map[string]types.MessageAttributeValue) int64 {
	return snsService.Size(message, attrs)
}
