package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Types that never appear in result metadata but bound the range of
// parameter types MySQL's server accepts.
const (
	typeNewDate    byte = 0x0e
	typeTimestamp2 byte = 0x11
)

// zerofillFlag is ZEROFILL_FLAG: the text protocol pads such numbers with
// zeros to the column's display width.
const zerofillFlag uint16 = 64

// notFixedDecimals is DECIMAL_NOT_SPECIFIED: a FLOAT/DOUBLE column without a
// fixed number of decimals.
const notFixedDecimals = 31

// valueLayout is how one value is laid out in the binary protocol, in
// COM_STMT_EXECUTE parameters and in binary result rows alike.
type valueLayout uint8

const (
	layoutLenEnc valueLayout = iota // length-encoded bytes
	layoutInt1                      // little-endian integers of 1, 2, 4, 8 bytes
	layoutInt2
	layoutInt4
	layoutInt8
	layoutFloat  // IEEE 754 single precision
	layoutDouble // IEEE 754 double precision
	layoutDate   // length 0/4/7/11, then year(2) month day [hour minute second [micro(4)]]
	layoutTime   // length 0/8/12, then negative days(4) hour minute second [micro(4)]
	layoutAbsent // no bytes: a NULL-typed column lives in the NULL bitmap only
)

// fixedSize is the size of a fixed-size layout, 0 for the others.
func (l valueLayout) fixedSize() int {
	switch l {
	case layoutInt1:
		return 1
	case layoutInt2:
		return 2
	case layoutInt4, layoutFloat:
		return 4
	case layoutInt8, layoutDouble:
		return 8
	}
	return 0
}

// intSize is the size of an integer layout, 0 for the others.
func (l valueLayout) intSize() int {
	if l >= layoutInt1 && l <= layoutInt8 {
		return l.fixedSize()
	}
	return 0
}

// columnLayout is how MySQL's server sends a result column of type t
// (Protocol_binary::store_*).
func columnLayout(t byte) valueLayout {
	switch t {
	case TypeTiny:
		return layoutInt1
	case TypeShort, TypeYear:
		return layoutInt2
	case TypeLong, TypeInt24:
		return layoutInt4
	case TypeLongLong:
		return layoutInt8
	case TypeFloat:
		return layoutFloat
	case TypeDouble:
		return layoutDouble
	case TypeDate, TypeDatetime, TypeTimestamp:
		return layoutDate
	case TypeTime:
		return layoutTime
	case TypeNull:
		return layoutAbsent
	}
	return layoutLenEnc
}

// paramLayout is how MySQL's server reads a parameter bound with type t
// (setup_one_conversion_function and get_ps_param_len in sql_prepare.cc and
// protocol_classic.cc). It is not columnLayout: the server has no case for
// INT24, YEAR or NULL there, so it reads them as length-encoded strings, and
// it rejects NEWDATE and the internal types between TIMESTAMP2 and JSON.
// ok is false for a rejected type.
func paramLayout(t byte) (l valueLayout, ok bool) {
	switch {
	case t == TypeInt24 || t == TypeYear || t == TypeNull:
		return layoutLenEnc, true
	case t == typeNewDate || (t > typeTimestamp2 && t < TypeJSON):
		return layoutLenEnc, false
	}
	return columnLayout(t), true
}

func isDecimalType(t byte) bool { return t == TypeDecimal || t == TypeNewDecimal }

var errValueTruncated = errors.New("value runs past the end of the packet")

// readValue splits off the value laid out as l at the start of b. v is the
// value without its length prefix and aliases b; n is the bytes consumed.
func readValue(b []byte, l valueLayout) (v []byte, n int, err error) {
	if size := l.fixedSize(); size > 0 {
		if len(b) < size {
			return nil, 0, errValueTruncated
		}
		return b[:size], size, nil
	}
	if l == layoutAbsent {
		return nil, 0, nil
	}
	v, null, n, ok := ReadLenEncString(b)
	if !ok {
		return nil, 0, errValueTruncated
	}
	if null {
		return nil, 0, errors.New("NULL marker in place of a value")
	}
	return v, n, nil
}

