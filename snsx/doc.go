// Package snsx publishes Amazon SNS messages of any size: bodies too large for
// SNS are stored in Amazon S3 and a pointer is published in their place, in the
// wire format of the AWS extended client libraries (see package
// [github.com/sqsx/sqsx/payload]).
//
// [Client] wraps an [sns.Client] and has its methods, with the same
// signatures. Publish and PublishBatch offload large messages, PublishStream
// streams a body of any size, and every other operation is passed through.
// [GetOffloadMetadata] and [GetBatchOffloadMetadata] say what a call did with
// each body, and [WithOffloadOptions] changes the settings of one call.
//
// # FIFO topics
//
// SNS computes a content-based deduplication id from the message it is
// given, which for an offloaded message is a pointer that is new on every
// publish. So that a FIFO topic with ContentBasedDeduplication still drops
// resent duplicates, an offloaded message without a deduplication id gets
// the SHA-256 of its body, what SNS would have computed; the topic's
// attribute is read once (GetTopicAttributes, when the SNS client given to
// New has it).
//
// # Subscribers
//
// An SQS queue subscribed to the topic receives the pointer. The sqsx client
// ([github.com/sqsx/sqsx.Client]) resolves it with raw message delivery (the
// body is the pointer) and without it (the body is the SNS JSON envelope, whose
// Message is the pointer). The AWS Java and Python SQS extended clients resolve
// it with raw delivery only.
//
// # Fan-out and deletion
//
// Several subscribers read one payload, so no subscriber may delete it. Every
// payload this package uploads carries the S3 user metadata
// "sqsx-fanout: true" (see [FanoutMetadataKey]); an sqsx consumer that reads
// such a payload hands back the message's original receipt handle, so that
// DeleteMessage deletes the message and leaves the payload. Payloads are
// removed by an S3 lifecycle rule instead: install one with
// [payload.PutExpirationRule]. Consumers that are not sqsx (Java, Python) do not know
// the marker: configure them not to delete payloads (Java:
// withPayloadSupportEnabled(s3, bucket, false); Python: the default).
package snsx

//go:generate go run ../internal/cmd/genpassthrough -service sns -out api_passthrough.go
