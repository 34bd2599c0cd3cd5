package payload

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// KeptError is returned by a send or an upload that failed and left payload
// objects in S3. It says which objects and why, so that nothing is left
// silently: either the request that failed may still have taken effect (the
// service may hold a message that points to the object, and deleting it would
// lose that message's body), or deleting an object nothing points to failed.
//
// A kept object that no message points to is only storage: the lifecycle rule
// of the payload prefix (see PutExpirationRule) removes it. Test for it with
// errors.As; the failure itself is still reachable with errors.Is/As through
// Unwrap.
//
//	var ke *payload.KeptError
//	if errors.As(err, &ke) {
//		log.Printf("%s kept %v (ambiguous: %v)", ke.Op, ke.Pointers, ke.Ambiguous)
//	}
type KeptError struct {
	// Op is the operation that failed: "SendMessage", "SendMessageBatch",
	// "Publish", "PutObject", "CompleteMultipartUpload", ...
	Op string
	// Pointers name the objects left in S3.
	Pointers []Pointer
	// Ambiguous is true when the objects were kept on purpose: the failure
	// was ambiguous (a 5xx, a reset or a timeout after the request was
	// written, the caller's deadline), so the queue may hold a message that
	// points to them (a send that landed, a delete that did not). False
	// when they are orphans whose deletion failed (CleanupErr).
	Ambiguous bool
	// Err is the failure.
	Err error
	// CleanupErr is why deleting the objects failed, if it did.
	CleanupErr error
}

func (e *KeptError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %v; ", e.Op, e.Err)
	names := make([]string, len(e.Pointers))
	for i, p := range e.Pointers {
		names[i] = p.String()
	}
	objs := strings.Join(names, ", ")
	switch {
	case e.Ambiguous:
		fmt.Fprintf(&b, "the request may have taken effect, so payload %s was kept (if no message points to it, the lifecycle rule removes it)", objs)
	case e.CleanupErr != nil:
		fmt.Fprintf(&b, "payload %s was left, deleting it failed (the lifecycle rule removes it): %v", objs, e.CleanupErr)
	default:
		fmt.Fprintf(&b, "payload %s was left (the lifecycle rule removes it)", objs)
	}
	return b.String()
}

// Unwrap returns the failure and the clean-up's failure.
func (e *KeptError) Unwrap() []error {
	if e.CleanupErr == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.CleanupErr}
}

// KeptPointers returns the pointers of every *KeptError in err's tree
// (through Unwrap, including joined errors): all the objects a failed call
// reports having left in S3.
func KeptPointers(err error) []Pointer {
	var out []Pointer
	var walk func(error)
	walk = func(err error) {
		switch e := err.(type) {
		case nil:
			return
		case *KeptError:
			out = append(out, e.Pointers...)
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// CleanupTimeout bounds the best-effort deletion of payloads after a failed
// send or upload. It runs even when the caller's context is done, since the
// objects would otherwise be left.
const CleanupTimeout = 30 * time.Second

// Discard deletes the payloads of a call that failed, definitely or not, and
// returns the error to report. When definite is true (the service certainly
// did not take the message: a 4xx, or nothing written) it deletes ps, even
// if ctx is done, and returns err, or a *KeptError if the deletion failed.
// Otherwise it deletes nothing and returns a *KeptError with Ambiguous set:
// the service may hold a message that points to ps.
func (s *Store) Discard(ctx context.Context, op string, definite bool, err error, ps ...Pointer) error {
	if len(ps) == 0 {
		return err
	}
	if !definite {
		err = &KeptError{Op: op, Pointers: ps, Ambiguous: true, Err: err}
	} else if derr := s.deleteDetached(ctx, ps); derr != nil {
		err = &KeptError{Op: op, Pointers: ps, Err: err, CleanupErr: derr}
	}
	s.reportKept(ctx, err)
	return err
}

// deleteDetached deletes ps within CleanupTimeout, whether or not ctx is
// done.
func (s *Store) deleteDetached(ctx context.Context, ps []Pointer) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CleanupTimeout)
	defer cancel()
	if len(ps) == 1 {
		return s.Delete(ctx, ps[0])
	}
	return s.DeleteAll(ctx, ps)
}
