// Package consumer runs handlers for the messages of an SQS queue, received
// through an [sqsx.Client], so that messages of any size, offloaded to S3 or
// not, are processed the way a production service needs: concurrently,
// within bounds of count and bytes, acknowledged in batches, kept invisible
// while they are handled, and stopped without losing work.
//
//	client, _ := sqsx.New(sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg), func(o *sqsx.Options) {
//		o.Bucket = "my-payload-bucket"
//	})
//	c, _ := consumer.New(client)
//	err := c.Run(ctx, queueURL, func(ctx context.Context, m *consumer.Message) error {
//		return process(ctx, m.Body)
//	})
//
// [Consumer.Run] calls a handler per message, [Consumer.RunBatch] per
// received batch, and [Consumer.RunStream] per message with the body as an
// [io.Reader] streamed from S3. Each returns when its context ends, after a
// graceful shutdown.
//
// # Receiving and back-pressure
//
// Options.Receivers goroutines long-poll the queue. The Consumer holds at
// most Concurrency handled plus Prefetch waiting messages; a receiver asks
// only for what fits, so a slow handler slows receiving instead of leaving
// messages invisible in memory. Each receive asks SQS for the message
// attributes (Options.MessageAttributeNames) and the system attributes
// ApproximateReceiveCount, ApproximateFirstReceiveTimestamp, SentTimestamp,
// MessageGroupId, MessageDeduplicationId and SequenceNumber, which a
// [Message] exposes (ReceiveCount, FirstReceiveTime, SentTime, GroupID), so
// that a handler can tell a message's last try before the dead-letter queue.
//
// # Large payloads
//
// Messages are received with their payloads left in S3
// ([sqsx.Client.ReceiveMessageUnresolved]), whose sizes are then known. Run
// and RunBatch read a payload into memory, while earlier messages are still
// being handled, only once its bytes fit in Options.MaxInFlightBytes (a
// weighted semaphore), so a consumer of 1 GiB payloads with a 2 GiB bound
// holds two, not ten. A body larger than the bound still goes through: it
// waits until nothing else is held and then holds the bound alone. A payload
// over Options.MaxPayloadSize (64 MiB by default) is not read into memory;
// RunStream handles those: its handler reads the payload from S3 as it goes,
// with the heartbeat running. A payload is deleted from S3 only after SQS
// confirmed the deletion of its message ([sqsx.Client.DeleteMessageBatch]).
//
// Through an *sqsx.Client the receive does not check each payload with a
// request of its own ([sqsx.WithoutPayloadCheck]): it checks the pointer,
// the bucket and key allowlist and the size the sender claims, and leaves
// the rest to the read, which costs one S3 request per payload instead of
// two. A pointer that fails at the receive is handled as the Client's
// Options.Unresolved says; a payload that fails when the Consumer reads it
// (it does not exist, is too large, does not match its checksum, S3 fails)
// is handled as under the default policy: the message is deleted if its
// payload no longer exists, which means it was a duplicate, and left in the
// queue for its redrive policy otherwise. Either is reported to
// Hooks.OnError with Op OpPayload and the sqsx code. The read also tells
// whether the payload is shared by an SNS fan-out: only a payload that is
// not is deleted with its message. (Through an API that is not an
// *sqsx.Client, such as a wrapper that embeds API, each payload is checked
// at the receive, with a one-byte read, as [sqsx.Client.ReceiveMessageUnresolved]
// does by default.)
//
// # Acknowledgement, retry and visibility
//
// Options.AckMode says when a message is acknowledged: on success (the
// default), always, or when the handler calls [Message.Ack]. Acknowledgements
// are coalesced into DeleteMessageBatch calls of up to 10, sent when full or
// Options.AckInterval after the first, and flushed on shutdown; a batch
// never names one message twice (if SQS delivered a message again within
// one window, the newest receipt handle is sent). A failed message is made
// visible again after Options.Backoff(ReceiveCount), with batched
// ChangeMessageVisibilityBatch calls, so that it is retried later and, with
// a redrive policy, moves to the dead-letter queue on its own.
//
// While a message is held (prefetched, handled, or waiting for its
// acknowledgement), a heartbeat extends its visibility before it expires,
// with ChangeMessageVisibilityBatch, up to Options.MaxExtension (SQS's
// 12-hour maximum by default) from its receive.
//
// # FIFO queues
//
// On a queue whose URL ends in ".fifo", Run and RunStream handle the
// messages of one MessageGroupId one at a time, in order, and groups in
// parallel. When a handler fails, the group's messages that the Consumer
// holds are not handled but made visible again at once: SQS delivers them
// again after the failed message, in order.
//
// # Shutdown
//
// When Run's context ends, the Consumer stops receiving, makes the messages
// it received but did not start visible again at once (so that other
// consumers get them without waiting for their visibility timeout), lets
// the running handlers finish for up to Options.ShutdownTimeout (then
// cancels their contexts), sends the pending acknowledgements and
// visibility changes, stops the heartbeat and returns. No goroutine
// outlives Run.
//
// # Errors and events
//
// Run returns only when it stops. Failures it recovers from (handler
// errors and panics, failed receives, refused acknowledgements) go to
// Options.Hooks.OnError as an [*Error] naming the operation and the
// message; every step of a message's life goes to Hooks.OnEvent.
package consumer
