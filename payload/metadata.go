package payload

// OffloadMetadata says what a send of sqsx or snsx did with one message's
// body. The clients put it in the output's ResultMetadata; read it with
// sqsx.GetOffloadMetadata or snsx.GetOffloadMetadata (one message) and
// GetBatchOffloadMetadata (per batch entry).
type OffloadMetadata struct {
	// Offloaded is true when the body went to S3 and a pointer was sent in
	// its place.
	Offloaded bool
	// Pointer names the payload object when Offloaded.
	Pointer Pointer
	// Size is the body's size in bytes: the payload's when Offloaded.
	Size int64
	// AttributesSize is what the caller's message attributes add to the
	// message's size (see AttributeSize); Size plus AttributesSize is what
	// was compared with Threshold.
	AttributesSize int64
	// Threshold is the size above which the message would be offloaded: the
	// client's, or the queue's with sqsx's ThresholdFromQueue.
	Threshold int64
	// AlwaysThroughS3 is true when every message of the call was offloaded
	// whatever its size (the client's option or the call's).
	AlwaysThroughS3 bool
}
