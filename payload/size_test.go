package payload

import "testing"

func TestAttributeSize(t *testing.T) {
	ptr := func(s string) *string { return &s }
	cases := map[string]struct {
		name, dataType string
		stringValue    *string
		binaryValue    []byte
		want           int64
	}{
		"empty":                  {"", "", nil, nil, 0},
		"number marker":          {AttributeName, "Number", ptr("300000"), nil, 19 + 6 + 6},
		"legacy marker":          {LegacyAttributeName, "Number", ptr("262145"), nil, 19 + 6 + 6},
		"ASCII string":           {"color", "String", ptr("blue"), nil, 5 + 6 + 4},
		"empty string value":     {"a", "String", ptr(""), nil, 1 + 6},
		"multi-byte name":        {"Größe", "String", ptr("x"), nil, 7 + 6 + 1},
		"multi-byte value":       {"v", "String", ptr("€uro 日本 🔑"), nil, 1 + 6 + 3 + 3 + 1 + 6 + 1 + 4},
		"custom data type":       {"n", "Number.float", ptr("1.5"), nil, 1 + 12 + 3},
		"binary":                 {"bin", "Binary", nil, []byte{0, 1, 2, 0xff}, 3 + 6 + 4},
		"binary not UTF-8":       {"b", "Binary.gz", nil, []byte{0xc3, 0x28, 0xa0}, 1 + 9 + 3},
		"binary empty":           {"b", "Binary", nil, []byte{}, 1 + 6},
		"string value and bytes": {"x", "String", ptr("ab"), []byte{1}, 1 + 6 + 2 + 1},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := AttributeSize(c.name, c.dataType, c.stringValue, c.binaryValue)
			if got != c.want {
				t.Errorf("expect %d, got %d", c.want, got)
			}
		})
	}
}
