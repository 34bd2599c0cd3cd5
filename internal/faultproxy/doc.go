// Package faultproxy is a reverse proxy for tests that sits between an AWS SDK
// client and a local server (versitygw for S3, fauxqs for SQS and SNS; see
// scripts/servers.sh) and injects the faults real networks and services
// produce: errors, resets, stalls, truncated and corrupted responses.
//
// Point a client's BaseEndpoint at [Proxy.URL]; the proxy forwards every
// request to its target unchanged, Host header included, so SigV4
// signatures still verify:
//
//	p := faultproxy.Start(t, os.Getenv("AWS_ENDPOINT_URL_SQS"), func(o *faultproxy.Options) {
//		o.Seed = 42
//		o.Rules = []faultproxy.Rule{{
//			Match: faultproxy.SQS("SendMessage"),
//			Modes: []faultproxy.Mode{faultproxy.ErrorAfter, faultproxy.ResetAfter},
//			Rate:  0.1,
//		}}
//	})
//	client := sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(p.URL()) })
//
// # Faults
//
// Each [Mode] is one fault. ErrorBefore, ResetBefore and Forbidden answer
// without forwarding: the server never sees the request. ErrorAfter,
// ResetAfter, SlowAfter, Truncate and BitFlip forward it first, so it takes
// effect on the server whatever the client is told: these are the faults
// that test idempotency and cleanup. Error bodies are in the format of the
// request's service, so the SDK parses them as it would the server's own.
//
// # Choosing faults
//
// Random faults come from [Rule]s: the first rule that matches a request
// decides, drawing from a random source seeded with [Options.Seed], whether
// it gets a fault and which. With the same seed the same sequence of
// requests gets the same faults; with concurrent requests the sequence
// depends on their timing, so a soak test should log its seed and
// [Proxy.Stats] or [Proxy.Events] rather than expect a replay to match.
//
// [Proxy.Inject] gives one mode to the next n matching requests, ahead of the
// rules: for regression tests that need one fault at one place. The rules
// can be replaced while requests run ([Proxy.SetRules]) and all faults
// suspended ([Proxy.Disable]), for example for a soak test's drain phase.
//
// [Matcher]s select requests by operation: [S3], [SQS] and [SNS] take
// operation names as the SDK spells them, and [Operation] names any request.
//
// # Memory and streaming
//
// Requests and responses that get no fault stream through: a 100 MiB object
// is never held in memory. The proxy reads into memory only form-encoded
// request bodies up to [Options.MaxFormBody], to match SNS operations, and for
// BitFlip and Truncate the first [Options.MaxBuffer] bytes of the response.
//
// # Closing
//
// [Proxy.Close] waits for the requests in flight, but not forever: see its
// documentation. [Start] closes the proxy when the test ends.
package faultproxy
