package payload

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var _ LifecycleAPI = (*fakeLifecycle)(nil)

// fakeLifecycle is one bucket's lifecycle configuration. Without one, Get
// fails with NoSuchLifecycleConfiguration, as S3 does.
type fakeLifecycle struct {
	hasConfig bool
	rules     []s3types.LifecycleRule
	getErr    error // returned by Get instead, if set
	putErr    error // returned by Put instead, if set

	calls   []string
	buckets []string
	optFns  []int
	puts    []*s3.PutBucketLifecycleConfigurationInput
}

func (f *fakeLifecycle) GetBucketLifecycleConfiguration(ctx context.Context, params *s3.GetBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.GetBucketLifecycleConfigurationOutput, error) {
	f.calls = append(f.calls, "GetBucketLifecycleConfiguration")
	f.buckets = append(f.buckets, aws.ToString(params.Bucket))
	f.optFns = append(f.optFns, len(optFns))
	if f.getErr != nil {
		return nil, f.getErr
	}
	if !f.hasConfig {
		return nil, &smithy.OperationError{ServiceID: "S3", OperationName: "GetBucketLifecycleConfiguration",
			Err: &smithy.GenericAPIError{Code: "NoSuchLifecycleConfiguration", Message: "The lifecycle configuration does not exist"}}
	}
	return &s3.GetBucketLifecycleConfigurationOutput{Rules: f.rules}, nil
}

func (f *fakeLifecycle) PutBucketLifecycleConfiguration(ctx context.Context, params *s3.PutBucketLifecycleConfigurationInput, optFns ...func(*s3.Options)) (*s3.PutBucketLifecycleConfigurationOutput, error) {
	f.calls = append(f.calls, "PutBucketLifecycleConfiguration")
	f.buckets = append(f.buckets, aws.ToString(params.Bucket))
	f.optFns = append(f.optFns, len(optFns))
	f.puts = append(f.puts, params)
	if f.putErr != nil {
		return nil, f.putErr
	}
	f.hasConfig = true
	f.rules = params.LifecycleConfiguration.Rules
	return &s3.PutBucketLifecycleConfigurationOutput{}, nil
}

// lifecycleCmp compares SDK structs, which have an unexported marker field.
var lifecycleCmp = cmpopts.IgnoreUnexported(
	s3types.LifecycleRule{}, s3types.LifecycleRuleFilter{}, s3types.LifecycleExpiration{},
	s3types.AbortIncompleteMultipartUpload{}, s3types.Transition{},
)

// ourRule is the rule PutExpirationRule should install.
func ourRule(prefix string, days int32) s3types.LifecycleRule {
	return s3types.LifecycleRule{
		ID:                             aws.String(ExpirationRuleID(prefix)),
		Status:                         s3types.ExpirationStatusEnabled,
		Filter:                         &s3types.LifecycleRuleFilter{Prefix: aws.String(prefix)},
		Expiration:                     &s3types.LifecycleExpiration{Days: aws.Int32(days)},
		AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)},
	}
}

// otherRule is a rule someone else installed.
func otherRule(id string) s3types.LifecycleRule {
	return s3types.LifecycleRule{
		ID:          aws.String(id),
		Status:      s3types.ExpirationStatusEnabled,
		Filter:      &s3types.LifecycleRuleFilter{Prefix: aws.String("logs/")},
		Transitions: []s3types.Transition{{Days: aws.Int32(30), StorageClass: s3types.TransitionStorageClassGlacier}},
	}
}

