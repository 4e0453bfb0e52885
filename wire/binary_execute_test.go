package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// hexPayload decodes hex written with spaces between bytes.
func hexPayload(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The COM_STMT_EXECUTE example of the protocol documentation: statement 1,
// one VARCHAR parameter "foo".
const docExecute = "17 01 00 00 00 00 01 00 00 00 00 01 0f 00 03 66 6f 6f"

// Statement 1 with LONGLONG 42, VAR_STRING "abc" and a NULL LONG, built by
// hand: header, NULL bitmap 0b100, new-params-bound-flag, types, values.
const threeParamExecute = "17 01 00 00 00 00 01 00 00 00" +
	" 04 01" +
	" 08 00 fd 00 03 00" +
	" 2a 00 00 00 00 00 00 00 03 61 62 63"

func TestParseExecuteTypesSent(t *testing.T) {
	ex, err := ParseExecute(hexPayload(t, threeParamExecute), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Execute{StmtID: 1, TypesSent: true, Params: []Param{
		{Type: TypeLongLong, Value: hexPayload(t, "2a 00 00 00 00 00 00 00")},
		{Type: TypeVarString, Value: []byte("abc")},
		{Type: TypeLong, Null: true},
	}}
	if !reflect.DeepEqual(ex, want) {
		t.Fatalf("got %+v\nwant %+v", ex, want)
	}
	if got := ex.ParamTypes(); !reflect.DeepEqual(got, []ParamType{{Type: TypeLongLong}, {Type: TypeVarString}, {Type: TypeLong}}) {
		t.Errorf("ParamTypes() = %v", got)
	}

	doc, err := ParseExecute(hexPayload(t, docExecute), 1, nil, nil)
	if err != nil || doc.StmtID != 1 || len(doc.Params) != 1 || doc.Params[0].Type != TypeVarchar || string(doc.Params[0].Value) != "foo" {
		t.Fatalf("documentation example: %+v, %v", doc, err)
	}
}

func TestAppendExecuteByteExact(t *testing.T) {
	three, err := ParseExecute(hexPayload(t, threeParamExecute), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := AppendExecute(nil, 1, three.Params); !bytes.Equal(got, hexPayload(t, threeParamExecute)) {
		t.Errorf("AppendExecute = % x", got)
	}
	doc := []Param{{Type: TypeVarchar, Value: []byte("foo")}}
	if got := AppendExecute(nil, 1, doc); !bytes.Equal(got, hexPayload(t, docExecute)) {
		t.Errorf("AppendExecute = % x", got)
	}
	// No parameters: the header only. Unsigned sets 0x80 in the type's
	// second byte; a fixed-size value of the wrong size is padded.
	if got := AppendExecute([]byte{0xaa}, 0x01020304, nil); !bytes.Equal(got, hexPayload(t, "aa 17 04 03 02 01 00 01 00 00 00")) {
		t.Errorf("no params: % x", got)
	}
	got := AppendExecute(nil, 7, []Param{{Type: TypeLong, Unsigned: true, Value: []byte{1}}})
	if want := hexPayload(t, "17 07 00 00 00 00 01 00 00 00 00 01 03 80 01 00 00 00"); !bytes.Equal(got, want) {
		t.Errorf("unsigned: % x", got)
	}
}

func TestParseExecuteReexecuteUsesPreviousTypes(t *testing.T) {
	first, err := ParseExecute(hexPayload(t, threeParamExecute), 3, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Same statement, new-params-bound-flag 0: no types; all three values.
	again := hexPayload(t, "17 01 00 00 00 00 01 00 00 00 00 00"+
		" ff ff ff ff ff ff ff ff 00 05 00 00 00")
	ex, err := ParseExecute(again, 3, first.ParamTypes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ex.TypesSent {
		t.Error("TypesSent")
	}
	if i, _ := ex.Params[0].Int(); i != -1 || ex.Params[0].Type != TypeLongLong {
		t.Errorf("param 0: %+v", ex.Params[0])
	}
	if ex.Params[1].Type != TypeVarString || len(ex.Params[1].Value) != 0 || ex.Params[1].Null {
		t.Errorf("param 1: %+v", ex.Params[1])
	}
	if i, _ := ex.Params[2].Int(); i != 5 || ex.Params[2].Type != TypeLong {
		t.Errorf("param 2: %+v", ex.Params[2])
	}
	if _, err := ParseExecute(again, 3, nil, nil); !errors.Is(err, ErrMalformedExecute) {
		t.Errorf("without earlier types: %v", err)
	}
	if _, err := ParseExecute(again, 3, first.ParamTypes()[:2], nil); err == nil {
		t.Error("accepted too few earlier types")
	}
	// An unsigned type from the earlier execute still applies.
	ex, err = ParseExecute(again, 3, []ParamType{{TypeLongLong, true}, {TypeVarString, false}, {TypeLong, false}}, nil)
	if u, ok := ex.Params[0].Uint(); err != nil || !ok || u != math.MaxUint64 {
		t.Errorf("unsigned earlier type: %d %v %v", u, ok, err)
	}
}

func TestParseExecuteLongData(t *testing.T) {
	// BLOB parameter 0 came by COM_STMT_SEND_LONG_DATA, so only parameter 1
	// (LONG 7) is in the packet; the NULL bit of a long data parameter is
	// ignored, as MySQL ignores it.
	payload := hexPayload(t, "17 05 00 00 00 00 01 00 00 00 01 01 fc 00 03 00 07 00 00 00")
	long := map[int][]byte{0: []byte("chunk1chunk2")}
	ex, err := ParseExecute(payload, 2, nil, long)
	if err != nil {
		t.Fatal(err)
	}
	if p := ex.Params[0]; p.Null || string(p.Value) != "chunk1chunk2" || p.Type != TypeBlob {
		t.Errorf("long data param: %+v", p)
	}
	if i, _ := ex.Params[1].Int(); i != 7 {
		t.Errorf("param 1: %+v", ex.Params[1])
	}
	// Forwarded, the long data goes inline.
	want := hexPayload(t, "17 09 00 00 00 00 01 00 00 00 00 01 fc 00 03 00 0c 63 68 75 6e 6b 31 63 68 75 6e 6b 32 07 00 00 00")
	if got := AppendExecute(nil, 9, ex.Params); !bytes.Equal(got, want) {
		t.Errorf("AppendExecute = % x", got)
	}
	// Empty long data is still long data.
	ex, err = ParseExecute(payload, 2, nil, map[int][]byte{0: {}})
	if err != nil || ex.Params[0].Null || len(ex.Params[0].Value) != 0 {
		t.Errorf("empty long data: %+v %v", ex.Params[0], err)
	}
	// MySQL accepts long data only for blob and string types.
	payload = hexPayload(t, "17 05 00 00 00 00 01 00 00 00 00 01 03 00 03 00 07 00 00 00")
	if _, err := ParseExecute(payload, 2, nil, map[int][]byte{0: []byte("x")}); !errors.Is(err, ErrMalformedExecute) {
		t.Errorf("long data for LONG: %v", err)
	}
}

// paramCase is one parameter value as a client sends it (type, flag byte,
// value bytes) and how it reads.
type paramCase struct {
	name      string
	typ, flag byte
	wire      string // value as in the packet, length prefix included
	text      string
}

var paramCases = []paramCase{
	{"tiny", TypeTiny, 0, "ff", "-1"},
	{"tiny unsigned", TypeTiny, 0x80, "ff", "255"},
	{"short", TypeShort, 0, "00 80", "-32768"},
	{"short unsigned", TypeShort, 0x80, "00 80", "32768"},
	{"long", TypeLong, 0, "fe ff ff ff", "-2"},
	{"long unsigned", TypeLong, 0x80, "ff ff ff ff", "4294967295"},
	{"longlong", TypeLongLong, 0, "00 00 00 00 00 00 00 80", "-9223372036854775808"},
	{"longlong unsigned max", TypeLongLong, 0x80, "ff ff ff ff ff ff ff ff", "18446744073709551615"},
	// MySQL reads INT24, YEAR and NULL-typed values as length-encoded
	// strings (no case for them in setup_one_conversion_function).
	{"int24", TypeInt24, 0, "03 31 32 33", "123"},
	{"year", TypeYear, 0x80, "04 32 30 32 34", "2024"},
	{"null type with a value", TypeNull, 0, "01 78", "x"},
	// 0.1f widens to the double MySQL computes with.
	{"float", TypeFloat, 0, "cd cc cc 3d", "0.10000000149011612"},
	{"double", TypeDouble, 0, "66 66 66 66 66 66 24 40", "10.2"},
	{"double integral", TypeDouble, 0, "00 00 00 00 00 00 f0 bf", "-1"},
	{"double exponent", TypeDouble, 0, "50 ef e2 d6 e4 1a 4b 44", "1e+21"},
	{"decimal", TypeNewDecimal, 0, "07 2d 31 32 2e 33 34 30", "-12.340"},
	{"decimal spaces", TypeDecimal, 0, "05 20 37 2e 35 20", "7.5"},
	{"decimal exponent", TypeNewDecimal, 0, "05 31 2e 35 45 32", "1.5E2"},
	{"decimal negative exponent", TypeNewDecimal, 0, "08 2d 31 2e 32 35 65 2d 33", "-1.25e-3"},
	{"decimal scale kept", TypeNewDecimal, 0, "07 31 2e 35 30 65 2b 31", "1.50e+1"},
	{"date", TypeDate, 0, "04 e8 07 02 1d", "2024-02-29"},
	{"date ignores time", TypeDate, 0, "07 e8 07 02 1d 0d 05 06", "2024-02-29"},
	{"zero date", TypeDate, 0, "00", "0000-00-00"},
	{"datetime", TypeDatetime, 0, "07 e8 07 02 1d 0d 05 06", "2024-02-29 13:05:06"},
	{"datetime date only", TypeDatetime, 0, "04 e8 07 02 1d", "2024-02-29 00:00:00"},
	{"datetime micro", TypeDatetime, 0, "0b e8 07 02 1d 0d 05 06 05 00 00 00", "2024-02-29 13:05:06.000005"},
	{"datetime zone", TypeDatetime, 0, "0d e8 07 02 1d 0d 05 06 00 00 00 00 b6 fe", "2024-02-29 13:05:06-05:30"},
	{"zero timestamp", TypeTimestamp, 0, "00", "0000-00-00 00:00:00"},
	{"time negative days", TypeTime, 0, "0c 01 01 00 00 00 02 03 04 05 00 00 00", "-26:03:04.000005"},
	{"time", TypeTime, 0, "08 00 00 00 00 00 0a 00 00", "10:00:00"},
	{"time hours past a day", TypeTime, 0, "08 00 00 00 00 00 1e 00 00", "30:00:00"},
	{"zero time", TypeTime, 0, "00", "00:00:00"},
	{"time clamped like the server", TypeTime, 0, "0c 00 28 00 00 00 00 00 00 01 00 00 00", "838:59:59"},
	{"varchar", TypeVarchar, 0, "03 61 62 63", "abc"},
	{"string escapes", TypeString, 0, "0c 69 74 27 73 20 5c 20 00 0a 0d 1a 27", "it's \\ \x00\n\r\x1a'"},
	{"string unicode", TypeVarString, 0, "05 c3 a9 e2 82 ac", "é€"},
	{"invalid utf8", TypeString, 0, "03 ff fe 27", "\xff\xfe'"},
	{"empty string", TypeVarString, 0, "00", ""},
	{"blob", TypeBlob, 0, "03 61 62 63", "abc"},
	{"empty blob", TypeLongBlob, 0, "00", ""},
	{"json", TypeJSON, 0, "07 7b 22 61 22 3a 31 7d", `{"a":1}`},
	{"enum", TypeEnum, 0, "01 62", "b"},
	{"set", TypeSet, 0, "03 61 2c 62", "a,b"},
	{"bit", TypeBit, 0, "01 05", "\x05"},
	{"geometry", TypeGeometry, 0, "02 01 ff", "\x01\xff"},
}

// oneParamExecute builds a one-parameter COM_STMT_EXECUTE: statement 1, no NULL,
// types sent, the given type and flag byte, then the value bytes.
func oneParamExecute(t testing.TB, typ, flag byte, wire string) []byte {
	payload := hexPayload(t, "17 01 00 00 00 00 01 00 00 00 00 01")
	payload = append(payload, typ, flag)
	return append(payload, hexPayload(t, wire)...)
}

func TestParseExecuteEveryType(t *testing.T) {
	for _, c := range paramCases {
		t.Run(c.name, func(t *testing.T) {
			ex, err := ParseExecute(oneParamExecute(t, c.typ, c.flag, c.wire), 1, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			p := ex.Params[0]
			if p.Type != c.typ || p.Unsigned != (c.flag != 0) || p.Null {
				t.Errorf("param %+v", p)
			}
			if got := p.Text(); got != c.text {
				t.Errorf("Text() = %q, want %q", got, c.text)
			}
			// Forwarding re-encodes the very same bytes.
			if got, want := AppendExecute(nil, 1, ex.Params), oneParamExecute(t, c.typ, c.flag, c.wire); !bytes.Equal(got, want) {
				t.Errorf("AppendExecute = % x, want % x", got, want)
			}
		})
	}
}

func TestParseExecuteNulls(t *testing.T) {
	// Ten parameters, NULL at 0, 7, 8 and 9: the bitmap spans two bytes.
	payload := hexPayload(t, "17 02 00 00 00 00 01 00 00 00 81 03 01")
	for i := 0; i < 10; i++ {
		payload = append(payload, TypeTiny, 0)
	}
	for i := 1; i <= 6; i++ {
		payload = append(payload, byte(i))
	}
	ex, err := ParseExecute(payload, 10, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ex.Params {
		wantNull := i == 0 || i >= 7
		if p.Null != wantNull {
			t.Errorf("param %d Null = %v", i, p.Null)
		}
		if got := p.Text(); !wantNull && got != string(rune('0'+i)) || wantNull && got != "" {
			t.Errorf("param %d Text = %q", i, got)
		}
	}
	if got := AppendExecute(nil, 2, ex.Params); !bytes.Equal(got, payload) {
		t.Errorf("AppendExecute = % x", got)
	}
	// A NULL-typed NULL, as go-sql-driver sends nil.
	ex, err = ParseExecute(hexPayload(t, "17 02 00 00 00 00 01 00 00 00 01 01 06 00"), 1, nil, nil)
	if err != nil || !ex.Params[0].Null || ex.Params[0].Text() != "" {
		t.Errorf("NULL type: %+v %v", ex.Params, err)
	}
}

func TestParseExecuteRejects(t *testing.T) {
	cases := map[string][]byte{
		"wrong command":           hexPayload(t, "16 01 00 00 00 00 01 00 00 00 00 01 0f 00 03 66 6f 6f"),
		"NEWDATE type":            oneParamExecute(t, 0x0e, 0, "00"),
		"internal BOOL type":      oneParamExecute(t, 0xf4, 0, "00"),
		"type flags":              oneParamExecute(t, TypeLong, 0x40, "00 00 00 00"),
		"date of 5 bytes":         oneParamExecute(t, TypeDate, 0, "05 e8 07 02 1d 00"),
		"time of 7 bytes":         oneParamExecute(t, TypeTime, 0, "07 00 00 00 00 00 01 02"),
		"date month 13":           oneParamExecute(t, TypeDate, 0, "04 e8 07 0d 01"),
		"datetime minute 60":      oneParamExecute(t, TypeDatetime, 0, "07 e8 07 01 01 00 3c 00"),
		"micro over 999999":       oneParamExecute(t, TypeTime, 0, "0c 00 00 00 00 00 00 00 00 40 42 0f 00"),
		"NaN float":               oneParamExecute(t, TypeFloat, 0, "00 00 c0 7f"),
		"infinite double":         oneParamExecute(t, TypeDouble, 0, "00 00 00 00 00 00 f0 7f"),
		"decimal not a number":    oneParamExecute(t, TypeNewDecimal, 0, "08 31 3b 44 52 4f 50 20 74"),
		"decimal empty":           oneParamExecute(t, TypeNewDecimal, 0, "00"),
		"decimal bare exponent":   oneParamExecute(t, TypeNewDecimal, 0, "02 31 65"),
		"NULL length marker":      oneParamExecute(t, TypeVarString, 0, "fb"),
		"length past the end":     oneParamExecute(t, TypeVarString, 0, "05 61 62"),
		"huge length":             oneParamExecute(t, TypeBlob, 0, "fe ff ff ff ff ff ff ff 7f 61"),
		"undefined length prefix": oneParamExecute(t, TypeVarString, 0, "ff"),
	}
	for name, payload := range cases {
		if _, err := ParseExecute(payload, 1, nil, nil); !errors.Is(err, ErrMalformedExecute) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := ParseExecute(hexPayload(t, docExecute), -1, nil, nil); err == nil {
		t.Error("negative parameter count accepted")
	}
	// A statement without parameters needs only the header.
	ex, err := ParseExecute(hexPayload(t, "17 03 00 00 00 01 01 00 00 00"), 0, nil, nil)
	if err != nil || ex.StmtID != 3 || ex.Flags != 1 || ex.Params != nil {
		t.Errorf("no params: %+v %v", ex, err)
	}
}

func TestParseExecuteTruncated(t *testing.T) {
	payloads := map[string]int{threeParamExecute: 3, docExecute: 1}
	for _, c := range paramCases {
		payloads[hex.EncodeToString(oneParamExecute(t, c.typ, c.flag, c.wire))] = 1
	}
	for s, paramCount := range payloads {
		full := hexPayload(t, s)
		for n := 0; n < len(full); n++ {
			if _, err := ParseExecute(full[:n], paramCount, nil, nil); err == nil {
				t.Errorf("% x accepted cut at %d", full, n)
			}
		}
	}
}

func TestParamGetters(t *testing.T) {
	cases := []struct {
		p         Param
		i         int64
		iOK       bool
		u         uint64
		uOK       bool
		f         float64
		fOK       bool
		canonical string
	}{
		{Param{Type: TypeLongLong, Unsigned: true, Value: hexPayload(t, "ff ff ff ff ff ff ff ff")}, 0, false, math.MaxUint64, true, math.MaxUint64, true, "18446744073709551615"},
		{Param{Type: TypeLong, Value: hexPayload(t, "fb ff ff ff")}, -5, true, 0, false, -5, true, "-5"},
		{Param{Type: TypeShort, Unsigned: true, Value: hexPayload(t, "ff ff")}, 65535, true, 65535, true, 65535, true, "65535"},
		{Param{Type: TypeVarString, Value: []byte("42")}, 42, true, 42, true, 42, true, "42"},
		{Param{Type: TypeVarString, Value: []byte("-42")}, -42, true, 0, false, -42, true, "-42"},
		{Param{Type: TypeVarString, Value: []byte("4.5")}, 0, false, 0, false, 4.5, true, "4.5"},
		{Param{Type: TypeVarString, Value: []byte("+7")}, 7, true, 7, true, 7, true, "+7"},
		{Param{Type: TypeVarString, Value: []byte("1e3")}, 0, false, 0, false, 1000, true, "1e3"},
		{Param{Type: TypeVarString, Value: []byte(" 42")}, 0, false, 0, false, 0, false, " 42"},
		{Param{Type: TypeVarString, Value: []byte("0x10")}, 0, false, 0, false, 0, false, "0x10"},
		{Param{Type: TypeVarString, Value: []byte("inf")}, 0, false, 0, false, 0, false, "inf"},
		{Param{Type: TypeNewDecimal, Value: []byte(" 12 ")}, 12, true, 12, true, 12, true, "12"},
		{Param{Type: TypeNewDecimal, Value: []byte("12.50")}, 0, false, 0, false, 12.5, true, "12.50"},
		{Param{Type: TypeDouble, Value: hexPayload(t, "00 00 00 00 00 00 04 40")}, 0, false, 0, false, 2.5, true, "2.5"},
		{Param{Type: TypeDate, Value: hexPayload(t, "e8 07 01 02")}, 0, false, 0, false, 0, false, "2024-01-02"},
		{Param{Type: TypeLong, Null: true}, 0, false, 0, false, 0, false, ""},
		{Param{Type: TypeLong, Value: []byte{1, 2}}, 0, false, 0, false, 0, false, ""}, // wrong size
	}
	for _, c := range cases {
		i, iOK := c.p.Int()
		u, uOK := c.p.Uint()
		f, fOK := c.p.Float()
		if i != c.i || iOK != c.iOK || u != c.u || uOK != c.uOK || f != c.f || fOK != c.fOK || c.p.Text() != c.canonical {
			t.Errorf("%+v: Int %d %v, Uint %d %v, Float %g %v, Text %q", c.p, i, iOK, u, uOK, f, fOK, c.p.Text())
		}
	}
	for _, p := range []Param{
		{Type: TypeLong, Value: []byte{1}},
		{Type: TypeDouble, Value: hexPayload(t, "00 00 00 00 00 00 f0 7f")},
		{Type: TypeDate, Value: []byte{1}},
	} {
		if got := p.Text(); got != "" {
			t.Errorf("undecodable %+v: Text = %q", p, got)
		}
	}
}

// RebindExecute must give the backend what decoding and encoding again
// gives, with the values never decoded.
func TestRebindExecuteEqualsParseAndAppend(t *testing.T) {
	three := hexPayload(t, threeParamExecute)
	// A cursor and a bigger iteration count from the client: neither goes on.
	cursor := append(hexPayload(t, "17 01 00 00 00 01 05 00 00 00"), three[10:]...)
	again := hexPayload(t, "17 01 00 00 00 00 01 00 00 00 00 00"+
		" ff ff ff ff ff ff ff ff 00 05 00 00 00")
	prev := []ParamType{{Type: TypeLongLong}, {Type: TypeVarString}, {Type: TypeLong}}
	for _, c := range []struct {
		name    string
		payload []byte
		params  int
		prev    []ParamType
		sent    bool
	}{
		{"types sent", three, 3, nil, true},
		{"cursor asked", cursor, 3, nil, true},
		{"types from before", again, 3, prev, false},
		{"documentation example", hexPayload(t, docExecute), 1, nil, true},
		{"no parameters", hexPayload(t, "17 01 00 00 00 00 01 00 00 00"), 0, nil, false},
	} {
		ex, err := ParseExecute(c.payload, c.params, c.prev, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := AppendExecute(nil, 9, ex.Params)
		got, sent, ok := RebindExecute([]byte{}, c.payload, 0, c.params, c.prev)
		SetExecuteStmtID(got, 9)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("%s: %v\n got % x\nwant % x", c.name, ok, got, want)
		}
		if (sent != nil) != c.sent {
			t.Errorf("%s: types sent % x", c.name, sent)
		}
		if c.sent {
			if types := ParamTypesOf(sent, nil); !reflect.DeepEqual(types, ex.ParamTypes()) {
				t.Errorf("%s: ParamTypesOf = %v", c.name, types)
			}
			if prev := ex.ParamTypes(); len(prev) > 0 && &ParamTypesOf(sent, prev)[0] != &prev[0] {
				t.Errorf("%s: the same types read as new", c.name)
			}
		}
	}
	for name, bad := range map[string]struct {
		payload []byte
		prev    []ParamType
	}{
		"short header":      {hexPayload(t, "17 01 00 00 00 00 01 00"), nil},
		"not an execute":    {hexPayload(t, "03 01 00 00 00 00 01 00 00 00 00 01"), nil},
		"no bitmap":         {hexPayload(t, "17 01 00 00 00 00 01 00 00 00"), nil},
		"types truncated":   {three[:15], nil},
		"types never sent":  {again, nil},
		"too few old types": {again, prev[:2]},
		"value truncated":   {three[:len(three)-1], nil},
		"unknown type":      {hexPayload(t, "17 01 00 00 00 00 01 00 00 00 00 01 ee 00 00 00 ee 00 00 00 ee 00 00"), nil},
	} {
		if _, _, ok := RebindExecute(nil, bad.payload, 0, 3, bad.prev); ok {
			t.Errorf("%s: relayed", name)
		}
	}
}
