package wire

import (
	"bytes"
	"encoding/binary"
)

// Packet headers.
const (
	OKHeader  = 0x00
	EOFHeader = 0xfe
	ErrHeader = 0xff
	// LocalInfileHeader asks the client for a file (LOAD DATA LOCAL).
	LocalInfileHeader = 0xfb
)

// Server status flags.
const (
	StatusInTrans          uint16 = 0x0001
	StatusAutocommit       uint16 = 0x0002
	StatusMoreResults      uint16 = 0x0008
	StatusNoGoodIndexUsed  uint16 = 0x0010
	StatusNoIndexUsed      uint16 = 0x0020
	StatusCursorExists     uint16 = 0x0040
	StatusLastRowSent      uint16 = 0x0080
	StatusInTransReadonly  uint16 = 0x2000
	StatusSessionStateChgd uint16 = 0x4000
)

// Capability flags used by the proxy.
const (
	ClientFoundRows       uint32 = 0x00000002
	ClientConnectWithDB   uint32 = 0x00000008
	ClientLocalFiles      uint32 = 0x00000080
	ClientIgnoreSpace     uint32 = 0x00000100
	ClientProtocol41      uint32 = 0x00000200
	ClientSSL             uint32 = 0x00000800
	ClientTransactions    uint32 = 0x00002000
	ClientMultiStatements uint32 = 0x00010000
	ClientMultiResults    uint32 = 0x00020000
	ClientPSMultiResults  uint32 = 0x00040000
	ClientSessionTrack    uint32 = 0x00800000
	ClientDeprecateEOF    uint32 = 0x01000000
	// ClientMySQL (CLIENT_LONG_PASSWORD) is set by MySQL peers; a MariaDB
	// server clears it in its greeting, and a client clears it to send
	// MariaDB's extended capabilities in its handshake response.
	ClientMySQL uint32 = 0x00000001
)

// MariaDBCacheMetadata is MariaDB's extended capability (the upper 32 bits
// of its 64-bit flags) to skip column definitions that did not change
// since the client last received them: a result set's column count is then
// followed by one byte, 1 when the definitions follow and 0 when not.
const MariaDBCacheMetadata uint32 = 1 << (36 - 32)

// Handshake offsets of MariaDB's extended capabilities.
const (
	// ExtCapsResponseOffset: in a handshake response payload (and an SSL
	// request), after capabilities(4), max packet(4), charset(1) and 19 of
	// the 23 filler bytes.
	ExtCapsResponseOffset = 28
	// ExtCapsGreetingSkip: in a greeting, bytes from the end of the upper
	// capability flags to the extended ones: auth data length(1), then 6 of
	// the 10 reserved bytes.
	ExtCapsGreetingSkip = 7
)

// GreetingCaps locates the capability flags of a greeting packet (header
// included): the offsets of their lower and upper 16 bits, and of MariaDB's
// extended capabilities.
func GreetingCaps(p []byte) (low, high, ext int, ok bool) {
	// header(4) protocol(1) version NUL conn-id(4) salt(8) filler(1)
	// caps-low(2) charset(1) status(2) caps-high(2) auth-len(1) reserved(10)
	if len(p) < 5 || p[4] != 10 {
		return 0, 0, 0, false
	}
	end := bytes.IndexByte(p[5:], 0)
	if end < 0 {
		return 0, 0, 0, false
	}
	low = 5 + end + 1 + 4 + 8 + 1
	high = low + 2 + 1 + 2
	ext = high + 2 + ExtCapsGreetingSkip
	if len(p) < ext+4 {
		return 0, 0, 0, false
	}
	return low, high, ext, true
}

// GreetingSeed returns the 20-byte seed a greeting packet (header
// included) asks the client to scramble its password with: 8 bytes before
// the lower capability flags, 12 after the reserved bytes.
func GreetingSeed(p []byte) ([]byte, bool) {
	low, _, ext, ok := GreetingCaps(p)
	if !ok || len(p) < ext+4+12 {
		return nil, false
	}
	seed := make([]byte, 0, 20)
	seed = append(seed, p[low-1-8:low-1]...)
	return append(seed, p[ext+4:ext+4+12]...), true
}

// OK is a decoded OK packet.
type OK struct {
	AffectedRows uint64
	LastInsertID uint64
	Status       uint16
	Warnings     uint16
	Info         []byte
}

