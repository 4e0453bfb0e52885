package wire

import (
	"bytes"
	"math"
	"reflect"
	"strconv"
	"testing"
)

func rowField(typ byte, flags uint16, decimals byte) Field {
	return Field{Type: typ, Flags: flags, Decimals: decimals}
}

// rowCase is a column, a text value of it as MySQL prints it, and the value
// as MySQL's server encodes it in a binary row.
type rowCase struct {
	name  string
	field Field
	text  string
	wire  string
}

var rowCases = []rowCase{
	{"tiny", rowField(TypeTiny, 0, 0), "-128", "80"},
	{"tiny unsigned max", rowField(TypeTiny, FlagUnsigned, 0), "255", "ff"},
	{"short", rowField(TypeShort, 0, 0), "-2", "fe ff"},
	{"short unsigned max", rowField(TypeShort, FlagUnsigned, 0), "65535", "ff ff"},
	{"int24 is 4 bytes", rowField(TypeInt24, 0, 0), "-8388608", "00 00 80 ff"},
	{"int24 unsigned max", rowField(TypeInt24, FlagUnsigned, 0), "16777215", "ff ff ff 00"},
	{"long", rowField(TypeLong, 0, 0), "-2147483648", "00 00 00 80"},
	{"long unsigned max", rowField(TypeLong, FlagUnsigned, 0), "4294967295", "ff ff ff ff"},
	{"longlong", rowField(TypeLongLong, 0, 0), "-9223372036854775808", "00 00 00 00 00 00 00 80"},
	{"longlong unsigned max", rowField(TypeLongLong, FlagUnsigned, 0), "18446744073709551615", "ff ff ff ff ff ff ff ff"},
	{"year", rowField(TypeYear, FlagUnsigned|zerofillFlag, 0), "2024", "e8 07"},
	{"zero year", Field{Type: TypeYear, Flags: FlagUnsigned | zerofillFlag, Length: 4}, "0000", "00 00"},
	{"zerofill", Field{Type: TypeLong, Flags: FlagUnsigned | zerofillFlag, Length: 5}, "00042", "2a 00 00 00"},
	// The protocol documentation's examples: 10.2 as DOUBLE and FLOAT.
	{"double", rowField(TypeDouble, 0, notFixedDecimals), "10.2", "66 66 66 66 66 66 24 40"},
	{"float", rowField(TypeFloat, 0, notFixedDecimals), "10.2", "33 33 23 41"},
	{"negative double", rowField(TypeDouble, 0, notFixedDecimals), "-0.30000000000000004", "34 33 33 33 33 33 d3 bf"},
	{"double fixed decimals", rowField(TypeDouble, 0, 2), "1.50", "00 00 00 00 00 00 f8 3f"},
	{"float fixed decimals", rowField(TypeFloat, 0, 3), "-2.250", "00 00 10 c0"},
	{"decimal", rowField(TypeNewDecimal, 0, 3), "-12.340", "07 2d 31 32 2e 33 34 30"},
	{"date", rowField(TypeDate, 0, 0), "2010-10-17", "04 da 07 0a 11"},
	{"zero date", rowField(TypeDate, 0, 0), "0000-00-00", "00"},
	{"datetime micro", rowField(TypeDatetime, 0, 6), "2010-10-17 19:27:30.000001", "0b da 07 0a 11 13 1b 1e 01 00 00 00"},
	{"datetime", rowField(TypeDatetime, 0, 0), "2010-10-17 19:27:30", "07 da 07 0a 11 13 1b 1e"},
	{"datetime at midnight", rowField(TypeDatetime, 0, 0), "2010-10-17 00:00:00", "04 da 07 0a 11"},
	{"datetime(3)", rowField(TypeDatetime, 0, 3), "2010-10-17 19:27:30.500", "0b da 07 0a 11 13 1b 1e 20 a1 07 00"},
	{"datetime(2) no fraction", rowField(TypeDatetime, 0, 2), "2010-10-17 19:27:30.00", "07 da 07 0a 11 13 1b 1e"},
	{"zero datetime", rowField(TypeDatetime, 0, 0), "0000-00-00 00:00:00", "00"},
	{"zero timestamp(6)", rowField(TypeTimestamp, 0, 6), "0000-00-00 00:00:00.000000", "00"},
	{"timestamp", rowField(TypeTimestamp, 0, 0), "2038-01-19 03:14:07", "07 f6 07 01 13 03 0e 07"},
	{"time micro", rowField(TypeTime, 0, 6), "-2899:27:30.000001", "0c 01 78 00 00 00 13 1b 1e 01 00 00 00"},
	{"time", rowField(TypeTime, 0, 0), "-2899:27:30", "08 01 78 00 00 00 13 1b 1e"},
	{"time over a day", rowField(TypeTime, 0, 0), "838:59:59", "08 00 22 00 00 00 16 3b 3b"},
	{"time one second", rowField(TypeTime, 0, 0), "-00:00:01", "08 01 00 00 00 00 00 00 01"},
	{"zero time", rowField(TypeTime, 0, 0), "00:00:00", "00"},
	{"time(1)", rowField(TypeTime, 0, 1), "12:00:00.5", "0c 00 00 00 00 00 0c 00 00 20 a1 07 00"},
	{"varchar", rowField(TypeVarString, 0, 0), "foo", "03 66 6f 6f"},
	{"empty string", rowField(TypeString, 0, 0), "", "00"},
	{"blob", Field{Type: TypeBlob, Charset: CharsetBinary}, "\x00\xff", "02 00 ff"},
	{"json", rowField(TypeJSON, 0, 0), `{"a": 1}`, "08 7b 22 61 22 3a 20 31 7d"},
	{"enum", rowField(TypeString, 0, 0), "b", "01 62"},
	{"bit", rowField(TypeBit, FlagUnsigned, 0), "\x01\x02", "02 01 02"},
	{"geometry", rowField(TypeGeometry, 0, 0), "\x01\x02\x03", "03 01 02 03"},
}

