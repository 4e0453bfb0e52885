package wire

import "encoding/binary"

// AppendLenEncInt appends a length-encoded integer.
func AppendLenEncInt(b []byte, n uint64) []byte {
	switch {
	case n < 251:
		return append(b, byte(n))
	case n < 1<<16:
		return append(b, 0xfc, byte(n), byte(n>>8))
	case n < 1<<24:
		return append(b, 0xfd, byte(n), byte(n>>8), byte(n>>16))
	default:
		return append(b, 0xfe, byte(n), byte(n>>8), byte(n>>16), byte(n>>24),
			byte(n>>32), byte(n>>40), byte(n>>48), byte(n>>56))
	}
}

// AppendLenEncString appends a length-encoded string.
func AppendLenEncString(b []byte, s []byte) []byte {
	return append(AppendLenEncInt(b, uint64(len(s))), s...)
}

// ReadLenEncInt decodes a length-encoded integer at b[0:]; null reports the
// 0xfb NULL marker; n is the number of bytes consumed (0 when b is short).
func ReadLenEncInt(b []byte) (v uint64, null bool, n int) {
	if len(b) == 0 {
		return 0, false, 0
	}
	switch b[0] {
	case 0xfb:
		return 0, true, 1
	case 0xfc:
		if len(b) < 3 {
			return 0, false, 0
		}
		return uint64(binary.LittleEndian.Uint16(b[1:])), false, 3
	case 0xfd:
		if len(b) < 4 {
			return 0, false, 0
		}
		return uint64(b[1]) | uint64(b[2])<<8 | uint64(b[3])<<16, false, 4
	case 0xfe:
		if len(b) < 9 {
			return 0, false, 0
		}
		return binary.LittleEndian.Uint64(b[1:]), false, 9
	case 0xff:
		return 0, false, 0
	default:
		return uint64(b[0]), false, 1
	}
}

// ReadLenEncString decodes a length-encoded string; ok is false when b is short.
func ReadLenEncString(b []byte) (s []byte, null bool, n int, ok bool) {
	v, null, m := ReadLenEncInt(b)
	if m == 0 {
		return nil, false, 0, false
	}
	if null {
		return nil, true, m, true
	}
	end := m + int(v)
	if v > uint64(len(b)) || end > len(b) {
		return nil, false, 0, false
	}
	return b[m:end], false, end, true
}