// appendValue appends v laid out as l. A fixed-size value of the wrong size
// is zero-padded or cut so the packet stays well-formed.
func appendValue(b []byte, l valueLayout, v []byte) []byte {
	if size := l.fixedSize(); size > 0 {
		n := min(len(v), size)
		b = append(b, v[:n]...)
		return appendRepeated(b, 0, size-n)
	}
	if l == layoutAbsent {
		return b
	}
	return AppendLenEncString(b, v)
}

func appendRepeated(b []byte, c byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, c)
	}
	return b
}

// leUint decodes a little-endian integer of up to 8 bytes.
func leUint(v []byte) uint64 {
	var u uint64
	for i := len(v) - 1; i >= 0; i-- {
		u = u<<8 | uint64(v[i])
	}
	return u
}

// signExtend interprets the low size bytes of u as a signed integer.
func signExtend(u uint64, size int) int64 {
	shift := 64 - 8*size
	return int64(u<<shift) >> shift
}

func appendLEUint(b []byte, u uint64, size int) []byte {
	for i := 0; i < size; i++ {
		b = append(b, byte(u>>(8*i)))
	}
	return b
}

// temporalValue is a decoded DATE/DATETIME/TIMESTAMP or TIME value.
type temporalValue struct {
	negative             bool
	year                 uint16
	month, day           uint8
	days                 uint32 // TIME only
	hour, minute, second uint8
	micro                uint32
	hasZone              bool
	zoneMinutes          int16 // offset from UTC of a 13-byte DATETIME
}

// decodeTemporal decodes the body of a layoutDate or layoutTime value and
// checks its ranges. allowZone accepts the 13-byte DATETIME with a time zone
// offset that MySQL 8.0.19+ takes in parameters (never sent in rows).
func decodeTemporal(l valueLayout, v []byte, allowZone bool) (temporalValue, error) {
	var t temporalValue
	if l == layoutTime {
		switch len(v) {
		case 0, 8, 12:
		default:
			return t, fmt.Errorf("TIME value of %d bytes", len(v))
		}
		if len(v) >= 8 {
			t.negative = v[0] != 0
			t.days = binary.LittleEndian.Uint32(v[1:])
			t.hour, t.minute, t.second = v[5], v[6], v[7]
		}
		if len(v) == 12 {
			t.micro = binary.LittleEndian.Uint32(v[8:])
		}
		return t, t.check(l)
	}
	switch len(v) {
	case 0, 4, 7, 11:
	case 13:
		if !allowZone {
			return t, errors.New("DATETIME value with a time zone")
		}
	default:
		return t, fmt.Errorf("DATETIME value of %d bytes", len(v))
	}
	if len(v) >= 4 {
		t.year = binary.LittleEndian.Uint16(v)
		t.month, t.day = v[2], v[3]
	}
	if len(v) >= 7 {
		t.hour, t.minute, t.second = v[4], v[5], v[6]
	}
	if len(v) >= 11 {
		t.micro = binary.LittleEndian.Uint32(v[7:])
	}
	if len(v) == 13 {
		t.hasZone = true
		t.zoneMinutes = int16(binary.LittleEndian.Uint16(v[11:]))
	}
	return t, t.check(l)
}

// check rejects values that have no text form MySQL would print or parse.
// TIME hours are barely limited: clients send days and hours (up to 255)
// separately and the server adds them up; the total must only fit back
// into the days field.
func (t temporalValue) check(l valueLayout) error {
	if t.minute > 59 || t.second > 59 || t.micro > 999999 || t.hours()/24 > math.MaxUint32 {
		return errors.New("time of day out of range")
	}
	if l == layoutDate && (t.year > 9999 || t.month > 12 || t.day > 31 || t.hour > 23) {
		return errors.New("date out of range")
	}
	if t.hasZone && (t.zoneMinutes < -14*60 || t.zoneMinutes > 14*60) {
		return errors.New("time zone offset out of range")
	}
	return nil
}

// hours is the TIME value's days and hours in hours.
func (t temporalValue) hours() uint64 { return uint64(t.days)*24 + uint64(t.hour) }

