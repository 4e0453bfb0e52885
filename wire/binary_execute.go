package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
)

const comStmtExecute = 0x17

// unsignedParamFlag marks an unsigned parameter in the second byte of its type.
const unsignedParamFlag = 0x80

// ErrMalformedExecute wraps every error ParseExecute returns; MySQL answers
// such packets with ER_MALFORMED_PACKET.
var ErrMalformedExecute = errors.New("malformed COM_STMT_EXECUTE")

// ParamType is the type a client bound a parameter with.
type ParamType struct {
	Type     byte
	Unsigned bool
}

// Param is one bound parameter of a COM_STMT_EXECUTE.
type Param struct {
	Type     byte
	Unsigned bool
	Null     bool
	// Value is the value as encoded on the wire: the little-endian bytes of
	// TINY/SHORT/LONG/LONGLONG/FLOAT/DOUBLE, the bytes after the length byte
	// of DATE/DATETIME/TIMESTAMP/TIME, and the bytes without the length
	// prefix of every other type (COM_STMT_SEND_LONG_DATA data included).
	Value []byte
}

// Execute is a decoded COM_STMT_EXECUTE.
type Execute struct {
	StmtID uint32
	Flags  byte // cursor type
	Params []Param
	// TypesSent reports that the packet carried parameter types
	// (new-params-bound-flag 1); keep ParamTypes for later executes.
	TypesSent bool
}

// ParamTypes returns the parameters' types, to pass as prevTypes when the
// client re-executes the statement without sending types.
func (e *Execute) ParamTypes() []ParamType {
	types := make([]ParamType, len(e.Params))
	for i, p := range e.Params {
		types[i] = ParamType{Type: p.Type, Unsigned: p.Unsigned}
	}
	return types
}

// ParseExecute decodes a COM_STMT_EXECUTE payload (starting with the 0x17
// command byte) of a statement prepared with paramCount parameters.
//
// When the client omits the types (new-params-bound-flag 0, allowed on a
// re-execute) prevTypes, the types of an earlier execute, apply. longData
// holds the COM_STMT_SEND_LONG_DATA bytes per parameter index: such a
// parameter has no value in the packet, takes these bytes and, as in MySQL,
// ignores its NULL bit; it must have a string or blob type.
//
// Parameters are read as MySQL's server reads them, which differs from
// result rows for INT24, YEAR and NULL types: those values are
// length-encoded strings. CLIENT_QUERY_ATTRIBUTES must not have been
// negotiated (its extra parameter count and names are not parsed), and
// bytes after the last value are ignored as the server ignores them.
// Values alias payload and longData.
func ParseExecute(payload []byte, paramCount int, prevTypes []ParamType, longData map[int][]byte) (Execute, error) {
	return ParseExecuteInto(nil, payload, paramCount, prevTypes, longData)
}

// ParseExecuteInto is ParseExecute reusing dst's array for the parameters.
func ParseExecuteInto(dst []Param, payload []byte, paramCount int, prevTypes []ParamType, longData map[int][]byte) (Execute, error) {
	malformed := func(format string, args ...any) (Execute, error) {
		return Execute{}, fmt.Errorf("%w: %s", ErrMalformedExecute, fmt.Sprintf(format, args...))
	}
	var ex Execute
	if paramCount < 0 {
		return malformed("negative parameter count")
	}
	nulls, sent, rest, problem := splitExecute(payload, paramCount, prevTypes)
	if problem != "" {
		return malformed("%s", problem)
	}
	ex.StmtID = binary.LittleEndian.Uint32(payload[1:])
	ex.Flags = payload[5]
	if paramCount == 0 {
		return ex, nil
	}
	ex.TypesSent = sent != nil

	if cap(dst) >= paramCount {
		ex.Params = dst[:paramCount]
		clear(ex.Params)
	} else {
		ex.Params = make([]Param, paramCount)
	}
	for i := range ex.Params {
		p := &ex.Params[i]
		if ex.TypesSent {
			// MySQL takes the two bytes as one code; other flag bits make it no type.
			if flags := sent[2*i+1]; flags&^unsignedParamFlag != 0 {
				return malformed("parameter %d: type flags 0x%02x", i, flags)
			}
			p.Type, p.Unsigned = sent[2*i], sent[2*i+1] != 0
		} else {
			p.Type, p.Unsigned = prevTypes[i].Type, prevTypes[i].Unsigned
		}
		if _, ok := paramLayout(p.Type); !ok {
			return malformed("parameter %d: unsupported type 0x%02x", i, p.Type)
		}
	}

	for i := range ex.Params {
		p := &ex.Params[i]
		if data, ok := longData[i]; ok {
			// Only blob and string types take long data (is_param_long_data_type).
			if p.Type < TypeTinyBlob || p.Type > TypeString {
				return malformed("parameter %d: long data for type 0x%02x", i, p.Type)
			}
			p.Value = data
			continue
		}
		if nulls[i/8]&(1<<(i%8)) != 0 {
			p.Null = true
			continue
		}
		layout, _ := paramLayout(p.Type)
		v, n, err := readValue(rest, layout)
		if err == nil {
			err = checkParamValue(p.Type, layout, v)
		}
		if err != nil {
			return malformed("parameter %d: %v", i, err)
		}
		p.Value = v
		rest = rest[n:]
	}
	return ex, nil
}