// binaryRowOf builds a binary row of one non-NULL column.
func binaryRowOf(t testing.TB, wire string) []byte {
	return append([]byte{0x00, 0x00}, hexPayload(t, wire)...)
}

func TestBinaryRowEveryType(t *testing.T) {
	for _, c := range rowCases {
		t.Run(c.name, func(t *testing.T) {
			fields := []Field{c.field}
			row, err := AppendBinaryRow(nil, fields, [][]byte{[]byte(c.text)})
			if err != nil {
				t.Fatal(err)
			}
			if want := binaryRowOf(t, c.wire); !bytes.Equal(row, want) {
				t.Errorf("AppendBinaryRow = % x, want % x", row, want)
			}
			values, err := BinaryRowValues(fields, binaryRowOf(t, c.wire))
			if err != nil {
				t.Fatal(err)
			}
			if string(values[0]) != c.text || values[0] == nil {
				t.Errorf("BinaryRowValues = %q, want %q", values[0], c.text)
			}
		})
	}
}

func TestBinaryRowNulls(t *testing.T) {
	// The row bitmap starts at bit 2: for 10 columns with NULL at 0, 5, 6
	// and 9, bits 2, 7, 8 and 11 are set.
	fields := make([]Field, 10)
	values := make([][]byte, 10)
	for i := range fields {
		fields[i] = rowField(TypeLong, 0, 0)
		if i != 0 && i != 5 && i != 6 && i != 9 {
			values[i] = []byte(strconv.Itoa(i))
		}
	}
	row, err := AppendBinaryRow(nil, fields, values)
	if err != nil {
		t.Fatal(err)
	}
	want := hexPayload(t, "00 84 09 01 00 00 00 02 00 00 00 03 00 00 00 04 00 00 00 07 00 00 00 08 00 00 00")
	if !bytes.Equal(row, want) {
		t.Fatalf("row = % x\nwant  % x", row, want)
	}
	got, err := BinaryRowValues(fields, row)
	if err != nil || !reflect.DeepEqual(got, values) {
		t.Errorf("BinaryRowValues = %q, %v", got, err)
	}

	// The bitmap has (n+9)/8 bytes: one for 6 columns, two for 7.
	for n, wantLen := range map[int]int{1: 1, 6: 1, 7: 2, 14: 2, 15: 3} {
		fields := make([]Field, n)
		for i := range fields {
			fields[i] = rowField(TypeTiny, 0, 0)
		}
		row, err := AppendBinaryRow(nil, fields, make([][]byte, n))
		if err != nil || len(row) != 1+wantLen {
			t.Errorf("%d NULL columns: % x %v", n, row, err)
		}
		if last := row[len(row)-1]; last>>((n+1)%8) != 1 {
			t.Errorf("%d NULL columns: the last column is not the last bitmap bit: %08b", n, last)
		}
		values, err := BinaryRowValues(fields, row)
		if err != nil || len(values) != n {
			t.Fatalf("%d columns: %q %v", n, values, err)
		}
		for i, v := range values {
			if v != nil {
				t.Errorf("%d columns: value %d = %q", n, i, v)
			}
		}
	}
}

// TestBinaryRowRoundTrip converts a whole row of mixed types and NULLs
// text → binary → text.
func TestBinaryRowRoundTrip(t *testing.T) {
	var fields []Field
	var values [][]byte
	for i, c := range rowCases {
		fields = append(fields, c.field)
		values = append(values, []byte(c.text))
		if i%3 == 1 {
			fields = append(fields, c.field)
			values = append(values, nil)
		}
	}
	fields = append(fields, rowField(TypeNull, 0, 0))
	values = append(values, nil)
	row, err := AppendBinaryRow([]byte("prefix"), fields, values)
	if err != nil {
		t.Fatal(err)
	}
	got, err := BinaryRowValues(fields, row[len("prefix"):])
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, values) {
		t.Errorf("round trip:\n got %q\nwant %q", got, values)
	}
}

