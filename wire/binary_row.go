package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// rowNullOffset is where the columns start in a binary row's NULL bitmap:
// its first two bits are reserved.
const rowNullOffset = 2

// AppendBinaryRow appends the binary-protocol row (header 0x00, NULL bitmap,
// values) of a text-protocol row, each value encoded per its column's type
// as MySQL's server encodes it; a nil value is NULL. FLOAT and DOUBLE text
// parses to the nearest value, which is not the server's exact value when
// the text was rounded (FLOAT text has 6 significant digits). On error b is
// returned unchanged.
func AppendBinaryRow(b []byte, fields []Field, values [][]byte) ([]byte, error) {
	if len(values) != len(fields) {
		return b, fmt.Errorf("%d values for %d columns", len(values), len(fields))
	}
	start := len(b)
	b = append(b, OKHeader)
	nullsAt := len(b)
	b = appendRepeated(b, 0, (len(fields)+7+rowNullOffset)/8)
	for i, v := range values {
		if v == nil {
			bit := i + rowNullOffset
			b[nullsAt+bit/8] |= 1 << (bit % 8)
			continue
		}
		var err error
		if b, err = appendColumnValue(b, &fields[i], v); err != nil {
			return b[:start], fmt.Errorf("column %d: %w", i, err)
		}
	}
	return b, nil
}

// appendColumnValue appends the binary form of one column's text value.
func appendColumnValue(b []byte, f *Field, text []byte) ([]byte, error) {
	layout := columnLayout(f.Type)
	switch layout {
	case layoutInt1, layoutInt2, layoutInt4, layoutInt8:
		size := layout.fixedSize()
		var u uint64
		var err error
		if f.Flags&FlagUnsigned != 0 {
			u, err = strconv.ParseUint(string(text), 10, 8*size)
		} else {
			var i int64
			i, err = strconv.ParseInt(string(text), 10, 8*size)
			u = uint64(i)
		}
		if err != nil {
			return b, err
		}
		return appendLEUint(b, u, size), nil
	case layoutFloat:
		v, err := strconv.ParseFloat(string(text), 32)
		if err != nil {
			return b, err
		}
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(float32(v))), nil
	case layoutDouble:
		v, err := strconv.ParseFloat(string(text), 64)
		if err != nil {
			return b, err
		}
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(v)), nil
	case layoutDate, layoutTime:
		t, err := parseTemporalText(f.Type, layout, text)
		if err != nil {
			return b, err
		}
		return appendTemporalValue(b, layout, t), nil
	case layoutAbsent:
		return b, errors.New("value in a NULL-typed column")
	}
	return AppendLenEncString(b, text), nil
}

// BinaryRowValues converts a binary-protocol row to the values MySQL's text
// protocol would send for it; a nil value is NULL. Numbers are printed as
// the server prints them (ZEROFILL padding included), fractional seconds
// with the column's Decimals digits. String-like values alias row.
func BinaryRowValues(fields []Field, row []byte) ([][]byte, error) {
	nullsSize := (len(fields) + 7 + rowNullOffset) / 8
	if len(row) < 1+nullsSize || row[0] != OKHeader {
		return nil, errors.New("malformed binary row header")
	}
	nulls := row[1 : 1+nullsSize]
	rest := row[1+nullsSize:]
	values := make([][]byte, len(fields))
	// Converted values share one buffer; each is sliced off as soon as it is
	// written, which stays valid when the buffer later grows.
	var text []byte
	for i := range fields {
		f := &fields[i]
		if bit := i + rowNullOffset; nulls[bit/8]&(1<<(bit%8)) != 0 {
			continue
		}
		layout := columnLayout(f.Type)
		v, n, err := readValue(rest, layout)
		if err != nil {
			return nil, fmt.Errorf("column %d: %w", i, err)
		}
		rest = rest[n:]
		switch layout {
		case layoutLenEnc:
			values[i] = v
		case layoutAbsent:
			// NULL-typed: NULL whatever the bitmap says, as clients read it.
		default:
			start := len(text)
			if text, err = appendColumnText(text, f, layout, v); err != nil {
				return nil, fmt.Errorf("column %d: %w", i, err)
			}
			values[i] = text[start:len(text):len(text)]
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d bytes after the last column", len(rest))
	}
	return values, nil
}

// appendColumnText appends the text form of a fixed-size or temporal value.
func appendColumnText(b []byte, f *Field, layout valueLayout, v []byte) ([]byte, error) {
	start := len(b)
	switch layout {
	case layoutInt1, layoutInt2, layoutInt4, layoutInt8:
		u := leUint(v)
		if f.Flags&FlagUnsigned != 0 {
			b = strconv.AppendUint(b, u, 10)
		} else {
			b = strconv.AppendInt(b, signExtend(u, len(v)), 10)
		}
	case layoutFloat:
		b = appendFloatText(b, float64(math.Float32frombits(binary.LittleEndian.Uint32(v))), true, f.Decimals)
	case layoutDouble:
		b = appendFloatText(b, math.Float64frombits(binary.LittleEndian.Uint64(v)), false, f.Decimals)
	case layoutDate, layoutTime:
		t, err := decodeTemporal(layout, v, false)
		if err != nil {
			return b, err
		}
		return appendTemporalText(b, f.Type, t, int(min(f.Decimals, 6))), nil
	}
	// ZEROFILL pads to the display width, which never exceeds 255. Only
	// unsigned numbers can be ZEROFILL; skipping negatives keeps the text
	// parseable if metadata says otherwise.
	if f.Flags&zerofillFlag != 0 && b[start] != '-' {
		b = padLeftZeros(b, start, int(min(f.Length, 255)))
	}
	return b, nil
}