// checkParamValue rejects values that have no SQL value (a non-finite
// float, an impossible date, a DECIMAL that is not a number), so that the
// client gets an error instead of a routing decision made on garbage.
func checkParamValue(typ byte, l valueLayout, v []byte) error {
	switch l {
	case layoutFloat:
		if f := float64(math.Float32frombits(binary.LittleEndian.Uint32(v))); math.IsInf(f, 0) || math.IsNaN(f) {
			return errors.New("FLOAT is not finite")
		}
	case layoutDouble:
		if f := math.Float64frombits(binary.LittleEndian.Uint64(v)); math.IsInf(f, 0) || math.IsNaN(f) {
			return errors.New("DOUBLE is not finite")
		}
	case layoutDate, layoutTime:
		_, err := decodeTemporal(l, v, true)
		return err
	case layoutLenEnc:
		if isDecimalType(typ) {
			if _, ok := parseDecimal(v); !ok {
				return fmt.Errorf("DECIMAL %q is not a number", v)
			}
		}
	}
	return nil
}

// AppendExecute appends a COM_STMT_EXECUTE payload (command byte included)
// for the backend: no cursor, iteration count 1, and always the types, so
// the backend never depends on what an earlier execute sent. Long data goes
// inline, which the server accepts for the string and blob types it is
// allowed for.
func AppendExecute(b []byte, stmtID uint32, params []Param) []byte {
	b = append(b, comStmtExecute)
	b = binary.LittleEndian.AppendUint32(b, stmtID)
	b = append(b, 0) // CURSOR_TYPE_NO_CURSOR
	b = binary.LittleEndian.AppendUint32(b, 1)
	if len(params) == 0 {
		return b
	}
	nullsAt := len(b)
	b = appendRepeated(b, 0, (len(params)+7)/8)
	b = append(b, 1) // new-params-bound-flag
	for _, p := range params {
		b = appendParamType(b, p.Type, p.Unsigned)
	}
	for i, p := range params {
		if p.Null {
			b[nullsAt+i/8] |= 1 << (i % 8)
			continue
		}
		layout, _ := paramLayout(p.Type)
		b = appendValue(b, layout, p.Value)
	}
	return b
}

// RebindExecute appends the client's COM_STMT_EXECUTE payload for a
// backend statement without decoding its values: stmtID in place of the
// client's, no cursor, iteration count 1, and the types always sent (a
// client may omit them on a re-execute; prevTypes are those it sent
// last). It returns the types the payload carries (nil when omitted), and
// false when the payload cannot be relayed so (ParseExecute then says
// what is wrong).
func RebindExecute(b, payload []byte, stmtID uint32, paramCount int, prevTypes []ParamType) ([]byte, []byte, bool) {
	nulls, sent, values, problem := splitExecute(payload, paramCount, prevTypes)
	if problem != "" {
		return b, nil, false
	}
	b = append(b, comStmtExecute)
	b = binary.LittleEndian.AppendUint32(b, stmtID)
	b = append(b, 0) // CURSOR_TYPE_NO_CURSOR
	b = binary.LittleEndian.AppendUint32(b, 1)
	if paramCount == 0 {
		return b, nil, true
	}
	b = append(b, nulls...)
	b = append(b, 1) // new-params-bound-flag
	if sent != nil {
		b = append(b, sent...)
	} else {
		b = appendParamTypes(b, prevTypes)
	}
	// The values are not decoded, but they must all be there: MariaDB
	// reads a truncated one as empty, where the proxy answers an error.
	v := values
	for i := range paramCount {
		if nulls[i/8]&(1<<(i%8)) != 0 {
			continue
		}
		typ := byte(0)
		if sent != nil {
			typ = sent[2*i]
		} else {
			typ = prevTypes[i].Type
		}
		layout, ok := paramLayout(typ)
		if !ok {
			return b, nil, false
		}
		_, n, err := readValue(v, layout)
		if err != nil {
			return b, nil, false
		}
		v = v[n:]
	}
	return append(b, values...), sent, true
}

