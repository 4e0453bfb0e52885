package engine

import "fmt"

// MySQL error numbers the engine answers with.
const (
	ErBadField         = 1054 // ER_BAD_FIELD_ERROR
	ErWrongGroupField  = 1056 // ER_WRONG_GROUP_FIELD
	ErUnknown          = 1105 // ER_UNKNOWN_ERROR
	ErInvalidGroupFunc = 1111 // ER_INVALID_GROUP_FUNC_USE
	ErWrongArguments   = 1210 // ER_WRONG_ARGUMENTS
	ErNotSupported     = 1235 // ER_NOT_SUPPORTED_YET
	ErDataOutOfRange   = 1690 // ER_DATA_OUT_OF_RANGE
)

// Error is an engine error the proxy sends as a MySQL error packet. Errors
// of the shards' own streams pass through the engine unchanged.
type Error struct {
	Code    uint16
	Message string
}

func (e *Error) Error() string { return e.Message }

// MySQLCode is the error number of the packet.
func (e *Error) MySQLCode() uint16 { return e.Code }

// SQLState is the five-character state MySQL pairs with Code.
func (e *Error) SQLState() string {
	switch e.Code {
	case ErBadField, ErWrongGroupField:
		return "42S22"
	case ErNotSupported, ErInvalidGroupFunc:
		return "42000"
	case ErDataOutOfRange:
		return "22003"
	}
	return "HY000"
}

func errorf(code uint16, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// unsupported is the 1235 refusal: what cannot be answered exactly across
// shards is refused rather than answered wrong.
func unsupported(format string, args ...any) *Error {
	return errorf(ErNotSupported, format, args...)
}
