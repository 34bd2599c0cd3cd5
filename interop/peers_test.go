//go:build interop

package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/internal/testenv"
)

// A peer runs the jobs of a spec as a producer ("produce", "publish") or a
// consumer ("consume") and reports a result per job.
type peer interface {
	run(ctx context.Context, command string, spec Spec) (Results, error)
}

// execPeer runs a driver program: argv plus "--spec FILE --out FILE".
type execPeer struct {
	dir  string
	argv func(command string) []string
}

func (p execPeer) run(ctx context.Context, command string, spec Spec) (Results, error) {
	in := filepath.Join(p.dir, command+"-spec.json")
	out := filepath.Join(p.dir, command+"-out.json")
	data, err := json.Marshal(spec)
	if err != nil {
		return Results{}, err
	}
	if err := os.WriteFile(in, data, 0o644); err != nil {
		return Results{}, err
	}
	argv := append(p.argv(command), "--spec", in, "--out", out)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return Results{}, fmt.Errorf("%v: %v\n%s", argv, err, stderr.String())
	}
	var res Results
	data, err = os.ReadFile(out)
	if err == nil {
		err = json.Unmarshal(data, &res)
	}
	if err != nil {
		return Results{}, fmt.Errorf("%v: reading its results: %v\n%s", argv, err, stderr.String())
	}
	return res, nil
}

// goPeer is sqsx itself, with default Options and the job's bucket, running
// the jobs concurrently.
type goPeer struct {
	env *testenv.Clients
}

func (p goPeer) run(ctx context.Context, command string, spec Spec) (Results, error) {
	res := Results{Results: map[string]Result{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, job := range spec.Jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r Result
			client, err := sqsx.New(p.env.SQS, p.env.S3, func(o *sqsx.Options) { o.Bucket = job.Bucket })
			switch {
			case err != nil:
				r.Error = err.Error()
			case command == "produce":
				produceGo(ctx, client, job, &r)
			case command == "consume":
				if err := consumeGo(ctx, client, job, &r); err != nil {
					r.Error = err.Error()
				}
			default:
				r.Error = "sqsx does not " + command
			}
			mu.Lock()
			res.Results[job.ID] = r
			mu.Unlock()
		}()
	}
	wg.Wait()
	return res, nil
}

func produceGo(ctx context.Context, c *sqsx.Client, job Job, r *Result) {
	if job.Batch {
		var entries []types.SendMessageBatchRequestEntry
		for i, m := range job.Messages {
			entries = append(entries, types.SendMessageBatchRequestEntry{
				Id: aws.String(fmt.Sprint("e", i)), MessageBody: aws.String(m.Body), MessageAttributes: toSQS(m.Attributes),
			})
		}
		out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(job.QueueURL), Entries: entries})
		if err != nil {
			r.Error = err.Error()
			return
		}
		byID := map[string]Message{}
		for _, s := range out.Successful {
			byID[aws.ToString(s.Id)] = Message{MessageID: aws.ToString(s.MessageId)}
		}
		for _, f := range out.Failed {
			byID[aws.ToString(f.Id)] = Message{Error: aws.ToString(f.Code) + ": " + aws.ToString(f.Message)}
		}
		for i := range job.Messages {
			m, ok := byID[fmt.Sprint("e", i)]
			if !ok {
				m.Error = "no result for entry"
			}
			r.Messages = append(r.Messages, m)
		}
		return
	}
	for _, m := range job.Messages {
		out, err := c.SendMessage(ctx, &sqs.SendMessageInput{
			QueueUrl: aws.String(job.QueueURL), MessageBody: aws.String(m.Body), MessageAttributes: toSQS(m.Attributes),
			MessageGroupId: m.GroupID, MessageDeduplicationId: m.DedupID,
		})
		if err != nil {
			r.Messages = append(r.Messages, Message{Error: err.Error()})
			continue
		}
		r.Messages = append(r.Messages, Message{MessageID: aws.ToString(out.MessageId)})
	}
}

// consumeGo follows the consumer protocol of Job with an sqsx client.
func consumeGo(ctx context.Context, c *sqsx.Client, job Job, r *Result) error {
	receive := func(max int32) ([]types.Message, error) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(job.QueueURL), MaxNumberOfMessages: max, WaitTimeSeconds: 1, VisibilityTimeout: 20,
			MessageAttributeNames:       job.AttributeNames,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			return nil, err
		}
		return out.Messages, nil
	}
	del := func(handle *string) error {
		_, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(job.QueueURL), ReceiptHandle: handle})
		return err
	}
	var got []types.Message
	seen := map[string]bool{}
	for deadline := time.Now().Add(time.Duration(job.DeadlineSeconds) * time.Second); len(got) < job.Count && time.Now().Before(deadline); {
		msgs, err := receive(10)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if seen[aws.ToString(m.MessageId)] {
				continue
			}
			seen[aws.ToString(m.MessageId)] = true
			got = append(got, m)
			r.Messages = append(r.Messages, fromSQS(m))
			if job.DeleteEach {
				if err := del(m.ReceiptHandle); err != nil {
					return err
				}
			}
		}
	}
	if len(got) < job.Count {
		return fmt.Errorf("received %d of %d messages", len(got), job.Count)
	}
	if job.DeleteEach {
		msgs, err := receive(10)
		if err != nil {
			return err
		}
		r.Extra = aws.Int(len(msgs))
	}
	if !job.VisibilityCheck {
		return nil
	}
	first := got[0]
	vis := &Visibility{}
	r.Visibility = vis
	handle := first.ReceiptHandle
	if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(job.QueueURL), ReceiptHandle: handle, VisibilityTimeout: 0,
	}); err != nil {
		vis.ChangeError = err.Error()
	}
	for until := time.Now().Add(time.Duration(job.RedeliverSeconds) * time.Second); time.Now().Before(until) && vis.Redelivered == nil; {
		msgs, err := receive(1)
		if err != nil {
			return err
		}
		for _, m := range msgs {
			if aws.ToString(m.MessageId) == aws.ToString(first.MessageId) {
				rm := fromSQS(m)
				vis.Redelivered = &rm
				handle = m.ReceiptHandle
			}
		}
	}
	if err := del(handle); err != nil {
		vis.DeleteError = err.Error()
	}
	return nil
}

func toSQS(attrs map[string]Attribute) map[string]types.MessageAttributeValue {
	if len(attrs) == 0 {
		return nil
	}
	out := map[string]types.MessageAttributeValue{}
	for name, a := range attrs {
		out[name] = types.MessageAttributeValue{DataType: aws.String(a.Type), StringValue: a.String, BinaryValue: a.Binary}
	}
	return out
}

func fromSQS(m types.Message) Message {
	out := Message{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body), ReceiptHandle: aws.ToString(m.ReceiptHandle)}
	if g, ok := m.Attributes["MessageGroupId"]; ok {
		out.GroupID = aws.String(g)
	}
	if d, ok := m.Attributes["MessageDeduplicationId"]; ok {
		out.DedupID = aws.String(d)
	}
	for name, a := range m.MessageAttributes {
		if out.Attributes == nil {
			out.Attributes = map[string]Attribute{}
		}
		out.Attributes[name] = Attribute{Type: aws.ToString(a.DataType), String: a.StringValue, Binary: a.BinaryValue}
	}
	return out
}
