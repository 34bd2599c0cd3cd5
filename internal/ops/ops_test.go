package ops

import (
	"testing"
	"time"
)

func TestPayloadLifetime(t *testing.T) {
	const h = time.Hour
	tests := map[string]struct {
		q    Queue
		want time.Duration
	}{
		"no dead-letter queue":       {Queue{Retention: 4 * 24 * h}, 4 * 24 * h},
		"standard, shorter DLQ":      {Queue{Retention: 4 * 24 * h, DeadLetter: &Queue{Retention: h}}, 4 * 24 * h},
		"standard, longer DLQ":       {Queue{Retention: h, DeadLetter: &Queue{Retention: 14 * 24 * h}}, 14 * 24 * h},
		"FIFO: the DLQ counts again": {Queue{Retention: h, FIFO: true, DeadLetter: &Queue{Retention: 2 * h}}, 3 * h},
	}
	for name, tt := range tests {
		if got := tt.q.PayloadLifetime(); got != tt.want {
			t.Errorf("%s: %v, want %v", name, got, tt.want)
		}
	}
}

func TestQueueARN(t *testing.T) {
	name, account, err := queueARN("arn:aws:sqs:eu-west-1:123456789012:dead.fifo")
	if err != nil || name != "dead.fifo" || account != "123456789012" {
		t.Errorf("queueARN = %q, %q, %v", name, account, err)
	}
	for _, bad := range []string{"", "dead", "arn:aws:sns:eu-west-1:123456789012:t", "arn:aws:sqs:eu-west-1::q", "arn:aws:sqs:eu-west-1:1:"} {
		if _, _, err := queueARN(bad); err == nil {
			t.Errorf("queueARN(%q) accepted", bad)
		}
	}
}