func TestPutExpirationRule(t *testing.T) {
	cases := map[string]struct {
		hasConfig bool
		existing  []s3types.LifecycleRule
		prefix    string
		days      int32
		want      []s3types.LifecycleRule
	}{
		"no configuration": {
			prefix: "payloads/", days: 14,
			want: []s3types.LifecycleRule{ourRule("payloads/", 14)},
		},
		"whole bucket": {
			prefix: "", days: 1,
			want: []s3types.LifecycleRule{ourRule("", 1)},
		},
		"empty configuration": {
			hasConfig: true, prefix: "p/", days: 3,
			want: []s3types.LifecycleRule{ourRule("p/", 3)},
		},
		"other rules kept": {
			hasConfig: true, existing: []s3types.LifecycleRule{otherRule("archive-logs"), otherRule("cleanup")},
			prefix: "p/", days: 3,
			want: []s3types.LifecycleRule{otherRule("archive-logs"), otherRule("cleanup"), ourRule("p/", 3)},
		},
		"our rule replaced": {
			hasConfig: true, existing: []s3types.LifecycleRule{otherRule("a"), ourRule("p/", 30), otherRule("b")},
			prefix: "p/", days: 3,
			want: []s3types.LifecycleRule{otherRule("a"), otherRule("b"), ourRule("p/", 3)},
		},
		"our rule for another prefix kept": {
			hasConfig: true, existing: []s3types.LifecycleRule{ourRule("q/", 30)},
			prefix: "p/", days: 3,
			want: []s3types.LifecycleRule{ourRule("q/", 30), ourRule("p/", 3)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			api := &fakeLifecycle{hasConfig: tc.hasConfig, rules: tc.existing}
			before := append([]s3types.LifecycleRule(nil), tc.existing...)
			if err := PutExpirationRule(context.Background(), api, "my-bucket", tc.prefix, tc.days); err != nil {
				t.Fatalf("expect no error, got %v", err)
			}
			if diff := cmp.Diff([]string{"GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration"}, api.calls); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"my-bucket", "my-bucket"}, api.buckets); diff != "" {
				t.Errorf("buckets mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, api.rules, lifecycleCmp); diff != "" {
				t.Errorf("rules mismatch (-want +got):\n%s", diff)
			}
			// The configuration read is not modified in place.
			if diff := cmp.Diff(before, tc.existing, lifecycleCmp); diff != "" {
				t.Errorf("the rules read were modified (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPutExpirationRuleIdempotent(t *testing.T) {
	api := &fakeLifecycle{hasConfig: true, rules: []s3types.LifecycleRule{otherRule("keep-me")}}
	for _, days := range []int32{7, 7, 3} {
		if err := PutExpirationRule(context.Background(), api, "my-bucket", "payloads/", days); err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
	}
	want := []s3types.LifecycleRule{otherRule("keep-me"), ourRule("payloads/", 3)}
	if diff := cmp.Diff(want, api.rules, lifecycleCmp); diff != "" {
		t.Errorf("rules mismatch (-want +got):\n%s", diff)
	}
}

func TestPutExpirationRuleInvalidInput(t *testing.T) {
	cases := map[string]struct {
		bucket, prefix string
		days           int32
		want           string
	}{
		"empty bucket":      {"", "p/", 1, "bucket"},
		"uppercase bucket":  {"My_Bucket", "p/", 1, "bucket"},
		"prefix with ..":    {"my-bucket", "a/../b", 1, "prefix"},
		"prefix with space": {"my-bucket", "a b", 1, "prefix"},
		"leading slash":     {"my-bucket", "/p", 1, "prefix"},
		"zero days":         {"my-bucket", "p/", 0, "days"},
		"negative days":     {"my-bucket", "p/", -1, "days"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			api := &fakeLifecycle{}
			err := PutExpirationRule(context.Background(), api, tc.bucket, tc.prefix, tc.days)
			if err == nil {
				t.Fatal("expect an error, got nil")
			}
			if !strings.Contains(strings.ToLower(err.Error()), tc.want) {
				t.Errorf("expect an error about %v, got %v", tc.want, err)
			}
			if len(api.calls) != 0 {
				t.Errorf("expect no calls, got %v", api.calls)
			}
		})
	}
}

func TestPutExpirationRuleErrors(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
	cases := map[string]struct {
		api   *fakeLifecycle
		calls []string
		want  string
	}{
		"get fails": {
			api:   &fakeLifecycle{getErr: denied},
			calls: []string{"GetBucketLifecycleConfiguration"},
			want:  "reading the lifecycle configuration of my-bucket",
		},
		"put fails": {
			api:   &fakeLifecycle{putErr: denied},
			calls: []string{"GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration"},
			want:  "writing the lifecycle configuration of my-bucket",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := PutExpirationRule(context.Background(), tc.api, "my-bucket", "p/", 1)
			if !errors.Is(err, denied) {
				t.Fatalf("expect %v, got %v", denied, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("expect %q in %v", tc.want, err)
			}
			if diff := cmp.Diff(tc.calls, tc.api.calls); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPutExpirationRuleOptFns(t *testing.T) {
	api := &fakeLifecycle{}
	fn := func(*s3.Options) {}
	if err := PutExpirationRule(context.Background(), api, "my-bucket", "", 1, fn, fn); err != nil {
		t.Fatalf("expect no error, got %v", err)
	}
	if diff := cmp.Diff([]int{2, 2}, api.optFns); diff != "" {
		t.Errorf("optFns mismatch (-want +got):\n%s", diff)
	}
}

func TestExpirationRuleID(t *testing.T) {
	long := strings.Repeat("p", MaxKeyLength-36)
	cases := map[string]struct {
		prefix, want string
	}{
		"whole bucket": {"", "sqsx-expire-payloads"},
		"prefix":       {"payloads/sns-", "sqsx-expire-payloads:payloads/sns-"},
		"longest prefix": {
			long, ("sqsx-expire-payloads:" + long)[:255-17] + "~" + hashPrefix(long),
		},
		"prefix just fitting": {
			strings.Repeat("q", 255-len("sqsx-expire-payloads:")),
			"sqsx-expire-payloads:" + strings.Repeat("q", 255-len("sqsx-expire-payloads:")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := ValidateKeyPrefix(tc.prefix); err != nil {
				t.Fatalf("expect a valid prefix, got %v", err)
			}
			got := ExpirationRuleID(tc.prefix)
			if got != tc.want {
				t.Errorf("expect %v, got %v", tc.want, got)
			}
			if len(got) > 255 {
				t.Errorf("expect at most 255 characters, got %v", len(got))
			}
		})
	}
}

func TestExpirationRule(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied"}
	cases := map[string]struct {
		api     *fakeLifecycle
		want    *s3types.LifecycleRule
		wantErr error
	}{
		"found": {
			api:  &fakeLifecycle{hasConfig: true, rules: []s3types.LifecycleRule{otherRule("x"), ourRule("q/", 9), ourRule("p/", 5)}},
			want: func() *s3types.LifecycleRule { r := ourRule("p/", 5); return &r }(),
		},
		"other rules only":       {api: &fakeLifecycle{hasConfig: true, rules: []s3types.LifecycleRule{otherRule("x"), ourRule("q/", 9)}}},
		"no configuration":       {api: &fakeLifecycle{}},
		"empty":                  {api: &fakeLifecycle{hasConfig: true}},
		"read error":             {api: &fakeLifecycle{getErr: denied}, wantErr: denied},
		"whole-bucket elsewhere": {api: &fakeLifecycle{hasConfig: true, rules: []s3types.LifecycleRule{ourRule("", 9)}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			fn := func(*s3.Options) {}
			got, err := ExpirationRule(context.Background(), tc.api, "my-bucket", "p/", fn)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("expect %v, got %v", tc.wantErr, err)
			}
			if diff := cmp.Diff(tc.want, got, lifecycleCmp); diff != "" {
				t.Errorf("rule mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"GetBucketLifecycleConfiguration"}, tc.api.calls); diff != "" {
				t.Errorf("calls mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]int{1}, tc.api.optFns); diff != "" {
				t.Errorf("optFns mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestPutThenExpirationRule: the rule PutExpirationRule installs is the one
// ExpirationRule finds.
func TestPutThenExpirationRule(t *testing.T) {
	api := &fakeLifecycle{}
	for _, prefix := range []string{"", "a/", "b/"} {
		if err := PutExpirationRule(context.Background(), api, "my-bucket", prefix, int32(len(prefix)+1)); err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
	}
	for _, prefix := range []string{"", "a/", "b/"} {
		got, err := ExpirationRule(context.Background(), api, "my-bucket", prefix)
		if err != nil {
			t.Fatalf("expect no error, got %v", err)
		}
		want := ourRule(prefix, int32(len(prefix)+1))
		if diff := cmp.Diff(&want, got, lifecycleCmp); diff != "" {
			t.Errorf("prefix %q: rule mismatch (-want +got):\n%s", prefix, diff)
		}
	}
}

func hashPrefix(p string) string {
	sum := sha256.Sum256([]byte(p))
	return hex.EncodeToString(sum[:8])
}

// TestExpirationRuleIDLongPrefixesDistinct: prefixes that share their first
// 234 characters still get different rule IDs.
func TestExpirationRuleIDLongPrefixesDistinct(t *testing.T) {
	a := strings.Repeat("p", 300) + "a"
	b := strings.Repeat("p", 300) + "b"
	ida, idb := ExpirationRuleID(a), ExpirationRuleID(b)
	if ida == idb || len(ida) != 255 || len(idb) != 255 {
		t.Fatalf("expect two distinct 255-character IDs, got %q and %q", ida, idb)
	}
}
