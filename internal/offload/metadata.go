package offload

import (
	"github.com/aws/smithy-go/middleware"

	"github.com/sqsx/sqsx/payload"
)

// Keys of the OffloadMetadata in an output's ResultMetadata.
type (
	metadataKey      struct{}
	batchMetadataKey struct{}
)

// SetMetadata records what a send did with its message in md.
func SetMetadata(md *middleware.Metadata, m payload.OffloadMetadata) {
	md.Set(metadataKey{}, m)
}

// Metadata returns what SetMetadata recorded in md; ok is false if nothing.
func Metadata(md middleware.Metadata) (m payload.OffloadMetadata, ok bool) {
	m, ok = md.Get(metadataKey{}).(payload.OffloadMetadata)
	return m, ok
}

// SetBatchMetadata records what a batch send did with each entry, by id, in
// md.
func SetBatchMetadata(md *middleware.Metadata, entries map[string]payload.OffloadMetadata) {
	md.Set(batchMetadataKey{}, entries)
}

// BatchMetadata returns what SetBatchMetadata recorded in md, or nil.
func BatchMetadata(md middleware.Metadata) map[string]payload.OffloadMetadata {
	m, _ := md.Get(batchMetadataKey{}).(map[string]payload.OffloadMetadata)
	return m
}
