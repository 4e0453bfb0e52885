package router

import (
	"errors"
	"fmt"

	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// MySQL error numbers the router answers with.
const (
	ErNoDB            = 1046 // ER_NO_DB_ERROR
	ErBadDB           = 1049 // ER_BAD_DB_ERROR
	ErParse           = 1064 // ER_PARSE_ERROR
	ErUnknown         = 1105 // ER_UNKNOWN_ERROR
	ErWrongValueCount = 1136 // ER_WRONG_VALUE_COUNT_ON_ROW
	ErWrongArguments  = 1210 // ER_WRONG_ARGUMENTS
	ErNotSupported    = 1235 // ER_NOT_SUPPORTED_YET
)

// Error is a routing error the proxy sends to the client as a MySQL error
// packet; its Message says what to change. It is the wire's error type, so
// errors cross the packages without conversion.
type Error = wire.Error

func errorf(code uint16, format string, args ...any) *Error {
	return wire.NewError(code, fmt.Sprintf(format, args...))
}

// AsError turns any error from sqlparse or router into an *Error: parse
// errors become 1064, anything unexpected 1105.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var pe *sqlparse.ParseError
	if errors.As(err, &pe) {
		return wire.NewError(ErParse, pe.Error())
	}
	return wire.NewError(ErUnknown, err.Error())
}
