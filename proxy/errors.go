package proxy

import (
	"errors"
	"fmt"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/wire"
)

// MySQL error codes the proxy itself produces.
const (
	erTooManyConnections = 1040
	erDBCreateExists     = 1007
	erDBAccessDenied     = 1044
	erAccessDenied       = 1045
	erNoDB               = 1046
	erBadDB              = 1049
	erParse              = 1064
	erUnknownCommand     = 1047
	erUnknownStmtHandler = 1243
	erUnknown            = 1105
	erQueryInterrupted   = 1317
	erNotSupported       = 1235
	erMaxExecutionTime   = 3024
	erNetPacketTooLarge  = 1153
	erSecureTransport    = 3159
	erNoSuchThread       = 1094
	erNoSuchSavepoint    = 1305
	erLockDeadlock       = 1213
	erLockWaitTimeout    = 1205
)

func errorf(code uint16, format string, args ...any) *wire.Error {
	return wire.NewError(code, fmt.Sprintf(format, args...))
}

// toWireError keeps a backend's or the router's own code and SQLSTATE; any
// other failure becomes 1105 with its text.
func toWireError(err error) *wire.Error {
	var we *wire.Error
	if errors.As(err, &we) {
		return we
	}
	return wire.NewError(erUnknown, err.Error())
}

// checkSchemaAccess answers 1044 before 1049 so that a user cannot learn
// which schemas exist beyond the ones it may use.
func checkSchemaAccess(t *topology, u conf.User, name string) *wire.Error {
	if !mayUse(u, name) {
		return errorf(erDBAccessDenied, "Access denied for user '%s' to database '%s'", u.Name, name)
	}
	if t.schema(name) == nil {
		return errorf(erBadDB, "Unknown database '%s'", name)
	}
	return nil
}
