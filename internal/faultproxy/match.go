package faultproxy

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// A Matcher reports whether a rule or an injection applies to a request. It
// is called with the proxy's lock held, so it must be quick and must not call
// the Proxy's methods. It must not modify the request or read its body: for a
// small form-encoded request (the query protocol of SNS) the proxy has already
// parsed the body into r.PostForm, which r.FormValue also reads. A nil Matcher
// matches every request.
type Matcher func(r *http.Request) bool

func (m Matcher) match(r *http.Request) bool { return m == nil || m(r) }

// S3 matches S3 requests for the given operations, named as the SDK names
// them ("GetObject", "UploadPart", "DeleteObjects"; see [Operation]), or for
// any operation if none is given. It panics if a name is not an operation
// name, such as "s3:GetObject" or "getObject", which would otherwise never
// match.
func S3(ops ...string) Matcher { return service("s3", ops) }

// SQS matches SQS requests for the given operations ("SendMessage",
// "ReceiveMessage"), or for any operation if none is given. It panics like
// [S3] on a malformed name.
func SQS(ops ...string) Matcher { return service("sqs", ops) }

// SNS matches SNS requests for the given operations ("Publish",
// "PublishBatch"), or for any operation if none is given. It panics like
// [S3] on a malformed name.
func SNS(ops ...string) Matcher { return service("sns", ops) }

func service(svc string, ops []string) Matcher {
	for _, op := range ops {
		if !isOpName(op) {
			panic(fmt.Sprintf("faultproxy: %q is not an operation name such as GetObject", op))
		}
	}
	ops = slices.Clone(ops)
	return func(r *http.Request) bool {
		s, op, _ := strings.Cut(Operation(r), ":")
		return s == svc && (len(ops) == 0 || slices.Contains(ops, op))
	}
}

// isOpName reports whether s looks like an AWS operation name: an upper-case
// letter followed by letters and digits.
func isOpName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// And matches a request that every one of ms matches.
func And(ms ...Matcher) Matcher {
	return func(r *http.Request) bool {
		for _, m := range ms {
			if !m.match(r) {
				return false
			}
		}
		return true
	}
}

// Or matches a request that at least one of ms matches.
func Or(ms ...Matcher) Matcher {
	return func(r *http.Request) bool {
		for _, m := range ms {
			if m.match(r) {
				return true
			}
		}
		return false
	}
}

// API versions of the query protocol, sent in every request's Version field.
const (
	snsVersion = "2010-03-31"
	sqsVersion = "2012-11-05"
)

// Operation names the AWS operation that r invokes as "service:Operation",
// for example "s3:GetObject", "sqs:SendMessage" or "sns:Publish", or returns
// "" when it cannot tell.
//
// SQS requests in the JSON protocol (what aws-sdk-go-v2 sends) are named by
// their X-Amz-Target header. Query-protocol requests (SNS, and SQS from older
// clients) are named by the Action field of the form body, which needs
// r.PostForm: the proxy fills it in before calling Matchers, other callers
// must parse the form themselves. S3 requests, recognised by the service in
// their SigV4 credential scope, are named by the x-id query parameter that
// aws-sdk-go-v2 adds to the operations whose URL alone is ambiguous, or else
// by their method, path and subresource. Only path-style S3 URLs
// (/bucket/key) are understood; against a loopback address the SDK uses no
// other.
func Operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if op, ok := strings.CutPrefix(t, "AmazonSQS."); ok {
			return "sqs:" + op
		}
		return ""
	}
	if action := r.PostForm.Get("Action"); action != "" {
		switch r.PostForm.Get("Version") {
		case snsVersion:
			return "sns:" + action
		case sqsVersion:
			return "sqs:" + action
		}
		if s := credentialService(r); s == "sns" || s == "sqs" {
			return s + ":" + action
		}
		return ""
	}
	if credentialService(r) == "s3" {
		if op := s3Operation(r); op != "" {
			return "s3:" + op
		}
	}
	return ""
}

