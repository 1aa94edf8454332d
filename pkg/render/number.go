package render

import (
	"fmt"
	"strconv"
)

// Number writes an integer with a comma between each group of three
// digits, as people read counts: 50,000, not 50000. Any other value is
// written as fmt writes it. Pages take it as the template function number.
func Number(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int32:
		n = int64(x)
	case int64:
		n = x
	case uint32:
		n = int64(x)
	case uint64:
		if x > 1<<63-1 {
			return group(strconv.FormatUint(x, 10))
		}
		n = int64(x)
	case *int64:
		if x == nil {
			return ""
		}
		n = *x
	default:
		return fmt.Sprint(v)
	}
	if n < 0 {
		if n == -1<<63 {
			return "-" + group(strconv.FormatUint(1<<63, 10))
		}
		return "-" + group(strconv.FormatInt(-n, 10))
	}
	return group(strconv.FormatInt(n, 10))
}

// group puts commas into a string of digits.
func group(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	b := make([]byte, 0, len(digits)+len(digits)/3)
	first := len(digits) % 3
	if first == 0 {
		first = 3
	}
	b = append(b, digits[:first]...)
	for i := first; i < len(digits); i += 3 {
		b = append(b, ',')
		b = append(b, digits[i:i+3]...)
	}
	return string(b)
}
