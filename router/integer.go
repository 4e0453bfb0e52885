package router

import (
	"math"
	"strconv"
	"strings"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// integer is a shard key read as a whole number: v, or big when the key is
// above math.MaxInt64.
type integer struct {
	v   int64
	big uint64 // non-zero: the value, and v is unused
}

// toInteger reads v as an integer when it is one: an Int or Uint; a Float
// with no fraction; a Decimal, String or Bytes that, once ASCII spaces are
// trimmed, is an optional sign and digits, optionally followed by "." and
// zeros ("5", " -7 ", "+5", "007", "5.00"), within 64 bits.
func toInteger(v Value) (integer, bool) {
	switch v.Kind() {
	case sqlparse.KindInt:
		return integer{v: v.Int()}, true
	case sqlparse.KindUint:
		if u := v.Uint(); u > math.MaxInt64 {
			return integer{big: u}, true
		}
		return integer{v: int64(v.Uint())}, true
	case sqlparse.KindFloat:
		f := v.Float()
		switch {
		case f != math.Trunc(f) || math.IsInf(f, 0):
			return integer{}, false
		case f >= -(1<<63) && f < 1<<63:
			return integer{v: int64(f)}, true
		case f >= 0 && f < 1<<64:
			return integer{big: uint64(f)}, true
		}
		return integer{}, false
	case sqlparse.KindDecimal, sqlparse.KindString, sqlparse.KindBytes:
		return parseInteger(v.Str())
	}
	return integer{}, false
}

// positive is n when it is above zero, else 0.
func (n integer) positive() uint64 {
	switch {
	case n.big != 0:
		return n.big
	case n.v > 0:
		return uint64(n.v)
	}
	return 0
}

func parseInteger(s string) (integer, bool) {
	s = strings.Trim(s, " \t\r\n")
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		if strings.Trim(s[dot+1:], "0") != "" {
			return integer{}, false
		}
		s = s[:dot]
	}
	if s == "" || s == "+" || s == "-" {
		return integer{}, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && !(i == 0 && (c == '+' || c == '-')) {
			return integer{}, false
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return integer{v: n}, true
	}
	if u, err := strconv.ParseUint(strings.TrimPrefix(s, "+"), 10, 64); err == nil && u > math.MaxInt64 {
		return integer{big: u}, true
	}
	return integer{}, false
}

// appendDecimal appends the integer's canonical decimal text.
func (n integer) appendDecimal(b []byte) []byte {
	if n.big != 0 {
		return strconv.AppendUint(b, n.big, 10)
	}
	return strconv.AppendInt(b, n.v, 10)
}

// compare returns -1, 0 or 1 as n is below, equal to or above m.
func (n integer) compare(m int64) int {
	switch {
	case n.big != 0 || n.v > m:
		return 1
	case n.v < m:
		return -1
	}
	return 0
}
