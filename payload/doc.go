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
// # Streaming
//
// [Store.Put] and [Store.Get] hold a whole payload in memory, as a string.
// [Store.PutReader] and [Store.Open] stream it instead, with memory bounded
// whatever the payload's size. PutReader reads an io.Reader of unknown length:
// a stream that ends within the first part ([StoreOptions.PartSize], 8 MiB by
// default) is stored with one PutObject, a longer one with an S3 multipart
// upload whose parts are read into at most UploadConcurrency+1 buffers and
// uploaded UploadConcurrency at a time. A failed or cancelled multipart
// upload is aborted, so that no parts are left behind. Open returns the
// object's body as it arrives from S3; the caller must Close it.
//
// # Integrity
//
// Every object the store writes carries a CRC32C checksum
// ([UploadChecksumAlgorithm]) of all its bytes, and every read verifies the
// checksum S3 returns. CRC32C rather than SHA-256: Go computes it in hardware
// (SSE 4.2 on amd64, the CRC instructions on arm64), about 30 GB/s on one
// core of the development machine against 2 GB/s for SHA-256 (with the SHA
// extensions) and for CRC64NVME (in software); and S3 can combine CRC32C part
// checksums into a checksum of the whole object (the FULL_OBJECT checksum
// type), which it cannot do for SHA-256 (a multipart object then only has a
// checksum of its part checksums, which a reader cannot check against the
// bytes it reads). A CRC detects corruption, not tampering: anyone who can
// write the object can also write a matching checksum.
//
// On upload:
//   - Put, PutAt and a PutReader stream that fits in one part: PutObject with
//     ChecksumAlgorithm CRC32C. The SDK computes the checksum as it sends the
//     body (in a header over HTTP, in a trailer over HTTPS) and S3 rejects
//     the upload if the bytes it received do not match.
//   - A longer PutReader stream: CreateMultipartUpload with ChecksumAlgorithm
//     CRC32C and ChecksumType FULL_OBJECT; each UploadPart carries the part's
//     CRC32C, which S3 checks, and CompleteMultipartUpload carries the CRC32C
//     of the whole stream, computed by the store as it read it, which S3
//     checks against the object it assembled, together with the total size.
//
// S3 refusing an upload's checksum (BadDigest) is reported as
// [ErrChecksumMismatch].
//
// On read, Get and Open ask for the object's checksums (ChecksumMode
// ENABLED), compute the full-object checksum of the bytes as they are read,
// and fail with [ErrChecksumMismatch] at the end if it differs from the one S3
// stored. CRC32C, CRC64NVME, CRC32, SHA-256, SHA-512 and SHA-1 checksums are
// verified, so objects written by other clients (S3 stores CRC64NVME by
// default) are checked too. An object without a checksum, or with only a
// composite one (a multipart object uploaded by another client without the
// FULL_OBJECT type, whose checksum S3 reports as "<checksum of part
// checksums>-<parts>"), is read without verification: the reader does not
// know the part boundaries the composite checksum was computed over.
//
// The AWS SDK validates responses too (by default, and whenever ChecksumMode
// is ENABLED): it computes the checksum of a GetObject body as it is read and
// returns an error in place of io.EOF on a mismatch. It skips composite
// checksums (those containing "-"), and its error type is unexported, so
// callers could not test for it; the store's own check runs alongside and
// turns a mismatch into ErrChecksumMismatch, with the SDK's error wrapped
// too.
//
// # Security
//
// Pointers arrive in messages, and whoever can send to a queue chooses them.
// [DecodePointer] validates the bucket and key strictly, and [Store] only
// follows pointers into its allowed buckets (see [StoreOptions.AllowedBuckets]).
package payload
