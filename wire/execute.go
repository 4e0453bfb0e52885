package wire

import (
	"encoding/binary"
	"errors"
)

// ParamType is a bound parameter's type as COM_STMT_EXECUTE sends it.
type ParamType struct {
	Type     byte
	Unsigned bool
}

// Param is one bound value of COM_STMT_EXECUTE, kept in its binary encoding
// (without a length prefix for variable-length types).
type Param struct {
	ParamType
	Null  bool
	Value []byte
}

// Execute is a decoded COM_STMT_EXECUTE.
type Execute struct {
	StmtID    uint32
	Flags     byte
	Params    []Param
	TypesSent bool
}

var errShortExecute = errors.New("COM_STMT_EXECUTE packet is truncated")

// ParseExecute decodes a client's COM_STMT_EXECUTE (payload starting with the
// command byte). A re-execute may omit the parameter types; prevTypes, the
// types of the statement's previous execute, apply then. Parameters sent
// with COM_STMT_SEND_LONG_DATA are absent from the packet and take longData.
func ParseExecute(payload []byte, paramCount int, prevTypes []ParamType, longData map[int][]byte) (Execute, error) {
	var ex Execute
	if len(payload) < 10 {
		return ex, errShortExecute
	}
	ex.StmtID = binary.LittleEndian.Uint32(payload[1:])
	ex.Flags = payload[5]
	pos := 10 // command, stmt id, flags, iteration count
	if paramCount == 0 {
		return ex, nil
	}
	nullLen := (paramCount + 7) / 8
	if len(payload) < pos+nullLen+1 {
		return ex, errShortExecute
	}
	nulls := payload[pos : pos+nullLen]
	pos += nullLen
	ex.TypesSent = payload[pos] == 1
	pos++
	types := prevTypes
	if ex.TypesSent {
		if len(payload) < pos+2*paramCount {
			return ex, errShortExecute
		}
		types = make([]ParamType, paramCount)
		for i := range types {
			types[i] = ParamType{Type: payload[pos], Unsigned: payload[pos+1]&0x80 != 0}
			pos += 2
		}
	}
	if len(types) != paramCount {
		return ex, errors.New("COM_STMT_EXECUTE without parameter types for a statement never executed with them")
	}
	ex.Params = make([]Param, paramCount)
	for i := range ex.Params {
		p := &ex.Params[i]
		p.ParamType = types[i]
		if data, ok := longData[i]; ok {
			p.Value = data
			continue
		}
		if nulls[i/8]&(1<<(i%8)) != 0 || p.Type == TypeNull {
			p.Null = true
			continue
		}
		n, skip, err := valueLength(p.Type, payload[pos:])
		if err != nil {
			return ex, err
		}
		pos += skip
		if len(payload) < pos+n {
			return ex, errShortExecute
		}
		p.Value = payload[pos : pos+n]
		pos += n
	}
	return ex, nil
}

// valueLength returns the size of a binary value and of its length prefix.
func valueLength(t byte, b []byte) (n, prefix int, err error) {
	switch t {
	case TypeTiny:
		return 1, 0, nil
	case TypeShort, TypeYear:
		return 2, 0, nil
	case TypeLong, TypeInt24, TypeFloat:
		return 4, 0, nil
	case TypeLongLong, TypeDouble:
		return 8, 0, nil
	case TypeDate, TypeDatetime, TypeTimestamp, TypeTime:
		if len(b) < 1 {
			return 0, 0, errShortExecute
		}
		return int(b[0]), 1, nil
	default:
		v, null, m := ReadLenEncInt(b)
		if m == 0 || null || v > uint64(len(b)) {
			return 0, 0, errShortExecute
		}
		return int(v), m, nil
	}
}

// TypesOf returns the parameter types, to reuse on a later execute.
func TypesOf(params []Param) []ParamType {
	types := make([]ParamType, len(params))
	for i, p := range params {
		types[i] = p.ParamType
	}
	return types
}

// AppendExecute encodes COM_STMT_EXECUTE for a backend statement, always
// with the parameter types: a backend connection may never have seen them.
func AppendExecute(b []byte, stmtID uint32, params []Param) []byte {
	b = append(b, 0x17)
	b = binary.LittleEndian.AppendUint32(b, stmtID)
	b = append(b, 0, 1, 0, 0, 0) // no cursor, iteration count 1
	if len(params) == 0 {
		return b
	}
	nullStart := len(b)
	b = append(b, make([]byte, (len(params)+7)/8)...)
	for i, p := range params {
		if p.Null {
			b[nullStart+i/8] |= 1 << (i % 8)
		}
	}
	b = append(b, 1)
	for _, p := range params {
		flag := byte(0)
		if p.Unsigned {
			flag = 0x80
		}
		b = append(b, p.Type, flag)
	}
	for _, p := range params {
		if p.Null {
			continue
		}
		switch p.Type {
		case TypeTiny, TypeShort, TypeYear, TypeLong, TypeInt24, TypeFloat, TypeLongLong, TypeDouble:
			b = append(b, p.Value...)
		case TypeDate, TypeDatetime, TypeTimestamp, TypeTime:
			b = append(b, byte(len(p.Value)))
			b = append(b, p.Value...)
		default:
			b = AppendLenEncString(b, p.Value)
		}
	}
	return b
}
