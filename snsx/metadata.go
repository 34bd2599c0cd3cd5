package snsx

import (
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
