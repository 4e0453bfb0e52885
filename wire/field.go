package wire

import "encoding/binary"

// Column types.
const (
	TypeDecimal    byte = 0x00
	TypeTiny       byte = 0x01
	TypeShort      byte = 0x02
	TypeLong       byte = 0x03
	TypeFloat      byte = 0x04
	TypeDouble     byte = 0x05
	TypeNull       byte = 0x06
	TypeTimestamp  byte = 0x07
	TypeLongLong   byte = 0x08
	TypeInt24      byte = 0x09
	TypeDate       byte = 0x0a
	TypeTime       byte = 0x0b
	TypeDatetime   byte = 0x0c
	TypeYear       byte = 0x0d
	TypeVarchar    byte = 0x0f
	TypeBit        byte = 0x10
	TypeJSON       byte = 0xf5
	TypeNewDecimal byte = 0xf6
	TypeEnum       byte = 0xf7
	TypeSet        byte = 0xf8
	TypeTinyBlob   byte = 0xf9
	TypeMediumBlob byte = 0xfa
	TypeLongBlob   byte = 0xfb
	TypeBlob       byte = 0xfc
	TypeVarString  byte = 0xfd
	TypeString     byte = 0xfe
	TypeGeometry   byte = 0xff
)

// Column flags.
const (
	FlagNotNull  uint16 = 1
	FlagBinary   uint16 = 128
	FlagUnsigned uint16 = 32
)

// Charsets used in column definitions.
const (
	CharsetBinary  uint16 = 63
	CharsetUTF8MB4 uint16 = 45
)

// Field is a column definition (Protocol::ColumnDefinition41).
type Field struct {
	Catalog  []byte
	Schema   []byte
	Table    []byte
	OrgTable []byte
	Name     []byte
	OrgName  []byte
	Charset  uint16
	Length   uint32
	Type     byte
	Flags    uint16
	Decimals byte
	// Extended holds MariaDB's extended metadata, if any, verbatim.
	Extended []byte
}

// ParseField decodes a column definition. The returned slices alias p.
func ParseField(p []byte) (Field, bool) {
	var f Field
	pos := 0
	for _, dst := range []*[]byte{&f.Catalog, &f.Schema, &f.Table, &f.OrgTable, &f.Name, &f.OrgName} {
		s, _, n, ok := ReadLenEncString(p[pos:])
		if !ok {
			return f, false
		}
		*dst = s
		pos += n
	}
	// Fixed-length fields: 0x0c, charset(2), length(4), type(1), flags(2), decimals(1), filler(2).
	_, _, n := ReadLenEncInt(p[pos:])
	if n == 0 || len(p) < pos+n+10 {
		return f, false
	}
	pos += n
	f.Charset = binary.LittleEndian.Uint16(p[pos:])
	f.Length = binary.LittleEndian.Uint32(p[pos+2:])
	f.Type = p[pos+6]
	f.Flags = binary.LittleEndian.Uint16(p[pos+7:])
	f.Decimals = p[pos+9]
	return f, true
}

// FieldSchema returns a column definition's schema, decoding nothing else:
// a relay that only maps schema names decides on it alone.
func FieldSchema(p []byte) ([]byte, bool) {
	_, _, n, ok := ReadLenEncString(p)
	if !ok {
		return nil, false
	}
	schema, _, _, ok := ReadLenEncString(p[n:])
	return schema, ok
}

// AppendWithSchema appends column definition p with its schema replaced:
// the other fields are copied as they are, not decoded and encoded again
// (the schema rename is the proxy's per-result work on column
// definitions). false when p is malformed.
func AppendWithSchema(b, p []byte, schema string) ([]byte, bool) {
	_, _, n, ok := ReadLenEncString(p)
	if !ok {
		return b, false
	}
	_, _, m, ok := ReadLenEncString(p[n:])
	if !ok {
		return b, false
	}
	b = append(b, p[:n]...)
	b = append(AppendLenEncInt(b, uint64(len(schema))), schema...)
	return append(b, p[n+m:]...), true
}

// AppendField encodes a column definition.
func AppendField(b []byte, f *Field) []byte {
	catalog := f.Catalog
	if catalog == nil {
		catalog = []byte("def")
	}
	b = AppendLenEncString(b, catalog)
	b = AppendLenEncString(b, f.Schema)
	b = AppendLenEncString(b, f.Table)
	b = AppendLenEncString(b, f.OrgTable)
	b = AppendLenEncString(b, f.Name)
	b = AppendLenEncString(b, f.OrgName)
	b = append(b, 0x0c)
	b = binary.LittleEndian.AppendUint16(b, f.Charset)
	b = binary.LittleEndian.AppendUint32(b, f.Length)
	b = append(b, f.Type)
	b = binary.LittleEndian.AppendUint16(b, f.Flags)
	b = append(b, f.Decimals, 0, 0)
	return b
}

// RowValues splits a text-protocol row into its values; a nil entry is NULL.
// The values alias p. dst is reused when it has capacity.
func RowValues(dst [][]byte, p []byte, columns int) ([][]byte, bool) {
	dst = dst[:0]
	pos := 0
	for i := 0; i < columns; i++ {
		s, null, n, ok := ReadLenEncString(p[pos:])
		if !ok {
			return dst, false
		}
		if null {
			s = nil
		} else if s == nil {
			s = []byte{}
		}
		dst = append(dst, s)
		pos += n
	}
	return dst, pos == len(p)
}

// AppendTextRow encodes a text-protocol row; a nil value is NULL.
func AppendTextRow(b []byte, values [][]byte) []byte {
	for _, v := range values {
		if v == nil {
			b = append(b, 0xfb)
			continue
		}
		b = AppendLenEncString(b, v)
	}
	return b
}