// splitExecute splits a COM_STMT_EXECUTE payload of a statement with
// paramCount parameters into its NULL bitmap, the types it sends (nil when
// it omits them, as a re-execute may: prevTypes must then be there) and the
// values; problem says what is missing.
func splitExecute(payload []byte, paramCount int, prevTypes []ParamType) (nulls, sent, values []byte, problem string) {
	const headerSize = 10 // command, statement id(4), flags, iteration count(4)
	if len(payload) < headerSize || payload[0] != comStmtExecute {
		return nil, nil, nil, "short header"
	}
	if paramCount <= 0 {
		return nil, nil, nil, ""
	}
	rest := payload[headerSize:]
	bitmapSize := (paramCount + 7) / 8
	if len(rest) < bitmapSize+1 {
		return nil, nil, nil, "NULL bitmap truncated"
	}
	nulls, values = rest[:bitmapSize], rest[bitmapSize+1:]
	if rest[bitmapSize] == 0 {
		if len(prevTypes) != paramCount {
			return nil, nil, nil, "parameter types omitted and none from an earlier execute"
		}
		return nulls, nil, values, ""
	}
	if len(values) < 2*paramCount {
		return nil, nil, nil, "parameter types truncated"
	}
	return nulls, values[:2*paramCount], values[2*paramCount:], ""
}

// SetExecuteStmtID sets the statement ID of a COM_STMT_EXECUTE payload.
func SetExecuteStmtID(payload []byte, stmtID uint32) {
	binary.LittleEndian.PutUint32(payload[1:], stmtID)
}

// appendParamTypes appends types as an execute sends them: two bytes each.
func appendParamTypes(b []byte, types []ParamType) []byte {
	for _, t := range types {
		b = appendParamType(b, t.Type, t.Unsigned)
	}
	return b
}

func appendParamType(b []byte, typ byte, unsigned bool) []byte {
	if unsigned {
		return append(b, typ, unsignedParamFlag)
	}
	return append(b, typ, 0)
}

// ParamTypesOf reads types as an execute sends them: prev itself when
// they are prev's (no allocation per execution), else a new slice.
func ParamTypesOf(sent []byte, prev []ParamType) []ParamType {
	same := len(sent) == 2*len(prev)
	for i := 0; same && i < len(prev); i++ {
		same = sent[2*i] == prev[i].Type && (sent[2*i+1] != 0) == prev[i].Unsigned
	}
	if same {
		return prev
	}
	types := make([]ParamType, len(sent)/2)
	for i := range types {
		types[i] = ParamType{Type: sent[2*i], Unsigned: sent[2*i+1] != 0}
	}
	return types
}

// appendParamTemporal prints a temporal parameter with all six fractional
// digits when it has any, and a TIME past MySQL's range clamped as the
// server clamps it (set_param_time).
func appendParamTemporal(b []byte, typ byte, t temporalValue) []byte {
	if typ == TypeTime && t.hours() > 838 {
		t.days, t.hour, t.minute, t.second, t.micro = 34, 22, 59, 59, 0 // 838:59:59
	}
	fsp := 0
	if t.micro != 0 {
		fsp = 6
	}
	return appendTemporalText(b, typ, t, fsp)
}

// Text returns the value's canonical text: integers in decimal, floats with
// the digits that round-trip (a FLOAT widened to double as MySQL does),
// decimals as written, temporal values with all six fractional digits when
// they have any, and the raw bytes of strings and blobs. It is "" for NULL
// and for a Value that does not decode.
func (p Param) Text() string {
	b, ok := p.appendText(nil)
	if !ok {
		return ""
	}
	return string(b)
}

// appendText appends the canonical text; ok is false for NULL and for a
// Value that does not decode.
func (p Param) appendText(b []byte) ([]byte, bool) {
	if p.Null {
		return b, false
	}
	layout, _ := paramLayout(p.Type)
	switch layout {
	case layoutInt1, layoutInt2, layoutInt4, layoutInt8:
		if p.Unsigned {
			u, ok := p.Uint()
			return strconv.AppendUint(b, u, 10), ok
		}
		i, ok := p.Int()
		return strconv.AppendInt(b, i, 10), ok
	case layoutFloat, layoutDouble:
		f, ok := p.Float()
		if !ok || math.IsInf(f, 0) || math.IsNaN(f) {
			return b, false
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), true
	case layoutDate, layoutTime:
		t, err := decodeTemporal(layout, p.Value, true)
		if err != nil {
			return b, false
		}
		return appendParamTemporal(b, p.Type, t), true
	}
	if isDecimalType(p.Type) {
		written, ok := parseDecimal(p.Value)
		return append(b, written...), ok
	}
	return append(b, p.Value...), true
}