// appendTemporalValue appends t in the shortest form MySQL's server sends
// (Protocol_binary::store_datetime/store_date/store_time): trailing zero
// parts are left out.
func appendTemporalValue(b []byte, l valueLayout, t temporalValue) []byte {
	if l == layoutTime {
		days, hour := t.hours()/24, t.hours()%24
		n := 0
		switch {
		case t.micro != 0:
			n = 12
		case days != 0 || hour != 0 || t.minute != 0 || t.second != 0:
			n = 8
		}
		b = append(b, byte(n))
		if n == 0 {
			return b
		}
		negative := byte(0)
		if t.negative {
			negative = 1
		}
		b = append(b, negative)
		b = binary.LittleEndian.AppendUint32(b, uint32(days))
		b = append(b, byte(hour), t.minute, t.second)
		if n == 12 {
			b = binary.LittleEndian.AppendUint32(b, t.micro)
		}
		return b
	}
	n := 0
	switch {
	case t.micro != 0:
		n = 11
	case t.hour != 0 || t.minute != 0 || t.second != 0:
		n = 7
	case t.year != 0 || t.month != 0 || t.day != 0:
		n = 4
	}
	b = append(b, byte(n))
	if n >= 4 {
		b = binary.LittleEndian.AppendUint16(b, t.year)
		b = append(b, t.month, t.day)
	}
	if n >= 7 {
		b = append(b, t.hour, t.minute, t.second)
	}
	if n == 11 {
		b = binary.LittleEndian.AppendUint32(b, t.micro)
	}
	return b
}

// appendTemporalText appends t as MySQL prints a value of type typ, with
// fsp fractional second digits: 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM:SS[.f]'
// or '[-]HH:MM:SS[.f]' with the days of a TIME counted as hours.
func appendTemporalText(b []byte, typ byte, t temporalValue, fsp int) []byte {
	if typ == TypeTime {
		if t.negative {
			b = append(b, '-')
		}
		return appendClockText(b, t.hours(), t, fsp)
	}
	b = appendPaddedUint(b, uint64(t.year), 4)
	b = append(b, '-')
	b = appendPaddedUint(b, uint64(t.month), 2)
	b = append(b, '-')
	b = appendPaddedUint(b, uint64(t.day), 2)
	if typ == TypeDate {
		return b
	}
	b = append(b, ' ')
	b = appendClockText(b, uint64(t.hour), t, fsp)
	if t.hasZone {
		offset := int(t.zoneMinutes)
		sign := byte('+')
		if offset < 0 {
			sign, offset = '-', -offset
		}
		b = append(b, sign)
		b = appendPaddedUint(b, uint64(offset/60), 2)
		b = append(b, ':')
		b = appendPaddedUint(b, uint64(offset%60), 2)
	}
	return b
}

func appendClockText(b []byte, hours uint64, t temporalValue, fsp int) []byte {
	b = appendPaddedUint(b, hours, 2)
	b = append(b, ':')
	b = appendPaddedUint(b, uint64(t.minute), 2)
	b = append(b, ':')
	b = appendPaddedUint(b, uint64(t.second), 2)
	if fsp > 0 {
		var micro [6]byte
		appendPaddedUint(micro[:0], uint64(t.micro), 6)
		b = append(b, '.')
		b = append(b, micro[:min(fsp, 6)]...)
	}
	return b
}

func appendPaddedUint(b []byte, v uint64, width int) []byte {
	start := len(b)
	b = strconv.AppendUint(b, v, 10)
	return padLeftZeros(b, start, width)
}

// padLeftZeros pads the text appended to b since start with leading zeros
// to width characters.
func padLeftZeros(b []byte, start, width int) []byte {
	if missing := width - (len(b) - start); missing > 0 {
		b = slices.Insert(b, start, make([]byte, missing)...)
		for i := start; i < start+missing; i++ {
			b[i] = '0'
		}
	}
	return b
}