// ParseOK decodes an OK packet (also the 0xfe-headed OK ending a result set).
func ParseOK(p []byte) (OK, bool) {
	var ok OK
	if len(p) < 1 {
		return ok, false
	}
	pos := 1
	var n int
	ok.AffectedRows, _, n = ReadLenEncInt(p[pos:])
	if n == 0 {
		return ok, false
	}
	pos += n
	ok.LastInsertID, _, n = ReadLenEncInt(p[pos:])
	if n == 0 {
		return ok, false
	}
	pos += n
	if len(p) < pos+4 {
		return ok, false
	}
	ok.Status = binary.LittleEndian.Uint16(p[pos:])
	ok.Warnings = binary.LittleEndian.Uint16(p[pos+2:])
	// MariaDB (and MySQL) length-encode the info, session tracking or not.
	if rest := p[pos+4:]; len(rest) > 0 {
		info, _, n, valid := ReadLenEncString(rest)
		if !valid || n == 0 {
			return ok, false
		}
		ok.Info = info
	}
	return ok, true
}

// AppendOK encodes an OK packet without session-tracking data; the info is
// length-encoded, as MariaDB writes it whether the client tracks sessions
// or not.
func AppendOK(b []byte, ok OK) []byte {
	b = append(b, OKHeader)
	b = AppendLenEncInt(b, ok.AffectedRows)
	b = AppendLenEncInt(b, ok.LastInsertID)
	b = binary.LittleEndian.AppendUint16(b, ok.Status&^StatusSessionStateChgd)
	b = binary.LittleEndian.AppendUint16(b, ok.Warnings)
	if len(ok.Info) > 0 {
		b = AppendLenEncString(b, ok.Info)
	}
	return b
}

// AppendEOF encodes an EOF packet.
func AppendEOF(b []byte, warnings, status uint16) []byte {
	b = append(b, EOFHeader)
	b = binary.LittleEndian.AppendUint16(b, warnings)
	return binary.LittleEndian.AppendUint16(b, status)
}

// IsEOF reports whether p is an EOF packet (not a row starting with 0xfe).
func IsEOF(p []byte) bool { return len(p) > 0 && p[0] == EOFHeader && len(p) < 9 }

// EOFStatus returns the warnings and status of an EOF packet.
func EOFStatus(p []byte) (warnings, status uint16) {
	if len(p) < 5 {
		return 0, 0
	}
	return binary.LittleEndian.Uint16(p[1:]), binary.LittleEndian.Uint16(p[3:])
}

// SetEOFStatus rewrites the status flags of an EOF packet in place.
func SetEOFStatus(p []byte, status uint16) {
	if len(p) >= 5 {
		binary.LittleEndian.PutUint16(p[3:], status)
	}
}

// Error is a MySQL error as sent on the wire.
type Error struct {
	Code     uint16
	SQLState string
	Message  string
}

func (e *Error) Error() string { return e.Message }

// NewError builds an error with the SQLSTATE MySQL uses for code.
func NewError(code uint16, msg string) *Error {
	return &Error{Code: code, SQLState: sqlStateOf(code), Message: msg}
}

// sqlStateOf is the one table of SQLSTATEs for the codes the proxy, the
// router and the engine send themselves.
func sqlStateOf(code uint16) string {
	switch code {
	case 1045:
		return "28000"
	case 1044, 1049, 1064, 1149, 1227, 1235, 1111, 1250, 1305:
		return "42000"
	case 1046:
		return "3D000"
	case 1040:
		return "08004"
	case 1146:
		return "42S02"
	case 1136:
		return "21S01"
	case 1054, 1056:
		return "42S22"
	case 1317:
		return "70100"
	case 1690:
		return "22003"
	case 1568:
		return "25001"
	default:
		return "HY000"
	}
}

// ParseError decodes an ERR packet.
func ParseError(p []byte) *Error {
	e := &Error{Code: 1105, SQLState: "HY000"}
	if len(p) < 3 {
		e.Message = "malformed error packet"
		return e
	}
	e.Code = binary.LittleEndian.Uint16(p[1:])
	rest := p[3:]
	if len(rest) >= 6 && rest[0] == '#' {
		e.SQLState = string(rest[1:6])
		rest = rest[6:]
	}
	e.Message = string(rest)
	return e
}

// AppendError encodes an ERR packet.
func AppendError(b []byte, e *Error) []byte {
	b = append(b, ErrHeader)
	b = binary.LittleEndian.AppendUint16(b, e.Code)
	state := e.SQLState
	if len(state) != 5 {
		state = "HY000"
	}
	b = append(b, '#')
	b = append(b, state...)
	return append(b, e.Message...)
}
