// Package interop proves that sqsx is wire-compatible with the reference
// extended clients: the Java SQS client (com.amazonaws:amazon-sqs-java-extended-client-lib),
// the Java SNS client (software.amazon.sns:sns-extended-client) and the Python
// SQS client (amazon-sqs-extended-client). Its test runs every producer
// against every consumer on the local servers; see docs/interop.md. The test
// files need the build tag "interop" and the peers that scripts/interop.sh
// installs: run that script.
//
// The peers are driven by small programs (interop/java, interop/python) that
// read a [Spec] of jobs from a JSON file and write a [Results] file. This file
// defines that protocol; the Go side uses the same types for sqsx.
package interop

// Spec is the input of one driver invocation: the jobs to run, in order.
type Spec struct {
	Jobs []Job `json:"jobs"`
}

// Job is one queue's worth of work for a producer or a consumer.
//
// A producer sends Messages to QueueURL (or, for "publish", to TopicARN),
// offloading to Bucket, one by one or, if Batch, as one SendMessageBatch.
//
// A consumer, with its client configured for Bucket, receives until it has
// Count distinct messages (by message id) or DeadlineSeconds pass; each
// ReceiveMessage asks for at most 10 messages, waits 1 s, sets a visibility
// timeout of 20 s, asks for all system attributes and, if AttributeNames is
// set, for those message attributes. With DeleteEach it deletes every message
// as soon as it has it and, at the end, counts the messages one more receive
// returns (Result.Extra). With VisibilityCheck it then calls
// ChangeMessageVisibility(0) with the first message's receipt handle, receives
// for up to RedeliverSeconds until that message comes back, and deletes it
// with the newest receipt handle it has (Result.Visibility).
type Job struct {
	ID       string `json:"id"`
	QueueURL string `json:"queue_url,omitempty"`
	TopicARN string `json:"topic_arn,omitempty"`
	Bucket   string `json:"bucket"`

	// Producer fields.
	Batch    bool      `json:"batch,omitempty"`
	Messages []Message `json:"messages,omitempty"`

	// Consumer fields.
	Count            int      `json:"count,omitempty"`
	AttributeNames   []string `json:"attribute_names,omitempty"`
	DeleteEach       bool     `json:"delete_each,omitempty"`
	VisibilityCheck  bool     `json:"visibility_check,omitempty"`
	DeadlineSeconds  int      `json:"deadline_seconds,omitempty"`
	RedeliverSeconds int      `json:"redeliver_seconds,omitempty"`
}

// Message is a message to send, or one that was sent or received.
type Message struct {
	// MessageID is set in results: the id SQS (or SNS) assigned.
	MessageID string `json:"message_id,omitempty"`
	// Error is set in producer results when this message was not sent.
	Error         string               `json:"error,omitempty"`
	Body          string               `json:"body,omitempty"`
	ReceiptHandle string               `json:"receipt_handle,omitempty"`
	Attributes    map[string]Attribute `json:"attributes,omitempty"`
	GroupID       *string              `json:"group_id,omitempty"`
	DedupID       *string              `json:"dedup_id,omitempty"`
}

// Attribute is a message attribute. Binary values travel base64-encoded (as
// encoding/json encodes a []byte).
type Attribute struct {
	Type   string  `json:"type"`
	String *string `json:"string,omitempty"`
	Binary []byte  `json:"binary,omitempty"`
}

// Results is the output of one driver invocation, by job id.
type Results struct {
	Results map[string]Result `json:"results"`
}

// Result is what a job did.
type Result struct {
	// Error is set when the job stopped early.
	Error string `json:"error,omitempty"`
	// Messages are, for a producer, one entry per message sent (in order)
	// and, for a consumer, the distinct messages received (in order).
	Messages []Message `json:"messages,omitempty"`
	// Extra is the number of messages a consumer with DeleteEach received
	// after it had Count and had deleted them all.
	Extra *int `json:"extra,omitempty"`
	// Visibility reports a consumer's VisibilityCheck.
	Visibility *Visibility `json:"visibility,omitempty"`
}

// Visibility is what happened in a consumer's VisibilityCheck.
type Visibility struct {
	ChangeError string   `json:"change_error,omitempty"`
	Redelivered *Message `json:"redelivered,omitempty"`
	DeleteError string   `json:"delete_error,omitempty"`
}
