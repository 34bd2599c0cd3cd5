package snsx

import (
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/internal/offload"
	"github.com/sqsx/sqsx/payload"
)

// OffloadMetadata says what a publish did with one message's body: whether
// it went to S3, where, its size and the threshold applied. It is
// payload.OffloadMetadata, which sqsx reports too.
type OffloadMetadata = payload.OffloadMetadata

// GetOffloadMetadata returns what Publish or PublishStream did with the
// message, from the output's ResultMetadata; ok is false for the output of
// another call.
//
//	out, err := client.Publish(ctx, in)
//	if err != nil {
//		return err
//	}
//	if md, _ := snsx.GetOffloadMetadata(out.ResultMetadata); md.Offloaded {
//		log.Printf("%d bytes in %s", md.Size, md.Pointer)
//	}
func GetOffloadMetadata(metadata middleware.Metadata) (md OffloadMetadata, ok bool) {
	return offload.Metadata(metadata)
}

// GetBatchOffloadMetadata returns what PublishBatch did with each message
// it published, by entry id, from the output's ResultMetadata: one
// OffloadMetadata per entry of out.Successful. It returns nil for the output
// of another call.
func GetBatchOffloadMetadata(metadata middleware.Metadata) map[string]OffloadMetadata {
	return offload.BatchMetadata(metadata)
}
