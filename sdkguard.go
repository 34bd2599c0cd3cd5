package sqsx

import (
	"context"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/middleware"
)

// dropResultsWithoutID is the per-call option of SendMessageBatch that keeps
// a garbled answer from panicking the SDK: its checksum validation of the
// answer (aws-sdk-go-v2 sqs v1.52.11 to v1.53.0 at least) dereferences the
// Id of every successful entry, and one changed bit in the key "Id" leaves
// it nil. Added at the end of the Initialize step, the middleware sees the
// answer before the validation, which the SDK adds at its front, and drops
// such entries: they name no entry of the request, whose own entry is then
// named neither successful nor failed, and SendMessageBatch reports it so.
func dropResultsWithoutID(o *sqs.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("sqsxDropResultsWithoutID",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if res, ok := out.Result.(*sqs.SendMessageBatchOutput); ok && res != nil {
					res.Successful = slices.DeleteFunc(res.Successful, func(e types.SendMessageBatchResultEntry) bool { return e.Id == nil })
				}
				return out, md, err
			}), middleware.After)
	})
}
