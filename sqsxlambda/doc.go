// Package sqsxlambda consumes offloaded SQS messages in AWS Lambda: it
// resolves the records of an [events.SQSEvent] whose bodies are S3 pointers,
// runs a handler per record with bounded concurrency, and answers with a
// partial batch response ([events.SQSEventResponse] with BatchItemFailures),
// so that only the records that failed come back. It is a package of its own
// so that the aws-lambda-go dependency stays out of package sqsx.
//
//	client, err := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg), func(o *sqsx.Options) {
//		o.Bucket = "my-payload-bucket"
//	})
//	handler, err := sqsxlambda.New(client, func(ctx context.Context, r *events.SQSMessage) error {
//		return process(ctx, r.Body) // r.Body is the payload
//	})
//	lambda.Start(handler)
//
// The event source mapping must report batch item failures
// (FunctionResponseTypes: ReportBatchItemFailures); without it Lambda ignores
// the response and deletes every record of a batch that did not fail as a
// whole. Give the function s3:GetObject, and s3:ListBucket, on the payload
// prefix (see Unresolved records below).
//
// # Records
//
// Every kind of record an SQS event source delivers is resolved as
// [sqsx.Client.ReceiveMessage] resolves a received message: records sent to
// the queue directly and records from an SNS subscription with raw message
// delivery (a pointer body and the ExtendedPayloadSize or
// SQSLargePayloadSize message attribute), and records from an SNS
// subscription without raw delivery (an SNS envelope whose Message is a
// pointer; the client's Options.SNSEnvelope says whether the handler sees
// the envelope with its Message replaced or the bare payload). Pointers are
// followed only into the client's AllowedBuckets and AllowedKeyPrefixes, and
// payloads are read whole, up to its MaxPayloadSize. The handler gets a
// resolved copy of each record: its body is the payload, the reserved
// attribute is gone, and its receipt handle names the payload (unless the
// payload is shared), as a received message's does. [Resolve] resolves one
// record in place, for handlers that do their own batching.
//
// # Outcomes
//
// Each record is reported on its own ([Outcome]): one whose handler returns
// an error or panics is listed in BatchItemFailures and comes back after its
// visibility timeout, until the queue's redrive policy moves it to the
// dead-letter queue; the others are deleted by Lambda. A handler is never
// called for a record whose payload could not be resolved. Records are
// handled at most Options.Concurrency at a time (default 10), which also
// bounds the payloads held in memory. The handler returned by [New] never
// fails the invocation as a whole.
//
// For a FIFO queue (an event source ARN ending in ".fifo") the records of one
// message group are handled one at a time, in order, and groups run in
// parallel. After a record of a group fails, the group's later records are
// reported as failed without being handled ([Skipped]), so that they come
// back in order; with Options.FIFOFailBatch the first failure stops every
// group, which is what the AWS Lambda documentation's examples do.
//
// # Unresolved records
//
// A record whose payload cannot be read follows Options.Unresolved, which
// mirrors sqsx's default policy ([sqsx.UnresolvedIsolate]). A record whose
// payload does not exist is reported as processed, so Lambda deletes it: SQS
// delivers at least once, and a message whose payload is gone is the
// duplicate of one already processed (or its payload expired); either way it
// can never be processed, and failing it would only move it to the
// dead-letter queue after maxReceiveCount useless invocations. Every other
// unresolved record (a pointer outside the allowlist, an invalid pointer, a
// payload too large, S3 denying or failing the read) is reported as failed
// and reaches the dead-letter queue through the redrive policy, where an
// operator can look at it. Without s3:ListBucket S3 answers 403 for a missing
// key, so duplicates too would go to the dead-letter queue.
//
// # When payloads are deleted
//
// Lambda deletes the messages of the records reported as processed, itself,
// after the function returns; the function never learns whether that delete
// succeeded. By default payloads are therefore never deleted: an S3
// lifecycle rule on the payload prefix expires them
// ([payload.PutExpirationRule]; make the expiry longer than the queue's
// message retention period). This keeps sqsx's rule that a payload is never
// deleted while its message may still be in the queue, and costs only
// storage until expiry.
//
// Options.DeletePayloads deletes the payloads of the records whose handler
// succeeded, with one DeleteObjects per bucket, before the function returns
// (it cannot run later). Its risk is a message whose payload is gone while
// the message is still in the queue: if Lambda's delete fails, or the
// invocation times out after the deletion, the message comes back without a
// payload. It is then reported as processed under the default policy, which
// is right: its handler did succeed. Use it when storage matters more, and
// not with sqsx.UnresolvedFail, under which such a message would end in the
// dead-letter queue. Payloads shared by an SNS topic's subscribers (published
// with package snsx, or read from an SNS envelope) are never deleted, and a
// failed deletion leaves the objects to the lifecycle rule.
package sqsxlambda
