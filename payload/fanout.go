package payload

// FanoutMetadataKey is the S3 user metadata key (x-amz-meta-sqsx-fanout)
// that, with the value "true", marks a payload that several consumers read
// (published through SNS to several subscribers). Consumers must not delete
// such a payload when they delete their message; an S3 lifecycle rule expires
// it instead.
const FanoutMetadataKey = "sqsx-fanout"

// isShared reports whether object metadata carries the fan-out marker.
func isShared(md map[string]string) bool { return md[FanoutMetadataKey] == "true" }