func TestFloatText(t *testing.T) {
	cases := []struct {
		v         float64
		isFloat32 bool
		decimals  byte
		want      string
	}{
		{0, false, notFixedDecimals, "0"},
		{math.Copysign(0, -1), false, notFixedDecimals, "-0"},
		{0.30000000000000004, false, notFixedDecimals, "0.30000000000000004"}, // 0.1+0.2 at run time
		{1e14, false, notFixedDecimals, "100000000000000"},
		{1e15, false, notFixedDecimals, "1e15"},
		{123456789012345678, false, notFixedDecimals, "1.2345678901234568e17"},
		{1234567890.5, false, notFixedDecimals, "1234567890.5"},
		{0.0001, false, notFixedDecimals, "0.0001"},
		{1e-15, false, notFixedDecimals, "0.000000000000001"},
		{1e-16, false, notFixedDecimals, "1e-16"},
		{-1.5e300, false, notFixedDecimals, "-1.5e300"},
		{math.MaxFloat64, false, notFixedDecimals, "1.7976931348623157e308"},
		{math.Inf(1), false, notFixedDecimals, "0"},
		// FLOAT keeps 6 significant digits.
		{float64(float32(3.14159265)), true, notFixedDecimals, "3.14159"},
		{float64(float32(123456789)), true, notFixedDecimals, "123457000"},
		{float64(float32(1e20)), true, notFixedDecimals, "1e20"},
		{float64(float32(0.1)), true, notFixedDecimals, "0.1"},
		{float64(float32(-1.5e-7)), true, notFixedDecimals, "-0.00000015"},
		{float64(math.MaxFloat32), true, notFixedDecimals, "3.40282e38"},
		// Fixed decimals round like my_fcvt.
		{2.675, false, 2, "2.67"}, // 2.67499999...
		{-0.001, false, 2, "-0.00"},
		{1e20, false, 0, "100000000000000000000"},
	}
	for _, c := range cases {
		if got := string(appendFloatText(nil, c.v, c.isFloat32, c.decimals)); got != c.want {
			t.Errorf("appendFloatText(%g, %v, %d) = %s, want %s", c.v, c.isFloat32, c.decimals, got, c.want)
		}
	}
}

func TestBinaryRowErrors(t *testing.T) {
	bad := []struct {
		field Field
		text  string
	}{
		{rowField(TypeTiny, 0, 0), "128"},
		{rowField(TypeTiny, FlagUnsigned, 0), "-1"},
		{rowField(TypeLong, 0, 0), "1.5"},
		{rowField(TypeLongLong, FlagUnsigned, 0), "18446744073709551616"},
		{rowField(TypeFloat, 0, notFixedDecimals), "1e39"},
		{rowField(TypeDouble, 0, notFixedDecimals), "x"},
		{rowField(TypeDate, 0, 0), "2024-1-02"},
		{rowField(TypeDate, 0, 0), "2024-01-02 10:00:00"},
		{rowField(TypeDatetime, 0, 0), "2024-13-02 10:00:00"},
		{rowField(TypeDatetime, 0, 6), "2024-01-02 10:00:00.1234567"},
		{rowField(TypeDatetime, 0, 6), "2024-01-02.5"},
		{rowField(TypeTime, 0, 0), "10:00:00."},
		{rowField(TypeTime, 0, 0), "10:60:00"},
		{rowField(TypeTime, 0, 0), "10:00"},
		{rowField(TypeNull, 0, 0), "x"},
	}
	for _, c := range bad {
		prefix := []byte("keep")
		got, err := AppendBinaryRow(prefix, []Field{c.field}, [][]byte{[]byte(c.text)})
		if err == nil || string(got) != "keep" {
			t.Errorf("type 0x%02x %q: % x, %v", c.field.Type, c.text, got, err)
		}
	}
	if _, err := AppendBinaryRow(nil, []Field{rowField(TypeLong, 0, 0)}, nil); err == nil {
		t.Error("value count mismatch accepted")
	}

	long := []Field{rowField(TypeLong, 0, 0)}
	for name, row := range map[string]string{
		"empty":          "",
		"header":         "fe 00 01 00 00 00",
		"short bitmap":   "00",
		"short value":    "00 00 01 00 00",
		"trailing bytes": "00 00 01 00 00 00 00",
	} {
		if _, err := BinaryRowValues(long, hexPayload(t, row)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, c := range map[string]struct {
		field Field
		wire  string
	}{
		"date of 5 bytes":    {rowField(TypeDate, 0, 0), "05 e8 07 01 01 00"},
		"datetime with zone": {rowField(TypeDatetime, 0, 0), "0d e8 07 01 01 00 00 00 00 00 00 00 00 00"},
		"day 32":             {rowField(TypeDate, 0, 0), "04 e8 07 01 20"},
		"time of 9 bytes":    {rowField(TypeTime, 0, 0), "09 00 00 00 00 00 00 00 00 00"},
		"NULL marker":        {rowField(TypeVarString, 0, 0), "fb"},
	} {
		if _, err := BinaryRowValues([]Field{c.field}, binaryRowOf(t, c.wire)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
