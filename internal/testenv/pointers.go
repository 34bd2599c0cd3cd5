package testenv

import "github.com/sqsx/sqsx/payload"

// LeftPointers returns the objects err says are left in S3: those of every
// *payload.KeptError in its tree, and those of every *payload.Error of a
// payload delete (the message was deleted, its payload was not). The soaks
// hold the objects left in the bucket at the end against these.
func LeftPointers(err error) []payload.Pointer {
	ps := payload.KeptPointers(err)
	var walk func(error)
	walk = func(err error) {
		if pe, ok := err.(*payload.Error); ok && (pe.Op == "DeleteObject" || pe.Op == "DeleteObjects") && pe.Key != "" {
			ps = append(ps, payload.Pointer{Bucket: pe.Bucket, Key: pe.Key})
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			if e := u.Unwrap(); e != nil {
				walk(e)
			}
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return ps
}
