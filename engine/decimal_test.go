package engine

import (
	"testing"
)

func dec(t *testing.T, s string) decimal {
	t.Helper()
	d, ok := parseDecimal([]byte(s))
	if !ok {
		t.Fatalf("parseDecimal(%q) failed", s)
	}
	return d
}

func TestDecimalArithmetic(t *testing.T) {
	text := func(d decimal) string { return string(d.appendText(nil)) }
	cases := []struct{ got, want string }{
		{text(dec(t, "1.50").add(dec(t, "2.25"))), "3.75"},
		{text(dec(t, "-0.05").add(dec(t, "0.01"))), "-0.04"},
		{text(dec(t, "7")), "7"},
		{text(dec(t, "-7.000")), "-7.000"},
		{text(dec(t, "0.5").sub(dec(t, "2"))), "-1.5"},
		{text(dec(t, "1.5").mul(dec(t, "-0.25"))), "-0.375"},
		// Beyond int64: the big path, and back.
		{text(dec(t, "18446744073709551615").add(dec(t, "5"))), "18446744073709551620"},
		{text(dec(t, "9223372036854775807").add(dec(t, "1")).sub(dec(t, "2"))), "9223372036854775806"},
		{text(dec(t, "99999999999999999999999999999999.99").add(dec(t, "0.01"))), "100000000000000000000000000000000.00"},
		// AVG: rounded half away from zero at the result scale.
		{text(must(dec(t, "2").div(decimalFromInt(3), 4))), "0.6667"},
		{text(must(dec(t, "-2").div(decimalFromInt(3), 4))), "-0.6667"},
		{text(must(dec(t, "1").div(decimalFromInt(8), 2))), "0.13"},
		{text(must(dec(t, "0.6").div(decimalFromInt(3), 5))), "0.20000"},
		{text(must(dec(t, "18446744073709551620").div(decimalFromInt(2), 4))), "9223372036854775810.0000"},
		{text(dec(t, "1.005").round(2)), "1.01"},
		{text(dec(t, "-1.005").round(2)), "-1.01"},
		{text(dec(t, "3").round(2)), "3.00"},
		// Inside an expression, as MariaDB 10.11 holds quotients (each
		// checked there: 1/3*3 is 1.0000, 123456.78/7/3*21 is
		// 123456.7799999940, 2.5/0.1234567891/7*7 is 20.250000168).
		{text(must(dec(t, "1").divInternal(dec(t, "3")))), "0.333333333"},
		{text(must(dec(t, "123456.78").divInternal(dec(t, "7")))), "17636.682857142"},
		{text(must(dec(t, "17636.682857142").divInternal(dec(t, "3")))), "5878.894285714000000000"},
		{text(must(dec(t, "2.5").divInternal(dec(t, "0.1234567891")))), "20.250000167872501391663036536"},
		{text(must(dec(t, "-2").divInternal(dec(t, "3")))), "-0.666666666"},
		{text(must(dec(t, "7.5").intDiv(dec(t, "2")))), "3"},
		{text(must(dec(t, "-7.5").mod(dec(t, "2")))), "-1.5"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %s, want %s", i, c.got, c.want)
		}
	}
	if _, ok := dec(t, "1").div(decimal{}, 4); ok {
		t.Error("division by zero succeeded")
	}
	if dec(t, "1.10").cmp(dec(t, "1.1")) != 0 || dec(t, "-2").cmp(dec(t, "1")) != -1 {
		t.Error("cmp")
	}
	for _, bad := range []string{"", "-", "1.2.3", "1e5", "abc"} {
		if _, ok := parseDecimal([]byte(bad)); ok {
			t.Errorf("parseDecimal(%q) accepted", bad)
		}
	}
}

func must(d decimal, ok bool) decimal {
	if !ok {
		panic("decimal operation failed")
	}
	return d
}

var tenth = 0.1

func TestAppendDouble(t *testing.T) {
	// Outputs of MariaDB 10.11 for the same doubles (DOUBLE columns without
	// fixed decimals, and a DOUBLE(10,3)).
	cases := []struct {
		f        float64
		decimals byte
		want     string
	}{
		{tenth + 0.2, 31, "0.30000000000000004"}, // not a constant: Go would fold it exactly
		{1e15, 31, "1e15"},
		{1e16, 31, "1e16"},
		{123456789012345678, 31, "1.2345678901234568e17"},
		{1e-5, 31, "0.00001"},
		{1.5e-7, 31, "0.00000015"},
		{100, 31, "100"},
		{1e100, 31, "1e100"},
		{0, 31, "0"},
		{2.0 / 3, 31, "0.6666666666666666"},
		{1e14 + 0.5, 31, "100000000000000.5"},
		{1e15 + 0.5, 31, "1000000000000000.5"},
		{1234567890123456, 31, "1.234567890123456e15"},
		{0.00001234, 31, "0.00001234"},
		{-1e-300, 31, "-1e-300"},
		{1.7976931348623157e308, 31, "1.7976931348623157e308"},
		{1e20, 31, "1e20"},
		{3.333333333333333e19, 31, "3.333333333333333e19"},
		{123456792.45678997, 31, "123456792.45678997"},
		{1e-15, 31, "0.000000000000001"},
		{1e-16, 31, "1e-16"},
		{1.3, 3, "1.300"},
		{0.43333333333, 7, "0.4333333"},
	}
	for _, c := range cases {
		if got := string(appendDouble(nil, c.f, c.decimals)); got != c.want {
			t.Errorf("appendDouble(%v, %d) = %s, want %s", c.f, c.decimals, got, c.want)
		}
	}
}
