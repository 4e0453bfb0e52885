package engine

import (
	"fmt"

	"github.com/shardproxy/shardproxy/wire"
)

// MySQL error numbers the engine answers with.
const (
	ErBadField         = 1054 // ER_BAD_FIELD_ERROR
	ErWrongGroupField  = 1056 // ER_WRONG_GROUP_FIELD
	ErUnknown          = 1105 // ER_UNKNOWN_ERROR
	ErInvalidGroupFunc = 1111 // ER_INVALID_GROUP_FUNC_USE
	ErWrongArguments   = 1210 // ER_WRONG_ARGUMENTS
	ErIllegalReference = 1247 // ER_ILLEGAL_REFERENCE
	ErWrongParamCount  = 1582 // ER_WRONG_PARAMCOUNT_TO_NATIVE_FCT
	ErNotSupported     = 1235 // ER_NOT_SUPPORTED_YET
	ErDataOutOfRange   = 1690 // ER_DATA_OUT_OF_RANGE
)

// Error is an engine error the proxy sends as a MySQL error packet; it is
// the wire's error type. Errors of the shards' own streams pass through the
// engine unchanged.
type Error = wire.Error

func errorf(code uint16, format string, args ...any) *Error {
	return wire.NewError(code, fmt.Sprintf(format, args...))
}

// unsupported is the 1235 refusal: what cannot be answered exactly across
// shards is refused rather than answered wrong.
func unsupported(format string, args ...any) *Error {
	return errorf(ErNotSupported, format, args...)
}
