package outcome

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// answer is what the test server does with one request.
type answer func(w http.ResponseWriter, r *http.Request)

func status(code int, typ string) answer {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(code)
		w.Write([]byte(`{"__type":"com.amazonaws.sqs#` + typ + `","message":"test"}`))
	}
}

func reset(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.(*net.TCPConn).SetLinger(0)
	conn.Close()
}

func ok(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Write([]byte(`{"MessageId":"m1","MD5OfMessageBody":"098f6bcd4621d373cade4e832627b4f6"}`))
}

// send makes one SendMessage through a server that answers the attempts in
// turn (the last answer repeats), with up to 3 attempts.
func send(t *testing.T, answers ...answer) (*Tracker, int, error) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		answers[min(i, len(answers)-1)](w, r)
	}))
	defer srv.Close()
	return sendTo(t, srv.URL, &n)
}

func sendTo(t *testing.T, url string, n *atomic.Int32) (*Tracker, int, error) {
	t.Helper()
	client := sqs.New(sqs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(url),
		Credentials:      aws.AnonymousCredentials{},
		RetryMaxAttempts: 3,
	})
	var tr Tracker
	_, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{
		QueueUrl: aws.String(url + "/q"), MessageBody: aws.String("test"),
	}, func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, tr.Install) })
	return &tr, int(n.Load()), err
}

func TestTrackerSeesEveryAttempt(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		wantErr  bool
		definite bool
		sent     int
	}{
		{"success", []answer{ok}, false, false, 1},
		{"4xx is a rejection", []answer{status(400, "InvalidParameterValue")}, true, true, 1},
		{"403 is a rejection", []answer{status(403, "AccessDenied")}, true, true, 1},
		{"5xx may have landed", []answer{status(500, "InternalError")}, true, false, 3},
		{"5xx then 4xx: the first may have landed", []answer{status(500, "InternalError"), status(400, "InvalidParameterValue")}, true, false, 2},
		{"throttled then 4xx: both rejections", []answer{status(400, "RequestThrottled"), status(400, "InvalidParameterValue")}, true, true, 2},
		{"reset after the request may have landed", []answer{reset}, true, false, 3},
		{"reset, then success", []answer{reset, ok}, false, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, sent, err := send(t, tt.answers...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := tr.Definite(err); got != tt.definite {
				t.Errorf("Definite(%v) = %v, want %v", err, got, tt.definite)
			}
			if sent != tt.sent {
				t.Errorf("server saw %d requests, want %d", sent, tt.sent)
			}
		})
	}
}

func TestTrackerCountsUncertainAttempts(t *testing.T) {
	tr, _, err := send(t, status(503, "ServiceUnavailable"), reset, ok)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.Uncertain(); got != 3 {
		t.Errorf("Uncertain() = %d, want 3 (two lost answers and the success)", got)
	}
}

func TestTrackerDialRefusedIsDefinite(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close() // Nothing listens there now.
	tr, _, err := sendTo(t, url, new(atomic.Int32))
	if err == nil {
		t.Fatal("send to a closed port succeeded")
	}
	if !tr.Definite(err) {
		t.Errorf("Definite(%v) = false, want true: no request was written", err)
	}
}

func TestTrackerDeadlineAfterWriteIsAmbiguous(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(time.Second):
		}
	}))
	defer srv.Close()
	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var tr Tracker
	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(srv.URL + "/q"), MessageBody: aws.String("x")},
		func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, tr.Install) })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline", err)
	}
	if tr.Definite(err) {
		t.Error("a deadline after the request was written is definite; want ambiguous")
	}
}

func TestTrackerCancelledBeforeSendIsDefinite(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); ok(w, r) }))
	defer srv.Close()
	client := sqs.New(sqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: aws.AnonymousCredentials{}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var tr Tracker
	_, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(srv.URL + "/q"), MessageBody: aws.String("x")},
		func(o *sqs.Options) { o.APIOptions = append(o.APIOptions, tr.Install) })
	if err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	if n.Load() != 0 {
		t.Fatalf("the SDK wrote %d requests for a call cancelled before it began", n.Load())
	}
	if !tr.Definite(err) {
		t.Errorf("Definite(%v) = false with no request written, want true", err)
	}
}

func TestUntrackedErrors(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&types.QueueDoesNotExist{Message: aws.String("no")}, true},
		{&smithy.GenericAPIError{Code: "InternalError", Fault: smithy.FaultServer}, false},
		{errors.New("something"), false},
		{context.DeadlineExceeded, false},
		{nil, false},
	}
	for _, tt := range tests {
		var tr Tracker // never installed
		if got := tr.Definite(tt.err); got != tt.want {
			t.Errorf("untracked Definite(%v) = %v, want %v", tt.err, got, tt.want)
		}
		if got := Definite(tt.err); got != tt.want {
			t.Errorf("Definite(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
