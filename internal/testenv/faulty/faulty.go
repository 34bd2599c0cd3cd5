// Package faulty puts a fault-injecting proxy (internal/faultproxy) in front
// of each of the local S3 and SQS servers and gives SDK clients whose
// requests go through them, for the tests that check what the library does
// when the network breaks. The tests' own checks keep using the direct
// clients of testenv.
package faulty

import (
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"

	"github.com/sqsx/sqsx/internal/faultproxy"
	"github.com/sqsx/sqsx/internal/testenv"
)

// Options says which faults the proxies inject on their own. The zero value
// injects none: a test then injects with Proxy.Inject.
type Options struct {
	// Rate is the share of requests, to S3 and to SQS, that get a fault.
	Rate float64
	// Modes are the faults drawn from, for every request. S3 GetObject
	// requests may also get faultproxy.Forbidden.
	Modes []faultproxy.Mode
	// Seed seeds the S3 proxy's draws, and Seed+1 the SQS proxy's.
	Seed uint64
	// SlowDelay is how long faultproxy.SlowAfter holds an answer (default
	// faultproxy.DefaultSlowDelay).
	SlowDelay time.Duration
}

// Env is the proxies and the clients that go through them.
type Env struct {
	S3, SQS   *faultproxy.Proxy
	S3Client  *s3.Client
	SQSClient *sqs.Client
}

// Start starts the proxies in front of the servers env uses and closes them
// when t ends.
func Start(t testing.TB, env *testenv.Clients, o Options) *Env {
	t.Helper()
	var s3Rules, sqsRules []faultproxy.Rule
	if o.Rate > 0 {
		s3Rules = []faultproxy.Rule{
			{Name: "s3 reads", Match: faultproxy.S3("GetObject"), Modes: append(slices.Clip(o.Modes), faultproxy.Forbidden), Rate: o.Rate},
			{Name: "s3", Match: faultproxy.S3(), Modes: o.Modes, Rate: o.Rate},
		}
		sqsRules = []faultproxy.Rule{{Name: "sqs", Match: faultproxy.SQS(), Modes: o.Modes, Rate: o.Rate}}
	}
	proxy := func(target string, seed uint64, rules []faultproxy.Rule) *faultproxy.Proxy {
		return faultproxy.Start(t, target, func(po *faultproxy.Options) {
			po.Seed = seed
			po.SlowDelay = o.SlowDelay
			po.Rules = rules
		})
	}
	e := &Env{
		S3:  proxy(os.Getenv("AWS_ENDPOINT_URL_S3"), o.Seed, s3Rules),
		SQS: proxy(os.Getenv("AWS_ENDPOINT_URL_SQS"), o.Seed+1, sqsRules),
	}
	// The SDK's own warnings (a truncated body it could not discard) are
	// what the faults are for; they would only crowd the log.
	e.S3Client = s3.NewFromConfig(env.Config, func(so *s3.Options) {
		so.UsePathStyle = true
		so.BaseEndpoint = aws.String(e.S3.URL())
		so.Logger = logging.Nop{}
	})
	e.SQSClient = sqs.NewFromConfig(env.Config, func(so *sqs.Options) {
		so.BaseEndpoint = aws.String(e.SQS.URL())
		so.Logger = logging.Nop{}
	})
	return e
}

// Disable stops both proxies' faults; requests pass through unchanged.
func (e *Env) Disable() {
	e.S3.Disable()
	e.SQS.Disable()
}
