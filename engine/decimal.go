package engine

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// decimal is an exact number, coef × 10^-scale, for SUM and AVG of exact
// types and HAVING arithmetic. The coefficient lives in small while it
// fits an int64 (no allocation), in big beyond.
type decimal struct {
	small int64
	big   *big.Int // non-nil: the coefficient
	scale int
}

var bigTen = big.NewInt(10)

// parseDecimal reads [-+]digits[.digits] (integer texts included).
func parseDecimal(b []byte) (decimal, bool) {
	var d decimal
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	digits, dot := 0, false
	var coef uint64
	overflow := false
	for _, c := range b {
		switch {
		case c == '.' && !dot:
			dot = true
			continue
		case c < '0' || c > '9':
			return d, false
		}
		digits++
		if dot {
			d.scale++
		}
		if !overflow {
			hi, lo := bits.Mul64(coef, 10)
			lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
			if hi != 0 || carry != 0 || lo > math.MaxInt64 {
				overflow = true
			}
			coef = lo
		}
	}
	if digits == 0 {
		return d, false
	}
	if overflow {
		d.big = new(big.Int)
		for _, c := range b {
			if c != '.' {
				d.big.Mul(d.big, bigTen)
				d.big.Add(d.big, big.NewInt(int64(c-'0')))
			}
		}
		if neg {
			d.big.Neg(d.big)
		}
		return d, true
	}
	d.small = int64(coef)
	if neg {
		d.small = -d.small
	}
	return d, true
}

func decimalFromInt(v int64) decimal { return decimal{small: v} }

// bigCoef returns the coefficient as a new big.Int.
func (d decimal) bigCoef() *big.Int {
	if d.big != nil {
		return new(big.Int).Set(d.big)
	}
	return big.NewInt(d.small)
}

func (d decimal) sign() int {
	if d.big != nil {
		return d.big.Sign()
	}
	switch {
	case d.small < 0:
		return -1
	case d.small > 0:
		return 1
	}
	return 0
}

// normalize moves a big coefficient back to small when it fits.
func (d decimal) normalize() decimal {
	if d.big != nil && d.big.IsInt64() {
		return decimal{small: d.big.Int64(), scale: d.scale}
	}
	return d
}

// withScale returns d with at least scale fraction digits (exact).
func (d decimal) withScale(scale int) decimal {
	if scale <= d.scale {
		return d
	}
	k := scale - d.scale
	if d.big == nil && k < len(pow10) {
		if hi, lo := bits.Mul64(abs64(d.small), pow10[k]); hi == 0 && lo <= math.MaxInt64 {
			v := int64(lo)
			if d.small < 0 {
				v = -v
			}
			return decimal{small: v, scale: scale}
		}
	}
	c := d.bigCoef()
	c.Mul(c, pow10Big(k))
	return decimal{big: c, scale: scale}
}

func abs64(v int64) uint64 {
	if v < 0 {
		return uint64(-v) // MinInt64 wraps to itself, which is its magnitude as uint64
	}
	return uint64(v)
}

var pow10 = func() []uint64 {
	p := make([]uint64, 20)
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

func pow10Big(k int) *big.Int {
	return new(big.Int).Exp(bigTen, big.NewInt(int64(k)), nil)
}

func (d decimal) add(e decimal) decimal {
	s := max(d.scale, e.scale)
	d, e = d.withScale(s), e.withScale(s)
	if d.big == nil && e.big == nil {
		if v, ok := addInt64(d.small, e.small); ok {
			return decimal{small: v, scale: s}
		}
	}
	c := d.bigCoef()
	c.Add(c, e.bigCoef())
	return decimal{big: c, scale: s}.normalize()
}

func (d decimal) neg() decimal {
	if d.big == nil && d.small != math.MinInt64 {
		return decimal{small: -d.small, scale: d.scale}
	}
	c := d.bigCoef()
	return decimal{big: c.Neg(c), scale: d.scale}.normalize()
}

func (d decimal) sub(e decimal) decimal { return d.add(e.neg()) }

func (d decimal) mul(e decimal) decimal {
	s := d.scale + e.scale
	if d.big == nil && e.big == nil {
		if v, ok := mulInt64(d.small, e.small); ok {
			return decimal{small: v, scale: s}
		}
	}
	c := d.bigCoef()
	c.Mul(c, e.bigCoef())
	return decimal{big: c, scale: s}.normalize()
}

func (d decimal) cmp(e decimal) int {
	s := max(d.scale, e.scale)
	d, e = d.withScale(s), e.withScale(s)
	if d.big == nil && e.big == nil {
		switch {
		case d.small < e.small:
			return -1
		case d.small > e.small:
			return 1
		}
		return 0
	}
	return d.bigCoef().Cmp(e.bigCoef())
}

// div returns d/e with scale fraction digits, rounded half away from zero
// as MariaDB rounds a DECIMAL result; ok is false for a zero divisor.
func (d decimal) div(e decimal, scale int) (decimal, bool) { return d.quo(e, scale, true) }

// divInternal returns d/e as MariaDB holds a quotient inside an
// expression, before any rounding for display: its fraction digits are
// those of the operands, each rounded up to a multiple of 9 (MariaDB's
// decimal words), plus what remains of div_precision_increment after that
// rounding, again rounded up to a multiple of 9; the digits beyond are
// cut off. (1/3*3 is 0.999999999, shown as 1.0000.)
func (d decimal) divInternal(e decimal) (decimal, bool) {
	const word = 9
	up := func(n int) int { return (n + word - 1) / word * word }
	f1, f2 := up(d.scale), up(e.scale)
	incr := max(0, divPrecisionIncrement-(f1-d.scale)-(f2-e.scale))
	return d.quo(e, up(f1+f2+incr), false)
}

// quo returns d/e with scale fraction digits, rounded half away from zero
// or truncated; ok is false for a zero divisor.
func (d decimal) quo(e decimal, scale int, round bool) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	// d/e = (dc / ec) × 10^(e.scale - d.scale); scaled by 10^scale.
	k := scale - d.scale + e.scale
	if q, ok := divSmall(d, e, k, round); ok {
		return decimal{small: q, scale: scale}, true
	}
	num, den := d.bigCoef(), e.bigCoef()
	if k >= 0 {
		num.Mul(num, pow10Big(k))
	} else {
		den.Mul(den, pow10Big(-k))
	}
	neg := num.Sign()*den.Sign() < 0
	num.Abs(num)
	den.Abs(den)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if round && r.Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return decimal{big: q, scale: scale}.normalize(), true
}