// parseTemporalText parses what appendTemporalText prints for a column of
// type typ, laid out as l.
func parseTemporalText(typ byte, l valueLayout, s []byte) (temporalValue, error) {
	var t temporalValue
	sc := temporalScanner{s: s}
	hasClock := true
	if l == layoutTime {
		t.negative = sc.accept('-')
		hours := sc.number(1, 12)
		if hours/24 > math.MaxUint32 {
			return t, fmt.Errorf("TIME %q out of range", s)
		}
		t.days, t.hour = uint32(hours/24), uint8(hours%24)
		sc.expect(':')
	} else {
		t.year = uint16(sc.number(4, 4))
		sc.expect('-')
		t.month = uint8(sc.number(2, 2))
		sc.expect('-')
		t.day = uint8(sc.number(2, 2))
		hasClock = typ != TypeDate && sc.accept(' ')
		if hasClock {
			t.hour = uint8(sc.number(2, 2))
			sc.expect(':')
		}
	}
	if hasClock {
		t.minute = uint8(sc.number(2, 2))
		sc.expect(':')
		t.second = uint8(sc.number(2, 2))
	}
	if hasClock && sc.accept('.') {
		digits := len(sc.s)
		t.micro = uint32(sc.number(1, 6))
		for digits -= len(sc.s); digits < 6; digits++ {
			t.micro *= 10
		}
	}
	if sc.bad || len(sc.s) != 0 {
		return t, fmt.Errorf("malformed temporalValue value %q", s)
	}
	return t, t.check(l)
}

// temporalScanner reads fixed-format numbers; bad records any mismatch.
type temporalScanner struct {
	s   []byte
	bad bool
}

func (sc *temporalScanner) accept(c byte) bool {
	if len(sc.s) > 0 && sc.s[0] == c {
		sc.s = sc.s[1:]
		return true
	}
	return false
}

func (sc *temporalScanner) expect(c byte) {
	if !sc.accept(c) {
		sc.bad = true
	}
}

// number reads between minDigits and maxDigits decimal digits.
func (sc *temporalScanner) number(minDigits, maxDigits int) uint64 {
	var v uint64
	n := 0
	for n < len(sc.s) && n < maxDigits && sc.s[n] >= '0' && sc.s[n] <= '9' {
		v = v*10 + uint64(sc.s[n]-'0')
		n++
	}
	if n < minDigits {
		sc.bad = true
	}
	sc.s = sc.s[n:]
	return v
}

// appendFloatText appends v as MySQL's text protocol prints a FLOAT
// (isFloat32) or DOUBLE with the column's decimals: my_fcvt for a fixed
// number of decimals, else my_gcvt, which keeps FLT_DIG (6) significant
// digits of a FLOAT and the shortest round-trip digits of a DOUBLE.
func appendFloatText(b []byte, v float64, isFloat32 bool, decimals byte) []byte {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return append(b, '0') // what MySQL's dtoa yields on overflow
	}
	if decimals < notFixedDecimals {
		return strconv.AppendFloat(b, v, 'f', int(decimals), 64)
	}
	precision := -1
	if isFloat32 {
		precision = 5 // digits after the first
	}
	var scratch [32]byte
	e := strconv.AppendFloat(scratch[:0], v, 'e', precision, 64) // [-]d[.ddd]e±XX
	negative := e[0] == '-'
	if negative {
		e = e[1:]
	}
	mark := slices.Index(e, 'e')
	exponent, _ := strconv.Atoi(string(e[mark+1:]))
	var digitBuf [24]byte
	digits := digitBuf[:0]
	for _, c := range e[:mark] {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	for len(digits) > 1 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	return appendGcvt(b, negative, digits, exponent+1)
}

// appendGcvt lays out significant digits as my_gcvt does with the wide
// field the text protocol gives it: value = 0.digits × 10^point. The 'f'
// format is used unless the number is below 1e-15 or an integer of more than
// 15 digits (MAX_DECPT_FOR_F_FORMAT), so 1e15 prints as "1e15".
func appendGcvt(b []byte, negative bool, digits []byte, point int) []byte {
	const maxPointForFixed = 15
	if negative {
		b = append(b, '-')
	}
	if point >= 1-maxPointForFixed && (point <= maxPointForFixed || len(digits) > point) {
		switch {
		case point <= 0:
			b = append(b, '0', '.')
			for i := point; i < 0; i++ {
				b = append(b, '0')
			}
			return append(b, digits...)
		case point < len(digits):
			b = append(b, digits[:point]...)
			b = append(b, '.')
			return append(b, digits[point:]...)
		default:
			b = append(b, digits...)
			for i := len(digits); i < point; i++ {
				b = append(b, '0')
			}
			return b
		}
	}
	b = append(b, digits[0])
	if len(digits) > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(point-1), 10)
}
