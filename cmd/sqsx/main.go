// Command sqsx sends and receives Amazon SQS messages of any size, and
// publishes them to Amazon SNS. A body larger than the threshold (256 KiB by
// default) is stored in Amazon S3 and a pointer is sent in its place, in the
// wire format of the AWS extended client libraries for Java and Python, so
// sqsx interoperates with them.
//
// Usage:
//
//	sqsx send      --queue-url URL | --queue NAME  --bucket BUCKET [--file FILE] [flags]
//	sqsx receive   --queue-url URL | --queue NAME [--bucket BUCKET] [--out FILE | --out-dir DIR] [--delete] [flags]
//	sqsx delete    --queue-url URL | --queue NAME [--bucket BUCKET] [--receipt-handle HANDLE] [flags]
//	sqsx peek      --queue-url URL | --queue NAME [--max-number-of-messages N] [--body --bucket BUCKET] [flags]
//	sqsx consume   --queue-url URL | --queue NAME [--bucket BUCKET] [--concurrency N] [--max-messages N] [flags] -- COMMAND [ARG...]
//	sqsx publish   --topic-arn ARN --bucket BUCKET [--file FILE] [flags]
//	sqsx lifecycle --bucket BUCKET [--key-prefix PREFIX] [--days N | --show] [flags]
//	sqsx doctor    --bucket BUCKET [--queue-url URL | --queue NAME] [--key-prefix PREFIX] [--topic-arn ARN] [flags]
//	sqsx stats     --queue-url URL | --queue NAME [--bucket BUCKET [--key-prefix PREFIX]] [--watch] [flags]
//	sqsx gc        --bucket BUCKET [--key-prefix PREFIX] --queue-url URL | --queue NAME [--grace DURATION] [--apply] [flags]
//	sqsx help [command]
//	sqsx completion bash|zsh|fish|powershell
//	sqsx --version
//
// send reads the body from --file or standard input, sends it, prints the
// message id on standard output and a summary on standard error.
//
// receive waits up to --wait-time-seconds (default 20) for up to
// --max-number-of-messages messages, writes each body, byte for byte, to
// --out, a file in --out-dir or standard output, optionally deletes the
// messages and their S3 payloads (--delete), and prints a summary on
// standard error. Only payloads in --bucket and the --allowed-bucket
// buckets are read. Each message is decided on its own: one whose body
// cannot be read or written is reported, with the command that deletes it
// when it can never be read, and is left in the queue, while the others are
// written (and deleted); the exit status is then 1.
//
// consume runs COMMAND once per message, with the body streamed to its
// standard input and the message id, receive count and attributes in
// SQSX_* environment variables; it deletes the message when the command
// exits 0 and otherwise makes it visible again after a backoff. Ctrl-C
// stops receiving and lets the running commands finish within
// --shutdown-timeout; a second Ctrl-C kills them.
//
// delete deletes messages by receipt handle, and then their payloads. peek
// shows the messages of a queue without consuming them. publish publishes to
// an SNS topic. lifecycle installs, or shows, the S3 lifecycle rule that
// expires payloads. doctor checks the credentials, the bucket, the queue, the
// lifecycle rule and the bucket's encryption, and says what to fix.
//
// stats prints the queue's depth (visible, in flight, delayed), its
// dead-letter queue's depth (from its redrive policy) and, with --bucket,
// the payload storage under --key-prefix (objects, bytes, oldest); --watch
// redraws it every --interval. The age of the oldest message is not shown:
// SQS gives it only to CloudWatch (ApproximateAgeOfOldestMessage), and
// finding it by reading messages would count as receives.
//
// gc lists the payload objects that no message can still point to, those
// last modified before now less the queue's retention period (the longer of
// the queue's and its dead-letter queue's for a standard queue, their sum
// for a FIFO queue) less --grace (default 1h), and the incomplete multipart
// uploads initiated before then; it deletes them only with --apply, in
// batches of 1000, with a progress bar on a terminal, reporting each key
// that could not be deleted. It assumes the objects under --key-prefix are
// this queue's payloads.
//
// # Flags
//
// The flags are named as aws-cli names them: --queue-url,
// --message-group-id, --message-deduplication-id, --delay-seconds,
// --max-number-of-messages, --wait-time-seconds, --visibility-timeout,
// --endpoint-url, --region, --profile, --output; and --key-prefix for the
// key prefix of the payloads in every command. The names of earlier
// versions still work: --group-id, --dedup-id, --delay, --max, --wait,
// --prefix and --json (for --output json).
//
// Every command takes --output text|json (json: results as one JSON object
// per line on standard output, errors as a JSON object with Error and Hint
// on standard error), --quiet (no summaries or progress bars), --region,
// --profile, --endpoint-url, --path-style and --debug (log the library's
// warnings and the AWS SDK's retries and responses, with log/slog, on
// standard error), before or after the command's name. A progress bar is drawn on standard error for transfers above the
// threshold when standard error is a terminal.
//
// # JSON output
//
// The JSON objects use aws-cli's field names, so jq scripts written for
// aws-cli read them too: a message has MessageId, ReceiptHandle, Body,
// Attributes (system attributes such as ApproximateReceiveCount) and
// MessageAttributes ({"NAME": {"DataType": "String", "StringValue": "..."}},
// a BinaryValue in base64); send adds MD5OfMessageBody and SequenceNumber.
// What sqsx adds is named in the same style: Size, Offloaded, Payload
// (s3://BUCKET/KEY of a body stored in S3), Deleted, Warning, and Error,
// Hint and ErrorCode for a message that could not be read.
//
// # Configuration
//
// Configuration comes from the standard AWS sources: environment variables,
// the shared config and credentials files, --region and --profile.
// --endpoint-url sends the requests of SQS, SNS and S3 to another endpoint,
// such as a local server, overriding AWS_ENDPOINT_URL_SQS,
// AWS_ENDPOINT_URL_SNS and AWS_ENDPOINT_URL_S3 (or AWS_ENDPOINT_URL), which
// select endpoints per service; S3 then uses path-style addressing (or pass
// --path-style).
//
// # Exit status
//
// 0 on success, 1 on errors, 2 on invalid usage or input (an empty body,
// or one sent in SQS or SNS that is not text), 3 when there was nothing:
// receive or peek got no message within the wait time, or lifecycle --show
// found no rule; 4 when doctor found a failure.
package main
