package outcome

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ids(s ...string) []*string {
	out := make([]*string, len(s))
	for i := range s {
		out[i] = &s[i]
	}
	return out
}

func TestEntries(t *testing.T) {
	for name, tc := range map[string]struct {
		succeeded, failed []*string
		want              map[string]Entry
	}{
		"intact": {ids("0", "1"), ids("2"), map[string]Entry{"0": Succeeded, "1": Succeeded, "2": Failed}},
		// A flip that turned failed "2" into "1": 1 is in both lists, 2 in
		// neither; undoing 1 or taking 2 for sent would each lose a message.
		"failed id garbled": {ids("0", "1"), ids("1"), map[string]Entry{"0": Succeeded, "1": Both, "2": Neither}},
		// A flip that turned successful "1" into "0": 0 is listed twice in
		// the same list, which is still its verdict; 1 is in neither.
		"successful id garbled": {ids("0", "0"), ids("2"), map[string]Entry{"0": Succeeded, "1": Neither, "2": Failed}},
		"ids not requested and nil ignored": {append(ids("0", "7"), nil), ids("x"),
			map[string]Entry{"0": Succeeded, "1": Neither, "2": Neither}},
		"empty answer": {nil, nil, map[string]Entry{"0": Neither, "1": Neither, "2": Neither}},
	} {
		t.Run(name, func(t *testing.T) {
			got := Entries([]string{"0", "1", "2"}, tc.succeeded, tc.failed)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Entries (-want +got):\n%s", diff)
			}
		})
	}
}