// Int returns an integer parameter's value, or a decimal or string one
// written as a plain integer. ok is false for NULL, for values out of int64
// range and for anything else.
func (p Param) Int() (int64, bool) {
	if size, isInt := p.intSize(); isInt {
		if size == 0 {
			return 0, false
		}
		u := leUint(p.Value)
		if !p.Unsigned {
			return signExtend(u, size), true
		}
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	s, ok := p.numericText()
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// Uint is Int for uint64: ok is false for negative values.
func (p Param) Uint() (uint64, bool) {
	if size, isInt := p.intSize(); isInt {
		if size == 0 {
			return 0, false
		}
		u := leUint(p.Value)
		if !p.Unsigned {
			i := signExtend(u, size)
			if i < 0 {
				return 0, false
			}
			return uint64(i), true
		}
		return u, true
	}
	s, ok := p.numericText()
	if !ok || (len(s) > 0 && s[0] == '-') {
		return 0, false
	}
	u, err := strconv.ParseUint(s, 10, 64)
	return u, err == nil
}

// Float returns a numeric parameter's value (a FLOAT widened to float64),
// or a decimal or string one written as a decimal number.
func (p Param) Float() (float64, bool) {
	if p.Null {
		return 0, false
	}
	layout, _ := paramLayout(p.Type)
	switch layout {
	case layoutFloat:
		if len(p.Value) != 4 {
			return 0, false
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(p.Value))), true
	case layoutDouble:
		if len(p.Value) != 8 {
			return 0, false
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(p.Value)), true
	case layoutInt1, layoutInt2, layoutInt4, layoutInt8:
		if p.Unsigned {
			u, ok := p.Uint()
			return float64(u), ok
		}
		i, ok := p.Int()
		return float64(i), ok
	}
	s, ok := p.numericText()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// intSize reports whether the parameter has an integer wire layout, and its
// size, 0 when the value does not have that size (or is NULL).
func (p Param) intSize() (size int, isInt bool) {
	layout, _ := paramLayout(p.Type)
	size = layout.intSize()
	if size == 0 {
		return 0, false
	}
	if p.Null || len(p.Value) != size {
		return 0, true
	}
	return size, true
}

// numericText returns a decimal or string value, without a plus sign, when
// it is a plain decimal number: the only text Int, Uint and Float convert
// (not "0x1p3", "inf", " 7" or "7abc", which strconv or MySQL would read
// differently).
func (p Param) numericText() (string, bool) {
	layout, _ := paramLayout(p.Type)
	if p.Null || layout != layoutLenEnc {
		return "", false
	}
	written, ok := parseDecimal(p.Value)
	if !ok || (!isDecimalType(p.Type) && len(written) != len(p.Value)) {
		return "", false
	}
	if written[0] == '+' {
		return string(written[1:]), true
	}
	return string(written), true
}

// parseDecimal accepts [+-]digits[.digits][(e|E)[+-]digits] with at least
// one mantissa digit, surrounded by optional spaces as MySQL's
// str2my_decimal allows, and returns it without the spaces.
func parseDecimal(s []byte) ([]byte, bool) {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == ' ' {
		s = s[:len(s)-1]
	}
	written, rest := s, s
	if len(rest) > 0 && (rest[0] == '-' || rest[0] == '+') {
		rest = rest[1:]
	}
	mantissa := countDigits(rest)
	rest = rest[mantissa:]
	if len(rest) > 0 && rest[0] == '.' {
		n := countDigits(rest[1:])
		mantissa += n
		rest = rest[1+n:]
	}
	if mantissa == 0 {
		return written, false
	}
	if len(rest) > 0 && (rest[0] == 'e' || rest[0] == 'E') {
		rest = rest[1:]
		if len(rest) > 0 && (rest[0] == '-' || rest[0] == '+') {
			rest = rest[1:]
		}
		n := countDigits(rest)
		if n == 0 {
			return written, false
		}
		rest = rest[n:]
	}
	return written, len(rest) == 0
}

func countDigits(s []byte) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
