package sqlparse

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Literal converts a constant expression to a Value: a number, string, NULL,
// TRUE/FALSE, or a signed number (the parser keeps `-5` as unary minus over 5).
// Hex and bit literals are refused: their meaning depends on the column type.
func Literal(expr ast.ExprNode) (Value, bool) {
	switch e := expr.(type) {
	case *test_driver.ParamMarkerExpr:
		return Value{}, false
	case *test_driver.ValueExpr:
		return datumValue(&e.Datum)
	case *ast.ParenthesesExpr:
		return Literal(e.Expr)
	case *ast.UnaryOperationExpr:
		v, ok := Literal(e.V)
		if !ok || v.kind < KindInt || v.kind > KindDecimal {
			return Value{}, false
		}
		switch e.Op {
		case opcode.Plus:
			return v, true
		case opcode.Minus:
			return negate(v)
		}
	}
	return Value{}, false
}

// ParamIndex returns the 0-based position of a `?` marker (numbered by Parse).
func ParamIndex(expr ast.ExprNode) (int, bool) {
	if p, ok := expr.(*test_driver.ParamMarkerExpr); ok {
		return p.Order, true
	}
	return 0, false
}

func datumValue(d *test_driver.Datum) (Value, bool) {
	switch d.Kind() {
	case test_driver.KindNull:
		return NullValue(), true
	case test_driver.KindInt64:
		return IntValue(d.GetInt64()), true
	case test_driver.KindUint64:
		return UintValue(d.GetUint64()), true
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return FloatValue(d.GetFloat64()), true
	case test_driver.KindMysqlDecimal:
		return DecimalValue(d.GetMysqlDecimal().String()), true
	case test_driver.KindString:
		return StringValue(d.GetString()), true
	case test_driver.KindBytes:
		return Value{kind: KindBytes, s: d.GetString()}, true
	}
	return Value{}, false
}

func negate(v Value) (Value, bool) {
	switch v.kind {
	case KindInt:
		if v.Int() == math.MinInt64 {
			return UintValue(1 << 63), true
		}
		return IntValue(-v.Int()), true
	case KindUint:
		if v.n <= 1<<63 {
			return IntValue(int64(-v.n)), true // -(1<<63) wraps to MinInt64
		}
		return DecimalValue("-" + strconv.FormatUint(v.n, 10)), true
	case KindFloat:
		return FloatValue(-v.Float()), true
	case KindDecimal:
		if s, ok := strings.CutPrefix(v.s, "-"); ok {
			return DecimalValue(s), true
		}
		return DecimalValue("-" + v.s), true
	}
	return Value{}, false
}

// AppendLiteral appends v as a MySQL literal: NULL, a number, a quoted string
// with backslash escapes (valid for the default sql_mode, not for
// NO_BACKSLASH_ESCAPES), or X'..' for bytes and for text that is not UTF-8.
func AppendLiteral(b []byte, v Value) []byte {
	switch v.kind {
	case KindNull:
		return append(b, "NULL"...)
	case KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case KindUint:
		return strconv.AppendUint(b, v.n, 10)
	case KindFloat:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return append(b, "NULL"...) // MySQL has no NaN or infinity
		}
		// 'e' keeps it a DOUBLE literal, as the binary protocol sent it.
		return strconv.AppendFloat(b, v.Float(), 'e', -1, 64)
	case KindDecimal:
		if isDecimalText(v.s) {
			return append(b, v.s...)
		}
		return appendQuoted(b, v.s) // not a number: never paste it raw
	case KindString:
		if utf8.ValidString(v.s) {
			return appendQuoted(b, v.s)
		}
	}
	return appendHex(b, v.s)
}

func appendHex(b []byte, s string) []byte {
	b = append(b, "X'"...)
	b = hex.AppendEncode(b, []byte(s))
	return append(b, '\'')
}

func appendQuoted(b []byte, s string) []byte {
	b = append(b, '\'')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case 0:
			b = append(b, '\\', '0')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case 0x1a:
			b = append(b, '\\', 'Z')
		case '\\', '\'', '"':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}

// isDecimalText reports whether s is a plain number: [-+]digits[.digits][e[-+]digits].
func isDecimalText(s string) bool {
	i := 0
	sign := func() {
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
	}
	digits := func() int {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - j
	}
	sign()
	n := digits()
	if i < len(s) && s[i] == '.' {
		i++
		n += digits()
	}
	if n == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		sign()
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// LimitBounds reads a LIMIT clause of literal numbers: rows skipped, and
// rows kept after them.
func LimitBounds(l *ast.Limit) (offset, count uint64, ok bool) {
	if count, ok = LimitNumber(l.Count); !ok {
		return 0, 0, false
	}
	if l.Offset != nil {
		if offset, ok = LimitNumber(l.Offset); !ok {
			return 0, 0, false
		}
	}
	return offset, count, true
}

// LimitNumber reads a LIMIT count or offset written as a number.
func LimitNumber(e ast.ExprNode) (uint64, bool) {
	v, ok := Literal(e)
	switch {
	case ok && v.Kind() == KindUint:
		return v.Uint(), true
	case ok && v.Kind() == KindInt && v.Int() >= 0:
		return uint64(v.Int()), true
	}
	return 0, false
}

// LimitArgument is the count a LIMIT takes from a parameter, as MariaDB
// 10.11 takes it (measured): an integer, a DOUBLE rounded half to even, a
// DECIMAL rounded half away from zero, a string's leading integer ('2.6'
// is 2, 'x' 0), NULL 0. A negative count wraps to a huge unsigned one, so
// LIMIT -1 means every row; MariaDB never refuses a `?` count.
func LimitArgument(v Value) uint64 {
	switch v.Kind() {
	case KindInt:
		return uint64(v.Int())
	case KindUint:
		return v.Uint()
	case KindFloat:
		return wrapCount(math.RoundToEven(v.Float()))
	case KindDecimal:
		f, _ := strconv.ParseFloat(v.Str(), 64)
		return wrapCount(math.Round(f))
	case KindString, KindBytes:
		// PHP's PDO sends every value as a string.
		return leadingCount(v.Str())
	}
	return 0
}

// wrapCount converts a whole number to a count as MariaDB casts it:
// clamped to the 64-bit range, negative ones wrapped.
func wrapCount(f float64) uint64 {
	switch {
	case f >= math.MaxUint64:
		return math.MaxUint64
	case f >= 0:
		return uint64(f)
	case f <= math.MinInt64:
		return 1 << 63
	}
	return uint64(int64(f))
}

// leadingCount reads the integer a string starts with, as MariaDB converts
// a string to a number: blanks skipped, anything after the digits ignored,
// no digits 0, out of range clamped; a negative one wrapped (wrapCount).
func leadingCount(s string) uint64 {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	negative := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		negative = s[i] == '-'
		i++
	}
	var n uint64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		d := uint64(s[i] - '0')
		if n > (math.MaxUint64-d)/10 {
			n = math.MaxUint64
			break
		}
		n = n*10 + d
	}
	if negative && n > 0 {
		if n > 1<<63 {
			return 1 << 63
		}
		return -n
	}
	return n
}
