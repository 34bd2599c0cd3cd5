// Package payload implements the parts of the extended-client wire format that
// every producer and consumer shares, and the S3 store that holds offloaded
// payloads.
//
// # Wire format
//
// An offloaded message carries, instead of its body, a JSON pointer to one S3
// object:
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]
//
// plus a Number message attribute (see [AttributeName] and
// [LegacyAttributeName]) whose value is the payload's size in bytes. This is the
// format of the AWS Java and Python extended clients: [EncodePointer] writes it
// exactly as Java does (compact), and [DecodePointer] accepts what every known
// writer produces (any JSON whitespace, the legacy class name, either key
// order).
//
// A consumer hands back receipt handles that also name the S3 object, so that
// deleting the message can delete the payload (see [ReceiptHandle]).
//
// # Security
//
// Pointers arrive in messages, and whoever can send to a queue chooses them.
// [DecodePointer] validates the bucket and key strictly, and [Store] only
// follows pointers into its allowed buckets (see [StoreOptions.AllowedBuckets]).
package payload