// serviceOf returns the service part of an operation name, or "".
func serviceOf(op string) string {
	s, _, _ := strings.Cut(op, ":")
	return s
}

// credentialService returns the service of the SigV4 credential scope
// (AKID/date/region/service/aws4_request) in the Authorization header or, for
// a presigned URL, the X-Amz-Credential query parameter.
func credentialService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, after, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(after, ",")
	}
	parts := strings.Split(strings.TrimSpace(cred), "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// s3Subresources names the bucket operations on a subresource by method,
// in the order they are looked for. DELETE ?lifecycle is
// DeleteBucketLifecycle, without "Configuration".
var s3Subresources = []struct {
	sub      string
	byMethod map[string]string
}{
	{"delete", map[string]string{http.MethodPost: "DeleteObjects"}},
	{"uploads", map[string]string{http.MethodGet: "ListMultipartUploads"}},
	{"versions", map[string]string{http.MethodGet: "ListObjectVersions"}},
	{"lifecycle", map[string]string{http.MethodGet: "GetBucketLifecycleConfiguration", http.MethodPut: "PutBucketLifecycleConfiguration", http.MethodDelete: "DeleteBucketLifecycle"}},
	{"encryption", map[string]string{http.MethodGet: "GetBucketEncryption", http.MethodPut: "PutBucketEncryption", http.MethodDelete: "DeleteBucketEncryption"}},
	{"tagging", map[string]string{http.MethodGet: "GetBucketTagging", http.MethodPut: "PutBucketTagging", http.MethodDelete: "DeleteBucketTagging"}},
	{"policy", map[string]string{http.MethodGet: "GetBucketPolicy", http.MethodPut: "PutBucketPolicy", http.MethodDelete: "DeleteBucketPolicy"}},
	{"versioning", map[string]string{http.MethodGet: "GetBucketVersioning", http.MethodPut: "PutBucketVersioning"}},
	{"acl", map[string]string{http.MethodGet: "GetBucketAcl", http.MethodPut: "PutBucketAcl"}},
	{"location", map[string]string{http.MethodGet: "GetBucketLocation"}},
}

// s3Operation names an S3 request from its x-id parameter, or else from its
// method, path-style URL and subresource.
func s3Operation(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("x-id"); id != "" {
		return id
	}
	has := func(k string) bool { _, ok := q[k]; return ok }
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case bucket == "":
		if r.Method == http.MethodGet {
			return "ListBuckets"
		}
		return ""
	case key == "":
		for _, s := range s3Subresources {
			if has(s.sub) {
				return s.byMethod[r.Method]
			}
		}
		switch r.Method {
		case http.MethodGet:
			if q.Get("list-type") == "2" {
				return "ListObjectsV2"
			}
			return "ListObjects"
		case http.MethodHead:
			return "HeadBucket"
		case http.MethodPut:
			return "CreateBucket"
		case http.MethodDelete:
			return "DeleteBucket"
		}
		return ""
	}
	copySource := r.Header.Get("X-Amz-Copy-Source") != ""
	switch r.Method {
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return "ListParts"
		case has("tagging"):
			return "GetObjectTagging"
		case has("acl"):
			return "GetObjectAcl"
		case has("attributes"):
			return "GetObjectAttributes"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case has("uploadId") && has("partNumber") && copySource:
			return "UploadPartCopy"
		case has("uploadId") && has("partNumber"):
			return "UploadPart"
		case has("tagging"):
			return "PutObjectTagging"
		case has("acl"):
			return "PutObjectAcl"
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case has("uploads"):
			return "CreateMultipartUpload"
		case has("uploadId"):
			return "CompleteMultipartUpload"
		case has("restore"):
			return "RestoreObject"
		}
		return ""
	case http.MethodDelete:
		switch {
		case has("uploadId"):
			return "AbortMultipartUpload"
		case has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	}
	return ""
}
