package router

import (
	"errors"
	"fmt"

	"github.com/shardproxy/shardproxy/sqlparse"
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
// packet: Code, SQLState() and Message, which says what to change.
type Error struct {
	Code    uint16
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("ERROR %d: %s", e.Code, e.Message) }

// SQLState is the five-character state MySQL pairs with Code.
func (e *Error) SQLState() string {
	switch e.Code {
	case ErNoDB:
		return "3D000"
	case ErBadDB, ErParse, ErNotSupported:
		return "42000"
	}
	return "HY000"
}

func errorf(code uint16, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
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
		return &Error{Code: ErParse, Message: pe.Error()}
	}
	return &Error{Code: ErUnknown, Message: err.Error()}
}
