package render

import "testing"

func TestNumber(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   any
		want string
	}{
		{0, "0"},
		{7, "7"},
		{999, "999"},
		{1000, "1,000"},
		{int64(50000), "50,000"},
		{int64(123456), "123,456"},
		{int64(1234567), "1,234,567"},
		{-1234, "-1,234"},
		{int64(-1 << 63), "-9,223,372,036,854,775,808"},
		{uint64(1<<64 - 1), "18,446,744,073,709,551,615"},
		{int32(12345), "12,345"},
		{"n/a", "n/a"},
		{(*int64)(nil), ""},
	} {
		if got := Number(tc.in); got != tc.want {
			t.Errorf("Number(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
