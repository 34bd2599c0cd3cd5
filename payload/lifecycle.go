package payload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// LifecycleAPI is an S3 client that can read and write a bucket's lifecycle
// configuration. *s3.Client satisfies it.
type LifecycleAPI interface {
	GetBucketLifecycleConfiguration(ctx context.Context, params *s3.GetBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error)
	PutBucketLifecycleConfiguration(ctx context.Context, params *s3.PutBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error)
}

var _ LifecycleAPI = (*s3.Client)(nil)

// ExpirationRuleID returns the ID of the lifecycle rule PutExpirationRule
// installs for prefix.
func ExpirationRuleID(prefix string) string {
	id := "sqsx-expire-payloads"
	if prefix != "" {
		id += ":" + prefix
	}
	// S3 limits rule IDs to 255 characters; keep long ones distinct with a
	// hash of the whole prefix.
	if len(id) > 255 {
		sum := sha256.Sum256([]byte(prefix))
		id = id[:255-17] + "~" + hex.EncodeToString(sum[:8])
	}
	return id
}

// PutExpirationRule makes bucket's lifecycle configuration expire the objects
// under prefix ("" for the whole bucket) days days after they are written,
// and abort incomplete multipart uploads under it after one day. This is the
// clean-up for payloads that consumers do not delete: those shared by the
// subscribers of an SNS topic, those kept by KeepPayloadsOnDelete, and any
// orphaned by a crash between upload and send.
//
// It is idempotent: the rule has a fixed ID (ExpirationRuleID), an existing
// rule with that ID is replaced, and every other rule is kept. It reads and
// then writes the whole configuration, so run it from one place at a time.
func PutExpirationRule(ctx context.Context, api LifecycleAPI, bucket, prefix string, days int32, optFns ...func(*s3.Options)) error {
	if err := ValidateBucketName(bucket); err != nil {
		return fmt.Errorf("payload: PutExpirationRule: %w", err)
	}
	if err := ValidateKeyPrefix(prefix); err != nil {
		return fmt.Errorf("payload: PutExpirationRule: %w", err)
	}
	if days < 1 {
		return fmt.Errorf("payload: PutExpirationRule: days must be at least 1, is %d", days)
	}
	var rules []s3types.LifecycleRule
	out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)}, optFns...)
	switch {
	case err == nil:
		rules = out.Rules
	case !isNoLifecycle(err):
		return fmt.Errorf("payload: reading the lifecycle configuration of %s: %w", bucket, err)
	}
	id := ExpirationRuleID(prefix)
	rules = slices.DeleteFunc(slices.Clone(rules), func(r s3types.LifecycleRule) bool { return aws.ToString(r.ID) == id })
	rules = append(rules, s3types.LifecycleRule{
		ID:                             aws.String(id),
		Status:                         s3types.ExpirationStatusEnabled,
		Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String(prefix)},
		Expiration:                     &s3types.LifecycleExpiration{Days: aws.Int32(days)},
		AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)},
	})
	if _, err := api.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(bucket),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	}, optFns...); err != nil {
		return fmt.Errorf("payload: writing the lifecycle configuration of %s: %w", bucket, err)
	}
	return nil
}

// ExpirationRule returns the rule PutExpirationRule installed for prefix, if
// any: for checks such as the CLI's doctor.
func ExpirationRule(ctx context.Context, api LifecycleAPI, bucket, prefix string, optFns ...func(*s3.Options)) (*s3types.LifecycleRule, error) {
	out, err := api.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)}, optFns...)
	if isNoLifecycle(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("payload: reading the lifecycle configuration of %s: %w", bucket, err)
	}
	id := ExpirationRuleID(prefix)
	for i, r := range out.Rules {
		if aws.ToString(r.ID) == id {
			return &out.Rules[i], nil
		}
	}
	return nil, nil
}

func isNoLifecycle(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchLifecycleConfiguration"
}
