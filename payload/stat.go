package payload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Info describes a stored payload without its bytes.
type Info struct {
	// Size is the payload's length in bytes.
	Size int64
	// Shared reports the fan-out marker (FanoutMetadataKey): several
	// consumers read the payload and none may delete it.
	Shared bool
}

// Stat returns a payload's size and whether it is shared, reading at most
// one byte of it: a GetObject of the range 0-0, which needs no permission
// beyond what Get needs (HeadObject would be a separate one to grant). It
// refuses disallowed buckets and maps a missing object to ErrNotFound, as Get
// does.
func (s *Store) Stat(ctx context.Context, p Pointer) (Info, error) {
	if err := s.Check(p); err != nil {
		return Info{}, s.wrap("GetObject", p, err)
	}
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(p.Bucket),
		Key:    aws.String(p.Key),
		Range:  aws.String("bytes=0-0"),
	}, append(slices.Clone(s.opts.S3ClientOptions), func(o *s3.Options) {
		// A range has no checksum to validate; don't ask for one.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})...)
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "InvalidRange" {
		// Only an empty object has no byte 0: read it whole (it is empty).
		r, md, err := s.open(ctx, p, 0)
		if err != nil {
			return Info{}, err
		}
		r.Close()
		return Info{Size: 0, Shared: isShared(md)}, nil
	}
	if err != nil {
		return Info{}, s.wrap("GetObject", p, err)
	}
	io.Copy(io.Discard, out.Body)
	out.Body.Close()
	size, err := totalFromContentRange(aws.ToString(out.ContentRange))
	if err != nil {
		return Info{}, s.wrap("GetObject", p, err)
	}
	return Info{Size: size, Shared: isShared(out.Metadata)}, nil
}

// totalFromContentRange parses the total length from "bytes 0-0/1234".
func totalFromContentRange(cr string) (int64, error) {
	_, total, ok := strings.Cut(cr, "/")
	if !ok || total == "*" {
		return 0, fmt.Errorf("no object length in Content-Range %q", cr)
	}
	n, err := strconv.ParseInt(total, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad object length in Content-Range %q", cr)
	}
	return n, nil
}
