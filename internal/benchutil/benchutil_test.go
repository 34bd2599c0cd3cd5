package benchutil

import "testing"

func TestParseSize(t *testing.T) {
	cases := map[string]int64{"1024": 1024, "300KiB": 300 << 10, "100MiB": 100 << 20, "5GiB": 5 << 30, "1.5GiB": 3 << 29}
	for in, want := range cases {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q): expect %d, got %d, %v", in, want, got, err)
		}
	}
	for _, in := range []string{"", "x", "-1", "5TB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): expect an error, got none", in)
		}
	}
}

func TestProcStatusKiB(t *testing.T) {
	if got := ProcStatusKiB("VmHWM:"); got <= 0 {
		t.Fatalf("expect a positive VmHWM, got %d", got)
	}
	if got := ProcStatusKiB("NoSuchField:"); got != -1 {
		t.Fatalf("expect -1 for a missing field, got %d", got)
	}
}
