package engine

import (
	"math"
	"strconv"
)

// notFixedDec is the `decimals` of a FLOAT/DOUBLE column without a fixed
// number of fraction digits (NOT_FIXED_DEC).
const notFixedDec = 31

// appendDouble writes f as MariaDB's text protocol does for a DOUBLE
// column with the given decimals: a fixed number of digits, or (decimals
// 31) the shortest digits that read back as f, in plain notation for
// 1e-15 <= |f| < 1e16 (integers) and in exponent notation otherwise
// ("1e20", "1.5e-16"), as my_gcvt does.
func appendDouble(dst []byte, f float64, decimals byte) []byte {
	if decimals < notFixedDec {
		return strconv.AppendFloat(dst, f, 'f', int(decimals), 64)
	}
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, '0') // my_gcvt prints 0 for overflow too
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64) // d.ddde±XX
	mant, exp := e, 0
	for i, c := range e {
		if c == 'e' {
			mant = e[:i]
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	var dbuf [32]byte
	digits := dbuf[:0]
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	n, decpt := len(digits), exp+1 // value = 0.digits × 10^decpt
	const maxDecptForF = 15        // DBL_DIG
	if decpt < -maxDecptForF+1 || (decpt > maxDecptForF && n <= decpt) {
		dst = append(dst, digits[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(decpt-1), 10)
	}
	switch {
	case decpt <= 0:
		dst = append(dst, '0', '.')
		for range -decpt {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	case decpt < n:
		dst = append(dst, digits[:decpt]...)
		dst = append(dst, '.')
		return append(dst, digits[decpt:]...)
	}
	dst = append(dst, digits...)
	for range decpt - n {
		dst = append(dst, '0')
	}
	return dst
}