// divSmall is quo without allocating, when everything fits an int64:
// d.coef × 10^k / e.coef, rounded half away from zero or truncated.
func divSmall(d, e decimal, k int, round bool) (int64, bool) {
	if d.big != nil || e.big != nil || k < 0 || k > 18 || e.small == math.MinInt64 {
		return 0, false
	}
	num, ok := mulInt64(d.small, int64(pow10[k]))
	if !ok || num == math.MinInt64 {
		return 0, false
	}
	n, den := abs64(num), abs64(e.small)
	q, r := n/den, n%den
	if round && 2*r >= den { // r < den <= 2^63: no overflow
		q++
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	if (num < 0) != (e.small < 0) {
		return -int64(q), true
	}
	return int64(q), true
}

// intDiv returns d DIV e, truncated toward zero; ok is false for a zero
// divisor.
func (d decimal) intDiv(e decimal) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	s := max(d.scale, e.scale)
	q := d.withScale(s).bigCoef()
	q.Quo(q, e.withScale(s).bigCoef())
	return decimal{big: q}.normalize(), true
}

// mod returns d MOD e with the sign of d; ok is false for a zero divisor.
func (d decimal) mod(e decimal) (decimal, bool) {
	if e.sign() == 0 {
		return decimal{}, false
	}
	s := max(d.scale, e.scale)
	r := d.withScale(s).bigCoef()
	r.Rem(r, e.withScale(s).bigCoef())
	return decimal{big: r, scale: s}.normalize(), true
}

// round returns d with exactly scale fraction digits, rounding half away
// from zero when digits are dropped.
func (d decimal) round(scale int) decimal {
	if scale >= d.scale {
		return d.withScale(scale)
	}
	r, _ := d.div(decimal{small: 1}, scale)
	return r
}

// float returns the nearest float64.
func (d decimal) float() float64 {
	f, _ := strconv.ParseFloat(string(d.appendText(nil)), 64)
	return f
}

// appendText writes d with its scale: "-12.50", "0.05", "7".
func (d decimal) appendText(dst []byte) []byte {
	start := len(dst)
	if d.big != nil {
		dst = d.big.Append(dst, 10)
	} else {
		dst = strconv.AppendInt(dst, d.small, 10)
	}
	if d.scale == 0 {
		return dst
	}
	digits := dst[start:]
	neg := digits[0] == '-'
	if neg {
		start++
		digits = digits[1:]
	}
	// Pad to at least scale+1 digits so there is a digit before the point.
	if pad := d.scale + 1 - len(digits); pad > 0 {
		for range pad {
			dst = append(dst, 0)
		}
		copy(dst[start+pad:], dst[start:len(dst)-pad])
		for i := range pad {
			dst[start+i] = '0'
		}
	}
	dst = append(dst, 0)
	point := len(dst) - 1 - d.scale
	copy(dst[point+1:], dst[point:len(dst)-1])
	dst[point] = '.'
	return dst
}

func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (s > a) == (b > 0)
}

func mulInt64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	p := a * b
	return p, p/b == a && !(a == -1 && b == math.MinInt64) && !(b == -1 && a == math.MinInt64)
}
