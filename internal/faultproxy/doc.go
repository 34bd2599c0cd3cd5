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
// Random faults come from rules (see [Rule]): the first rule that matches a
// request decides, drawing from a random source seeded with [Options.Seed],
// whether it gets a fault and which. With the same seed the same sequence of
// requests gets the same faults; with concurrent requests the sequence
// depends on their timing, so a soak test should log its seed and
// [Proxy.Stats] or [Proxy.Events] rather than expect a replay to match.
//
// [Proxy.Inject] gives one mode to the next n matching requests, ahead of the
// rules: for regression tests that need one fault at one place. The rules
// can be replaced while requests run ([Proxy.SetRules]) and all faults
// suspended ([Proxy.Disable]), for example for a soak test's drain phase.
//
// A [Matcher] selects requests: [S3], [SQS] and [SNS] match operations named
// as the SDK spells them, and [Operation] names any request.
//
// # What the SDK does with each fault
//
// Measured with aws-sdk-go-v2 v1.48 against the local servers (see
// integ_test.go, which checks the deterministic ones). The default retryer
// makes 3 attempts; "retried" means it uses them all on a fault that
// persists.
//
//   - ErrorBefore: a *smithy.GenericAPIError with code ServiceUnavailable and
//     HTTP status 503; retried.
//   - ErrorAfter: code InternalError, status 500 (for SNS a
//     *types.InternalErrorException); retried, and every attempt takes
//     effect: a SendMessage that fails 3 times leaves 3 copies in the queue.
//   - ResetBefore, ResetAfter: a *smithyhttp.RequestSendError ("connection
//     reset by peer"); retried. But a GET or HEAD on a reused connection is
//     first retried by Go's http.Transport, out of the SDK's sight and even
//     with RetryMaxAttempts = 1, on another connection: inject 2 for the SDK
//     to see one reset.
//   - SlowAfter: with a caller's deadline shorter than the delay, a
//     *smithy.CanceledError wrapping context.DeadlineExceeded; not retried,
//     and the request took effect.
//   - Truncate: a response with a body fails to decode: a
//     *smithy.DeserializationError wrapping io.ErrUnexpectedEOF, not
//     retried, though the request took effect. SNS's XML decoder stops after
//     the last field it needs, so a late cut goes unnoticed. GetObject
//     succeeds and reading its Body returns io.ErrUnexpectedEOF (the body is
//     the caller's to retry). A response without a body (PutObject, HEAD)
//     breaks off in its header block: a RequestSendError, retried.
//   - BitFlip: GetObject checks the CRC32 the SDK uploaded with the object:
//     the whole corrupt body is read, then Read returns the SDK's checksum
//     error ("checksum did not match"). SQS checks MD5OfMessageBody, so a
//     flip in a body or its MD5 is a checksum error and one in the JSON
//     syntax a DeserializationError; a flip elsewhere passes: a corrupt
//     MessageId or ReceiptHandle, a missing field, or a ReceiveMessage that
//     returns no messages while the ones received stay invisible until their
//     visibility timeout. SNS Publish mostly returns a corrupt MessageId.
//   - Forbidden: code AccessDenied, status 403 (for SNS a
//     *types.AuthorizationErrorException); not retried.
//
// The SDK logs a warning when it cannot drain a truncated response; set
// Logger to logging.Nop{} in the client's options to keep test output clean.
//
// # Latency
//
// [Options.Latency] delays every request before it is forwarded (or answered
// with a fault), as a network round trip to a real service would. Local
// servers answer in well under a millisecond, so a client's pipelining and
// batching have nothing to hide there; bench/consumerbench puts a proxy with
// a latency in front of each service to measure them as they would run
// against AWS. The delay is a lower bound on each request's time, not a
// model of bandwidth or of connection setup.
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
