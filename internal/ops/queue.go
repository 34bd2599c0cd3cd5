package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSAPI is the part of the SQS client that this package uses.
type SQSAPI interface {
	GetQueueAttributes(ctx context.Context, params *sqs.GetQueueAttributesInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	GetQueueUrl(ctx context.Context, params *sqs.GetQueueUrlInput, optFns ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
}

// Queue is what SQS reports of a queue.
type Queue struct {
	URL string
	ARN string
	// Visible, InFlight and Delayed are SQS's approximate counts of
	// messages available, received and not yet deleted, and not yet
	// delivered.
	Visible, InFlight, Delayed int64
	// Retention is the queue's MessageRetentionPeriod.
	Retention time.Duration
	FIFO      bool
	// DeadLetter is the queue's dead-letter queue, from its redrive
	// policy, or nil when it has none.
	DeadLetter *Queue
	// MaxReceiveCount is how many receives move a message to DeadLetter.
	MaxReceiveCount int
}

// ReadQueue returns what SQS reports of the queue at url and, when it has a
// redrive policy, of its dead-letter queue.
func ReadQueue(ctx context.Context, c SQSAPI, url string) (*Queue, error) {
	q, policy, err := readQueue(ctx, c, url)
	if err != nil || policy == "" {
		return q, err
	}
	var rp struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"` // a number, or a string of one
	}
	if err := json.Unmarshal([]byte(policy), &rp); err != nil {
		return nil, fmt.Errorf("queue %s: reading its RedrivePolicy %q: %w", url, policy, err)
	}
	q.MaxReceiveCount, _ = strconv.Atoi(strings.Trim(string(rp.MaxReceiveCount), `"`))
	name, account, err := queueARN(rp.DeadLetterTargetArn)
	if err != nil {
		return nil, fmt.Errorf("queue %s: its RedrivePolicy's deadLetterTargetArn: %w", url, err)
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name), QueueOwnerAWSAccountId: aws.String(account)})
	if err != nil {
		return nil, fmt.Errorf("looking up the dead-letter queue %s: %w", rp.DeadLetterTargetArn, err)
	}
	if q.DeadLetter, _, err = readQueue(ctx, c, aws.ToString(out.QueueUrl)); err != nil {
		return nil, fmt.Errorf("reading the dead-letter queue: %w", err)
	}
	return q, nil
}

// readQueue returns the attributes of the queue at url, and its redrive
// policy.
func readQueue(ctx context.Context, c SQSAPI, url string) (*Queue, string, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll},
	})
	if err != nil {
		return nil, "", fmt.Errorf("reading the attributes of queue %s: %w", url, err)
	}
	a := out.Attributes
	count := func(name types.QueueAttributeName) int64 {
		n, _ := strconv.ParseInt(a[string(name)], 10, 64)
		return n
	}
	q := &Queue{
		URL:       url,
		ARN:       a[string(types.QueueAttributeNameQueueArn)],
		Visible:   count(types.QueueAttributeNameApproximateNumberOfMessages),
		InFlight:  count(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		Delayed:   count(types.QueueAttributeNameApproximateNumberOfMessagesDelayed),
		Retention: time.Duration(count(types.QueueAttributeNameMessageRetentionPeriod)) * time.Second,
		FIFO:      a[string(types.QueueAttributeNameFifoQueue)] == "true" || strings.HasSuffix(url, ".fifo"),
	}
	if q.Retention <= 0 {
		return nil, "", fmt.Errorf("queue %s reports no MessageRetentionPeriod", url)
	}
	return q, a[string(types.QueueAttributeNameRedrivePolicy)], nil
}

// queueARN returns the name and account of an SQS queue ARN,
// arn:PARTITION:sqs:REGION:ACCOUNT:NAME.
func queueARN(arn string) (name, account string, err error) {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" || p[4] == "" || p[5] == "" {
		return "", "", fmt.Errorf("%q is not an SQS queue ARN", arn)
	}
	return p[5], p[4], nil
}

// PayloadLifetime returns how long after it is sent a message of q can
// still be in q or in its dead-letter queue: the retention period, or, with
// a dead-letter queue, the longer of the two periods (standard queues keep a
// message's enqueue time when it moves) or their sum (FIFO queues restart
// it).
func (q *Queue) PayloadLifetime() time.Duration {
	d := q.DeadLetter
	switch {
	case d == nil:
		return q.Retention
	case q.FIFO:
		return q.Retention + d.Retention
	}
	return max(q.Retention, d.Retention)
}
