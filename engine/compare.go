package engine

import (
	"bytes"
	"cmp"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/shardproxy/shardproxy/wire"
)

// Column flags the wire package does not name.
const (
	flagEnum uint16 = 256
	flagSet  uint16 = 2048
)

// valueKind is how values of a column compare, from its column definition.
type valueKind uint8

const (
	kindBytes   valueKind = iota // byte order: binary strings, dates and datetimes (fixed width), BIT
	kindInt                      // integer text, signed or unsigned
	kindDecimal                  // exact decimal text
	kindFloat                    // FLOAT / DOUBLE text
	kindTime                     // TIME: [-]H..H:MM:SS[.f], hours unbounded
	kindString                   // text in a collation: compare the weight column
)

var kindNames = [...]string{"bytes", "int", "decimal", "float", "time", "string"}

func (k valueKind) String() string { return kindNames[k] }

func kindOf(f *wire.Field) valueKind {
	switch f.Type {
	case wire.TypeTiny, wire.TypeShort, wire.TypeLong, wire.TypeLongLong, wire.TypeInt24, wire.TypeYear:
		return kindInt
	case wire.TypeDecimal, wire.TypeNewDecimal:
		return kindDecimal
	case wire.TypeFloat, wire.TypeDouble:
		return kindFloat
	case wire.TypeTime:
		return kindTime
	case wire.TypeVarchar, wire.TypeVarString, wire.TypeString, wire.TypeTinyBlob, wire.TypeMediumBlob,
		wire.TypeLongBlob, wire.TypeBlob, wire.TypeEnum, wire.TypeSet, wire.TypeJSON:
		if f.Charset == wire.CharsetBinary {
			return kindBytes
		}
		return kindString
	}
	return kindBytes // DATE, DATETIME, TIMESTAMP, BIT, GEOMETRY, NULL
}

func isEnumOrSet(f *wire.Field) bool {
	return f.Type == wire.TypeEnum || f.Type == wire.TypeSet || f.Flags&(flagEnum|flagSet) != 0
}

// SortKey orders (or groups) rows by one column of the shard result.
// Columns are numbered from 0; a negative number is a hidden column
// counted from the end of the row, used when a wildcard leaves the number
// of visible columns to the shards.
type SortKey struct {
	Col int
	// Weight is the column holding the collation weight of Col (for string
	// values), NoColumn when there is none.
	Weight int
	Desc   bool
}

// NoColumn stands for a column a plan does not have.
const NoColumn = math.MinInt32

func (k SortKey) String() string {
	s := colName(k.Col)
	if k.Weight != NoColumn {
		s += " weight " + colName(k.Weight)
	}
	if k.Desc {
		s += " DESC"
	}
	return s
}

func colName(c int) string {
	if c < 0 {
		return fmt.Sprintf("end%d", c)
	}
	return "#" + strconv.Itoa(c)
}

