// Package sqsxtest provides in-memory fakes of SQS, SNS and S3 for testing
// code that uses sqsx, snsx and payload, and for running examples offline.
//
// [SQS] implements sqsx.SQSAPI, [S3] implements sqsx.S3API and
// payload.S3API, and [SNS] implements snsx.SNSAPI. They keep what they are
// sent as the real services would, so they speak the extended format
// unchanged: an offloaded message is an S3 pointer in the SQS fake and
// an object in the S3 fake, and a message published to the SNS fake reaches
// the subscribed queues of an SQS fake, raw or in the SNS JSON envelope.
//
// A test or an example swaps the SDK clients for the fakes:
//
//	sqsClient, s3Client := sqsxtest.New() // sqs.NewFromConfig(cfg), s3.NewFromConfig(cfg) in production
//	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
//		o.Bucket = "my-payload-bucket"
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	_, err = client.SendMessage(ctx, &sqs.SendMessageInput{
//		QueueUrl:    aws.String("https://sqs.us-east-1.amazonaws.com/123456789012/my-queue"),
//		MessageBody: aws.String(strings.Repeat("x", 300*1024)),
//	})
//	fmt.Println(s3Client.Keys(), sqsClient.Log.Calls()) // [my-payload-bucket/…] [PutObject SendMessage]
//
// # Recording
//
// Every operation is recorded in a [Log] before it does anything else, with
// its input and the per-call option functions. Fakes that share a Log (see
// [New] and [NewSNS]) record into it in order, so a test can assert the
// sequence of calls across services, such as
// ["PutObject", "SendMessage"]. [Params] returns the inputs of one operation.
//
// # Failures
//
// Each operation has an override field, such as SQS.SendMessageFn, to inject
// failures or canned results. An override is called after the call is
// recorded and after the context is checked; if it returns a nil output and a
// nil error, the fake goes on to do what it does by default. Errors an
// override returns are passed to the caller unchanged; errors the fakes
// produce themselves, including a done context's, are wrapped in a
// *smithy.OperationError, as the SDK does, so errors.As finds the service's
// error type (*types.QueueDoesNotExist, *s3types.NoSuchKey, …) and errors.Is
// finds context.Canceled.
//
// # Concurrency
//
// The fakes are safe for concurrent use. Set the override fields and other
// configuration before the first call.
package sqsxtest
