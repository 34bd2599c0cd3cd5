package outcome

// Entry is what the answer to a batch call (SendMessageBatch,
// DeleteMessageBatch, PublishBatch) says of one entry of the request.
type Entry int

const (
	// Succeeded: the answer lists the entry as successful only.
	Succeeded Entry = iota + 1
	// Failed: the answer lists the entry as failed only: it did not take
	// effect.
	Failed
	// Both: the answer lists the entry as successful and as failed. Only a
	// garbled answer does, so it may have taken effect or not.
	Both
	// Neither: the answer leaves the entry out. Only a garbled answer does,
	// so it may have taken effect or not.
	Neither
)

// Entries reads a batch answer: for each id of the request, what the
// answer's lists of successful and of failed entries say of it. A garbled
// answer (one bit of an id changed on the way is enough) can name an entry
// in both lists, or in neither; whoever undoes a failed entry, or deletes
// what a successful one made obsolete, must treat those two as ambiguous:
// Both is not Failed, and Neither is not Succeeded.
func Entries(requested []string, succeeded, failed []*string) map[string]Entry {
	out := make(map[string]Entry, len(requested))
	for _, id := range requested {
		out[id] = Neither
	}
	mark := func(ids []*string, as Entry) {
		for _, id := range ids {
			if id == nil {
				continue
			}
			switch e, ok := out[*id]; {
			case !ok:
				// Not an id of the request: nothing to decide.
			case e == Neither || e == as:
				out[*id] = as
			default:
				out[*id] = Both
			}
		}
	}
	mark(succeeded, Succeeded)
	mark(failed, Failed)
	return out
}