func keysString(keys []SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// resolveCol turns a plan column into an index of a row of n columns.
func resolveCol(c, n int) (int, error) {
	if c < 0 {
		c += n
	}
	if c < 0 || c >= n {
		return 0, errorf(ErUnknown, "shard result has %d columns, the plan needs column %d", n, c)
	}
	return c, nil
}

// boundKey is a SortKey bound to the column definitions of one execution.
type boundKey struct {
	col, weight int // weight -1: none (resolved columns are never negative)
	desc        bool
	kind        valueKind
}

// comparer orders rows by keys, the first key first.
type comparer []boundKey

// bindKeys resolves keys against fields; what names the clause for errors.
func bindKeys(keys []SortKey, fields []wire.Field, what string) (comparer, error) {
	c := make(comparer, len(keys))
	for i, k := range keys {
		b, err := bindKey(k, fields, what, false)
		if err != nil {
			return nil, err
		}
		c[i] = b
	}
	return c, nil
}

// bindKey binds one key. ENUM and SET sort by their index in the type,
// which the text does not carry: refused, except for MIN/MAX (minMax),
// which MariaDB computes on the text.
func bindKey(k SortKey, fields []wire.Field, what string, minMax bool) (boundKey, error) {
	col, err := resolveCol(k.Col, len(fields))
	if err != nil {
		return boundKey{}, err
	}
	f := &fields[col]
	b := boundKey{col: col, weight: -1, desc: k.Desc, kind: kindOf(f)}
	if b.kind != kindString {
		return b, nil
	}
	if isEnumOrSet(f) && !minMax {
		return b, unsupported("%s on the ENUM or SET column '%s' across shards is not supported (it sorts by the member index); use CAST(%s AS CHAR)", what, f.Name, f.Name)
	}
	if k.Weight == NoColumn {
		return b, unsupported("%s on the string column '%s' across shards is not supported here: the shards send no collation weight for it (a column by position under SELECT *, or a text computed over aggregates); name the column, or order by a number", what, f.Name)
	}
	if b.weight, err = resolveCol(k.Weight, len(fields)); err != nil {
		return b, err
	}
	return b, nil
}

// compare orders two rows; NULL comes first, as in MariaDB (last with DESC).
func (c comparer) compare(a, b [][]byte) int {
	for i := range c {
		k := &c[i]
		if x := k.compareValues(a, b); x != 0 {
			if k.desc {
				return -x
			}
			return x
		}
	}
	return 0
}

func (k *boundKey) compareValues(a, b [][]byte) int {
	va, vb := a[k.col], b[k.col]
	if va == nil || vb == nil {
		switch {
		case va == nil && vb == nil:
			return 0
		case va == nil:
			return -1
		}
		return 1
	}
	var wa, wb []byte
	if k.weight >= 0 {
		wa, wb = a[k.weight], b[k.weight]
	}
	return compareValue(k.kind, va, vb, wa, wb)
}

// compareValue compares two non-NULL values of kind; strings compare by
// their weights wa and wb, or by their bytes when a weight is missing.
func compareValue(kind valueKind, va, vb, wa, wb []byte) int {
	switch kind {
	case kindInt:
		return compareIntText(va, vb)
	case kindDecimal:
		return compareDecimalText(va, vb)
	case kindFloat:
		return compareFloatText(va, vb)
	case kindTime:
		return compareTimeText(va, vb)
	case kindString:
		if wa != nil && wb != nil {
			return bytes.Compare(wa, wb)
		}
	}
	return bytes.Compare(va, vb)
}

// compareIntText orders integer texts without parsing: sign, then number
// of digits, then digits. Leading zeros (ZEROFILL) are skipped.
func compareIntText(a, b []byte) int {
	if len(a) > 0 && len(b) > 0 && a[0] > '0' && b[0] > '0' {
		return compareDigits(a, b) // the common case: positive, no leading zero
	}
	an, bn := len(a) > 0 && a[0] == '-', len(b) > 0 && b[0] == '-'
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	if an {
		return -compareDigits(trimZeros(a[1:]), trimZeros(b[1:]))
	}
	return compareDigits(trimZeros(a), trimZeros(b))
}

func trimZeros(d []byte) []byte {
	for len(d) > 1 && d[0] == '0' {
		d = d[1:]
	}
	return d
}

// compareDigits orders unsigned digit strings without leading zeros.
func compareDigits(a, b []byte) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	for i := range a { // numbers are short: cheaper than bytes.Compare
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// compareDecimalText orders exact decimal texts ([-]digits[.digits]).
func compareDecimalText(a, b []byte) int {
	an, ai, af := splitDecimal(a)
	bn, bi, bf := splitDecimal(b)
	if an != bn {
		if an {
			return -1
		}
		return 1
	}
	c := compareDigits(ai, bi)
	if c == 0 {
		c = compareFraction(af, bf)
	}
	if an {
		return -c
	}
	return c
}

// splitDecimal returns the sign, the integer digits without leading zeros
// and the fraction digits without trailing zeros; zero is never negative.
func splitDecimal(d []byte) (neg bool, whole, frac []byte) {
	if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
		neg = d[0] == '-'
		d = d[1:]
	}
	whole = d
	if i := bytes.IndexByte(d, '.'); i >= 0 {
		whole, frac = d[:i], d[i+1:]
	}
	for len(whole) > 0 && whole[0] == '0' {
		whole = whole[1:]
	}
	for len(frac) > 0 && frac[len(frac)-1] == '0' {
		frac = frac[:len(frac)-1]
	}
	if len(whole) == 0 && len(frac) == 0 {
		neg = false
	}
	return neg, whole, frac
}

// compareFraction orders fraction digits as if padded with zeros.
func compareFraction(a, b []byte) int {
	n := min(len(a), len(b))
	if c := bytes.Compare(a[:n], b[:n]); c != 0 {
		return c
	}
	switch {
	case len(a) > n:
		return 1 // the rest has a non-zero digit: trailing zeros were trimmed
	case len(b) > n:
		return -1
	}
	return 0
}

func compareFloatText(a, b []byte) int {
	return cmp.Compare(parseFloat(a), parseFloat(b))
}

// parseFloat reads a FLOAT/DOUBLE text; it does not allocate.
func parseFloat(b []byte) float64 {
	f, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return f
}

// compareTimeText orders TIME texts: as text they misorder negative values
// and hours above 99.
func compareTimeText(a, b []byte) int {
	return cmp.Compare(timeMicros(a), timeMicros(b))
}

// timeMicros reads [-]H..H:MM:SS[.ffffff] as signed microseconds.
func timeMicros(b []byte) int64 {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	var parts [3]int64
	p, i := 0, 0
	for ; i < len(b) && b[i] != '.'; i++ {
		if b[i] == ':' {
			if p < 2 {
				p++
			}
			continue
		}
		parts[p] = parts[p]*10 + int64(b[i]-'0')
	}
	var micros int64
	if i < len(b) {
		digits := 0
		for i++; i < len(b) && digits < 6; i, digits = i+1, digits+1 {
			micros = micros*10 + int64(b[i]-'0')
		}
		for ; digits < 6; digits++ {
			micros *= 10
		}
	}
	v := ((parts[0]*60+parts[1])*60+parts[2])*1_000_000 + micros
	if neg {
		return -v
	}
	return v
}
