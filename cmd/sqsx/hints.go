package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/payload"
)

// hintedError is an error with advice on what to do next, which explain
// adds to the message.
type hintedError struct {
	err  error
	hint string
	// replace: the hint replaces the one describe gives err, instead of
	// following it.
	replace bool
}

func (e *hintedError) Error() string { return e.err.Error() }
func (e *hintedError) Unwrap() error { return e.err }

// withHint returns err with advice on what to do next.
func withHint(err error, hint string) error { return &hintedError{err: err, hint: hint} }

// replaceHint returns err with advice on what to do next, in place of the
// advice describe would give.
func replaceHint(err error, hint string) error {
	return &hintedError{err: err, hint: hint, replace: true}
}

// explain returns err as a message that says what went wrong and, on the
// following lines, what to do about it.
func explain(err error) string { return joinLines(describe(err)) }

// authCodes are the error codes with which AWS services reject credentials.
var authCodes = map[string]bool{
	"InvalidAccessKeyId": true, "SignatureDoesNotMatch": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"InvalidSecurity": true, "IncompleteSignature": true, "MissingAuthenticationToken": true,
	"AuthFailure": true, "InvalidToken": true, "TokenRefreshRequired": true,
}

// deniedCodes are the error codes with which AWS services refuse an
// operation to valid credentials.
var deniedCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "AuthorizationError": true, "Forbidden": true,
}

// errorCode returns the AWS error code of err, without SQS's query-protocol
// prefix, or "".
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return strings.TrimPrefix(apiErr.ErrorCode(), "AWS.SimpleQueueService.")
	}
	return ""
}

