// Package ops gathers what an operator of an sqsx queue wants to know and
// does: how deep the queue and its dead-letter queue are and how much
// payload storage it uses (Gather), and which payload objects no message can
// still point to, to delete them (PlanGC, ApplyGC). It backs the sqsx stats
// and gc commands.
//
// # Expired payloads
//
// SQS deletes a message once it is older than the queue's
// MessageRetentionPeriod, counted from when it was sent, and a payload is
// written just before its message is sent. So an object under the payload
// prefix that is older than the retention period, plus a grace period for
// the time between the upload and the send (and clock skew), has no message
// left that points to it. A message moved to a dead-letter queue keeps its
// original enqueue timestamp on a standard queue, so there the retention is
// the longer of the two queues'; a FIFO queue's dead-letter queue restarts
// the count, so for FIFO queues the two periods add up.
//
// PlanGC assumes the objects under the bucket and prefix are payloads of
// this queue (or of topics that deliver only to it): payloads of a queue
// with a longer retention period must be under another prefix.
package ops
