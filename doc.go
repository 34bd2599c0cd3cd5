// Package sqsx is an Amazon SQS client for messages of any size: it stores
// message bodies too large for SQS in Amazon S3 and sends a small pointer in
// their place. It speaks the wire format of the AWS extended client libraries
// for Java and Python, so messages flow between them and Go in both
// directions.
//
// [Client] wraps an [sqs.Client] and has its methods, with the same
// signatures, so existing code changes one line:
//
//	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg), func(o *sqsx.Options) {
//		o.Bucket = "my-payload-bucket"
//	})
//
// # Wire format and interoperability
//
// An offloaded message's body is replaced by
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"...","s3Key":"..."}]
//
// and it carries a Number message attribute, ExtendedPayloadSize (or, with
// Options.AttributeName, the legacy SQSLargePayloadSize that the Java client
// writes by default), holding the payload size. The S3 object holds the body
// bytes as they are. On receive both attribute names are read, both pointer
// class names are accepted, and the reserved attributes are removed from the
// messages returned. See package [github.com/sqsx/sqsx/payload] for the codec.
//
// # Size threshold
//
// A message is offloaded when its size (body bytes plus, for each message
// attribute, the bytes of its name, data type and value) is greater than
// Options.Threshold, [DefaultThreshold] (256 KiB) unless set. SQS accepts up
// to 1 MiB since August 2025, but a queue's MaximumMessageSize still defaults
// to 256 KiB; set Options.ThresholdFromQueue to use each queue's own limit.
// SendMessageBatch also keeps a batch's total under SQS's batch limit by
// offloading its largest entries.
//
// # Deletion semantics
//
// A received offloaded message's receipt handle also names its S3 object.
// DeleteMessage and DeleteMessageBatch delete the message from SQS first and
// then, only for messages SQS confirmed, the objects; a failed delete never
// leaves a message without its payload. Set Options.KeepPayloadsOnDelete to
// leave the objects (for example when several consumers read one payload) and
// expire them with an S3 lifecycle rule (payload.PutExpirationRule).
// Payloads published through SNS (package snsx) are shared by the topic's
// subscribers: they carry a marker, and messages resolved from them, or from
// an SNS envelope, keep SQS's own receipt handle, so deleting them leaves the
// payload to the lifecycle rule. PurgeQueue and message expiry do not delete
// payloads either.
//
// # Errors
//
// Errors can be tested with errors.Is and errors.As. Invalid input is an
// [*InputError] naming the field; S3 failures are [*PayloadError]s naming the
// operation, bucket and key, and keep the SDK's error reachable. Sentinels
// such as [ErrPayloadNotFound], [ErrBucketNotAllowed], [ErrInvalidPointer] and
// [ErrReservedAttribute] classify them. Errors from SQS are returned as the
// SDK returns them.
//
// # What a call did
//
// Outputs carry what the Client did in their ResultMetadata, the SDK's own
// channel for per-call facts: [GetOffloadMetadata] (SendMessage,
// SendMessageStream) and [GetBatchOffloadMetadata] (SendMessageBatch, per
// entry id) say whether a body went to S3, where, its size and the threshold
// applied; [GetUnresolvedMessages] lists the received messages whose
// payloads could not be resolved. Per-call settings (bucket, key prefix,
// always through S3) go in the call's optFns with [WithOffloadOptions].
//
// # Partial results
//
// Like the SDK, most calls return an output or an error. A few return both:
// the service did what was asked, and something after it did not happen.
// Check the error before the output, but do not drop the output when the
// error is one of these:
//
//   - DeleteMessage and DeleteMessageBatch: the messages are deleted but a
//     payload is not (S3 failed). The output is SQS's; the error is a
//     [*PayloadError] (joined, one per object, for a batch), and the objects
//     stay until the lifecycle rule removes them. Do not retry the delete for
//     the messages' sake. DeleteMessageBatch also returns, beside its
//     output, a [*payload.KeptError] for entries SQS's answer names neither
//     as deleted nor as failed: their payloads are kept.
//   - ReceiveMessage under [UnresolvedReturn]: the output holds every
//     message, and an [*UnresolvedError] names those handed back unresolved.
//     Under the other policies unresolved messages are not an error; see
//     [GetUnresolvedMessages].
//
// A [*payload.KeptError] alone (no output) means the call failed and
// payloads were kept on purpose: the service may have taken the request (an
// ambiguous failure of SendMessage, SendMessageBatch, SendMessageStream,
// DeleteMessage or DeleteMessageBatch), so deleting them could lose a live
// message's body; [payload.KeptPointers] lists them. Batch calls report
// entries that failed before SQS was called (invalid input, a failed upload)
// as Failed entries of a successful output, as SQS reports its own. See
// docs/reliability.md for every fault and what the Client does.
//
// # Security
//
// Whoever can send to a queue chooses the pointers its consumers follow. A
// consumer reads only from Options.AllowedBuckets (by default just
// Options.Bucket) and validates every bucket name and key, so a hostile sender
// cannot make it read, return or delete other objects its credentials reach.
//
// # Concurrency
//
// A Client is safe for concurrent use. S3 requests within one call run
// concurrently, at most Options.Concurrency at a time, and stop when the
// context is cancelled.
package sqsx

//go:generate go run ./internal/cmd/genpassthrough -service sqs -out api_passthrough.go
