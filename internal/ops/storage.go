package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3API is the part of the S3 client that this package uses.
type S3API interface {
	ListObjectsV2(ctx context.Context, params *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	ListMultipartUploads(ctx context.Context, params *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
	DeleteObjects(ctx context.Context, params *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
	AbortMultipartUpload(ctx context.Context, params *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// Object is a payload object.
type Object struct {
	Key          string
	Size         int64
	LastModified time.Time
}

// Upload is an incomplete multipart upload.
type Upload struct {
	Key       string
	UploadID  string `json:"UploadId"`
	Initiated time.Time
}

// Storage sums up the objects under a bucket and prefix.
type Storage struct {
	Bucket, Prefix string
	Objects        int64
	Bytes          int64
	// Oldest is the LastModified time of the oldest object; zero when
	// there is none.
	Oldest time.Time
}

// listObjects calls fn for each object under bucket and prefix.
func listObjects(ctx context.Context, c S3API, bucket, prefix string, fn func(Object)) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	p := s3.NewListObjectsV2Paginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			fn(Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)})
		}
	}
	return nil
}

// listUploads calls fn for each incomplete multipart upload under bucket
// and prefix.
func listUploads(ctx context.Context, c S3API, bucket, prefix string, fn func(Upload)) error {
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	p := s3.NewListMultipartUploadsPaginator(c, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing the multipart uploads of s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, u := range page.Uploads {
			fn(Upload{Key: aws.ToString(u.Key), UploadID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
	}
	return nil
}

// ReadStorage sums up the objects under bucket and prefix.
func ReadStorage(ctx context.Context, c S3API, bucket, prefix string) (*Storage, error) {
	s := &Storage{Bucket: bucket, Prefix: prefix}
	err := listObjects(ctx, c, bucket, prefix, func(o Object) {
		s.Objects++
		s.Bytes += o.Size
		if s.Oldest.IsZero() || o.LastModified.Before(s.Oldest) {
			s.Oldest = o.LastModified
		}
	})
	return s, err
}

// GCPlan is what a garbage collection of payloads would delete.
type GCPlan struct {
	Bucket, Prefix string
	// Cutoff: objects last modified, and uploads initiated, before it are
	// collected.
	Cutoff  time.Time
	Objects []Object
	Uploads []Upload
	// Kept counts the objects under the prefix that are not collected.
	Kept int64
}

// Bytes returns the size of the objects of the plan.
func (p *GCPlan) Bytes() int64 {
	var n int64
	for _, o := range p.Objects {
		n += o.Size
	}
	return n
}

// PlanGC lists the objects under bucket and prefix last modified before
// cutoff, and the incomplete multipart uploads initiated before it.
func PlanGC(ctx context.Context, c S3API, bucket, prefix string, cutoff time.Time) (*GCPlan, error) {
	p := &GCPlan{Bucket: bucket, Prefix: prefix, Cutoff: cutoff}
	err := listObjects(ctx, c, bucket, prefix, func(o Object) {
		if o.LastModified.Before(cutoff) {
			p.Objects = append(p.Objects, o)
		} else {
			p.Kept++
		}
	})
	if err != nil {
		return nil, err
	}
	err = listUploads(ctx, c, bucket, prefix, func(u Upload) {
		if u.Initiated.Before(cutoff) {
			p.Uploads = append(p.Uploads, u)
		}
	})
	return p, err
}

// maxDeleteObjects is the most keys one DeleteObjects call takes.
const maxDeleteObjects = 1000

// GCError is the failure to delete one object or abort one upload.
type GCError struct {
	Key      string
	UploadID string // of an upload that could not be aborted
	Code     string // S3's error code, if it gave one
	Err      error
}

func (e *GCError) Error() string {
	if e.UploadID != "" {
		return fmt.Sprintf("aborting the multipart upload %s of %s: %v", e.UploadID, e.Key, e.Err)
	}
	return fmt.Sprintf("deleting %s: %v", e.Key, e.Err)
}

func (e *GCError) Unwrap() error { return e.Err }

// GCResult is what ApplyGC did.
type GCResult struct {
	Deleted []string // keys of the objects deleted
	Aborted []Upload
	// Errors are the objects and uploads that failed; the others were
	// still deleted.
	Errors []*GCError
}

// ApplyGC deletes the objects of p, in batches of 1000, and aborts its
// uploads. It calls progress, if not nil, with the number of objects and
// uploads done so far. A failure to delete one object or abort one upload
// is recorded in the result and does not stop the others; the error is
// the first failure of a whole request, such as a cancelled ctx, after
// which nothing more is tried.
func ApplyGC(ctx context.Context, c S3API, p *GCPlan, progress func(done int)) (*GCResult, error) {
	r := &GCResult{}
	done := 0
	report := func(n int) {
		done += n
		if progress != nil {
			progress(done)
		}
	}
	for batch := range slices.Chunk(p.Objects, maxDeleteObjects) {
		ids := make([]s3types.ObjectIdentifier, len(batch))
		for i, o := range batch {
			ids[i] = s3types.ObjectIdentifier{Key: aws.String(o.Key)}
		}
		out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(p.Bucket),
			Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(false)},
		})
		if err != nil {
			return r, fmt.Errorf("deleting %d objects from bucket %s: %w", len(batch), p.Bucket, err)
		}
		for _, d := range out.Deleted {
			r.Deleted = append(r.Deleted, aws.ToString(d.Key))
		}
		for _, e := range out.Errors {
			r.Errors = append(r.Errors, &GCError{Key: aws.ToString(e.Key), Code: aws.ToString(e.Code), Err: errors.New(aws.ToString(e.Message))})
		}
		report(len(batch))
	}
	for _, u := range p.Uploads {
		_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(p.Bucket), Key: aws.String(u.Key), UploadId: aws.String(u.UploadID)})
		switch {
		case ctx.Err() != nil:
			return r, ctx.Err()
		case err != nil:
			r.Errors = append(r.Errors, &GCError{Key: u.Key, UploadID: u.UploadID, Err: err})
		default:
			r.Aborted = append(r.Aborted, u)
		}
		report(1)
	}
	return r, nil
}