// describe returns what went wrong and what to do about it. The hint is
// never empty: every error says what to do next.
func describe(err error) (msg, hint string) {
	if he, ok := err.(*hintedError); ok {
		msg, hint = describe(he.err)
		if he.replace || hint == genericHint {
			hint = ""
		}
		return msg, joinLines(hint, he.hint)
	}
	var (
		perr    *payload.Error
		ierr    *sqsx.InputError
		noQ     *types.QueueDoesNotExist
		sendE   *smithyhttp.RequestSendError
		opErr   *smithy.OperationError
		kept    *payload.KeptError
		credErr *credentialsError
	)
	code := errorCode(err)
	service, op := "the service", ""
	if errors.As(err, &opErr) {
		service, op = opErr.ServiceID, opErr.OperationName
	}
	const redelivered = "The message stays in the queue and is delivered again after its visibility timeout."
	if errors.As(err, &kept) {
		return keptHint(kept)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "interrupted", "Run the command again to finish what it was doing."

	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out: %v", err), "Check that the endpoints are reachable and retry."

	case errors.Is(err, sqsx.ErrBucketNotAllowed) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload is in s3://%s/%s, and bucket %s is not allowed: pass --allowed-bucket %s if you trust the sender",
				perr.Bucket, perr.Key, perr.Bucket, perr.Bucket),
			redelivered

	case errors.Is(err, sqsx.ErrKeyNotAllowed) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload is in s3://%s/%s, and key %s is outside the key prefixes allowed to be read", perr.Bucket, perr.Key, perr.Key),
			redelivered

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr) && perr.Op == "PutObject":
		return fmt.Sprintf("bucket %s does not exist (%v)", perr.Bucket, err),
			"Create it, or pass an existing bucket with --bucket."

	case errors.Is(err, sqsx.ErrPayloadNotFound) && errors.As(err, &perr):
		return fmt.Sprintf("the message's payload s3://%s/%s does not exist (%s)", perr.Bucket, perr.Key, orDefault(code, "not found")),
			"It was deleted (perhaps by a consumer that received this message before) or expired, or its bucket is gone. " +
				redelivered + " 'sqsx receive' on the queue prints the command that deletes it; or let a redrive policy move it to a dead-letter queue."

	case errors.Is(err, payload.ErrChecksumMismatch):
		return fmt.Sprintf("the payload read from S3 does not match its checksum: %v", err),
			"Nothing was written. Retry; if it persists the object is corrupt: " + redelivered

	case errors.Is(err, sqsx.ErrPayloadTooLarge):
		return err.Error(), "Pass --max-payload-size with a larger SIZE (e.g. 1GiB), or none for no limit. " + redelivered

	case errors.Is(err, sqsx.ErrInvalidPointer):
		return fmt.Sprintf("the message is marked as stored in S3 (it has an %s or %s attribute) but its body is not a valid S3 pointer: %v",
				sqsx.AttributeName, sqsx.LegacyAttributeName, err),
			"It was not sent by an extended client, or was altered. " + redelivered

	case errors.Is(err, sqsx.ErrInvalidReceiptHandle) || code == "ReceiptHandleIsInvalid" || code == "InvalidReceiptHandle":
		return fmt.Sprintf("the receipt handle is not valid: %v", err),
			"Pass the handle exactly as 'sqsx receive' printed it (ReceiptHandle with --output json). A handle is good only until the message is received again."

	case errors.As(err, &ierr):
		switch {
		case errors.Is(err, sqsx.ErrTooManyAttributes):
			return err.Error(), fmt.Sprintf("A message stored in S3 may have at most %d attributes: pass fewer --attr flags.", sqsx.MaxAttributes-1)
		case errors.Is(err, sqsx.ErrAttributesTooLarge):
			return err.Error(), "Move data from the --attr values into the body, or raise --threshold."
		case errors.Is(err, sqsx.ErrEmptyBody):
			return err.Error(), "SQS does not accept empty messages: send a non-empty body."
		case errors.Is(err, sqsx.ErrNoBucket):
			return err.Error(), "Pass --bucket: the S3 bucket that receives bodies too large for the service."
		}
		return err.Error(), "Check the flags; run the command with -h for usage."

	case errors.As(err, &noQ) || code == "NonExistentQueue" || code == "QueueDoesNotExist":
		return fmt.Sprintf("the queue does not exist: %v", err),
			"Check --queue-url or --queue, and the region (--region, AWS_REGION); or create the queue."

	case errors.As(err, &sendE):
		env := "AWS_ENDPOINT_URL"
		switch service {
		case "SQS":
			env = "AWS_ENDPOINT_URL_SQS"
		case "S3":
			env = "AWS_ENDPOINT_URL_S3"
		case "SNS":
			env = "AWS_ENDPOINT_URL_SNS"
		}
		return fmt.Sprintf("could not reach %s: %v", service, err),
			fmt.Sprintf("Check that the endpoint is up and reachable, and that %s (or AWS_ENDPOINT_URL) and the region are right.", env)

	case errors.As(err, &credErr):
		return fmt.Sprintf("no usable AWS credentials: %v", err),
			"Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile with a profile that has credentials."

	case authCodes[code]:
		return fmt.Sprintf("%s rejected the credentials: %v", service, err),
			"Check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or --profile); a session token may have expired."

	case deniedCodes[code]:
		return fmt.Sprintf("%s refused the request: %v", service, err),
			fmt.Sprintf("Check the credentials (AWS_ACCESS_KEY_ID, --profile) and that they allow %s on this resource.", orDefault(op, "this operation"))

	case code == "NoSuchBucket":
		return fmt.Sprintf("the bucket does not exist: %v", err),
			"Create it, or pass an existing bucket with --bucket; check the region."

	case code == "NotImplemented":
		return fmt.Sprintf("the %s server does not implement %s: %v", service, orDefault(op, "this operation"), err),
			"Amazon's service does; this S3-compatible or local server lacks it. Point the AWS_ENDPOINT_URL_* variable at a server that has it."

	case service == "SNS" && code == "NotFound":
		return fmt.Sprintf("the topic does not exist: %v", err),
			"Check --topic-arn and the region (--region, AWS_REGION); or create the topic."

	case service == "SNS" && (code == "InvalidParameter" || code == "InvalidParameterValue"):
		return fmt.Sprintf("SNS refused the request: %v", err),
			"Check the flags against the topic: a FIFO topic needs --message-group-id, and --message-deduplication-id unless content-based deduplication is on; --subject must be ASCII text."

	case code == "InvalidMessageContents":
		return fmt.Sprintf("SQS refused the message body: %v", err),
			"SQS accepts only XML characters in a body sent in SQS: use --always-s3, or encode the body (e.g. base64)."

	case code == "InvalidParameterValue" || code == "MissingParameter" || code == "InvalidParameterCombination":
		return fmt.Sprintf("SQS refused the request: %v", err),
			"Check the flags against the queue: a FIFO queue needs --message-group-id, and --message-deduplication-id unless content-based deduplication is on; a standard queue takes no --message-deduplication-id."
	}
	return err.Error(), genericHint
}

// keptHint describes a send or publish that failed and left payloads in S3.
func keptHint(e *payload.KeptError) (msg, hint string) {
	msg, hint = describe(e.Err)
	if hint == genericHint {
		hint = ""
	}
	objs := make([]string, len(e.Pointers))
	for i, p := range e.Pointers {
		objs[i] = p.String()
	}
	list := strings.Join(objs, " ")
	if e.Ambiguous {
		return fmt.Sprintf("%s; the message may have been sent nonetheless, so its payload %s was kept", msg, list),
			joinLines(hint, "Check whether it arrived (e.g. 'sqsx peek' on the queue) before sending it again, which could deliver it twice. "+
				"If it did not, the payload is only storage: delete it (aws s3 rm "+list+") or let an S3 lifecycle rule expire it ('sqsx lifecycle').")
	}
	left := "may have been left in S3"
	if e.CleanupErr != nil {
		left = fmt.Sprintf("was left in S3 (deleting it failed: %v)", e.CleanupErr)
	}
	return fmt.Sprintf("%s; the message was not sent, and its payload %s %s", msg, list, left),
		joinLines(hint, "Delete it (aws s3 rm "+list+") or let an S3 lifecycle rule expire it ('sqsx lifecycle'), and send the message again.")
}

// genericHint is the advice for errors describe does not recognise.
const genericHint = "Run 'sqsx doctor' with the same --bucket and --queue-url to check the credentials, bucket and queue."

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
