package proxy

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// execSet handles SET. autocommit and one-shot isolation belong to the proxy;
// everything else runs on a backend, whose resulting values are read back and
// recorded so that every connection the session uses later gets them too.
func (s *Session) execSet(ctx context.Context, st *ast.SetStmt, text string, more bool) error {
	var forward []*ast.VariableAssignment
	for _, v := range st.Variables {
		name := strings.ToLower(v.Name)
		if v.IsGlobal {
			return errorf(erNotSupported, "SET GLOBAL is not supported through shardproxy; set global variables on the backends")
		}
		switch {
		case v.IsSystem && name == "autocommit":
			on, err := boolValue(v.Value)
			if err != nil {
				return err
			}
			if !on && s.tablesLocked {
				return errTableLocksWithoutAutocommit
			}
			if on && !s.autocommit && s.inTx {
				if err := s.commit(ctx); err != nil {
					return err
				}
			}
			s.autocommit = on
		case v.IsSystem && name == "tx_isolation_one_shot":
			if s.inTx {
				return errTxInProgress
			}
			level, ok := literal(v.Value)
			if !ok {
				return errorf(erNotSupported, "SET TRANSACTION needs a literal isolation level")
			}
			s.pendingIsolation = strings.ReplaceAll(fmt.Sprint(level), "-", " ")
		case v.IsSystem && name == "tx_read_only":
			on, err := boolValue(v.Value)
			if err != nil {
				return err
			}
			if !sqlparse.SetsNextTransaction(text) {
				// The parser gives '0' and '1', which MariaDB refuses
				// for this variable when the assignment is restored.
				v.Value = ast.NewValueExpr(flagValue(on), "", "")
				forward = append(forward, v)
				break
			}
			if s.inTx {
				return errTxInProgress
			}
			s.pendingAccess = "READ WRITE"
			if on {
				s.pendingAccess = "READ ONLY"
			}
		default:
			forward = append(forward, v)
		}
	}
	if len(forward) > 0 {
		sql := text
		if len(forward) != len(st.Variables) {
			var err error
			if sql, err = s.restore(&ast.SetStmt{Variables: forward}); err != nil {
				return err
			}
		}
		warnings, err := s.applySet(ctx, sql, forward)
		if err != nil {
			return err
		}
		return s.okPacket(wire.OK{Warnings: warnings}, more)
	}
	return s.okPacket(wire.OK{}, more)
}

// errTxInProgress refuses SET TRANSACTION (the next transaction's
// characteristics) inside a transaction, as MariaDB does.
var errTxInProgress = wire.NewError(1568, "Transaction characteristics can't be changed while a transaction is in progress")

// applySet runs the assignments on one backend connection and records the
// values they produced; it returns the warnings the SET raised.
func (s *Session) applySet(ctx context.Context, sql string, vars []*ast.VariableAssignment) (uint16, error) {
	sc, werr := s.anySchema()
	if werr != nil {
		return 0, werr
	}
	c, err := s.acquire(ctx, sc, sc.defaultShard, false)
	if err != nil {
		return 0, err
	}
	defer s.release(c, 0)
	// SET @id = LAST_INSERT_ID(7) sets the id, SET @held = GET_LOCK(...)
	// takes a lock: what such a statement leaves, too, is the session's.
	leaves := valuesLeftOnBackend(&ast.SetStmt{Variables: vars})
	set, err := c.Exec(ctx, sql)
	var warnings uint16
	if err == nil {
		// Kept before the queries below clear them on c.
		warnings = set.OK.Warnings
		s.collectWarnings(ctx, c, warnings)
	}
	s.takeBackendValues(ctx, c, leaves, err, 0)
	if err != nil {
		return 0, err
	}
	var keys, exprs []string
	for _, v := range vars {
		switch {
		case v.Name == ast.SetNames:
			keys = append(keys, backend.NamesVar, "")
			exprs = append(exprs, "@@character_set_client", "@@collation_connection")
		case v.Name == ast.SetCharset:
			for _, n := range []string{"character_set_client", "character_set_results", "collation_connection"} {
				keys = append(keys, "@@"+n)
				exprs = append(exprs, "@@"+n)
			}
		case v.IsSystem:
			n := strings.ToLower(v.Name)
			keys = append(keys, "@@"+n)
			exprs = append(exprs, "@@session."+n)
		default:
			keys = append(keys, userVarKey(v.Name))
			exprs = append(exprs, keys[len(keys)-1])
		}
	}
	res, err := c.Exec(ctx, "SELECT "+strings.Join(exprs, ", "))
	if err != nil {
		return 0, err
	}
	if len(res.Rows) != 1 {
		c.MarkBroken()
		return 0, fmt.Errorf("reading back SET values: %d rows", len(res.Rows))
	}
	row := res.Rows[0]
	if i := slices.Index(keys, "@@sql_mode"); i >= 0 {
		if werr := refuseModeIn(sc, parseModeOf(string(row[i]))); werr != nil {
			// c has the mode now: closed, it takes the mode with it and
			// the session keeps its state from before the SET.
			c.MarkBroken()
			return 0, werr
		}
	}
	for i := 0; i < len(keys); i++ {
		if keys[i] == backend.NamesVar {
			s.state.Set(backend.NamesVar, string(row[i])+" COLLATE "+string(row[i+1]))
			i++
			continue
		}
		if keys[i] == "@@sql_mode" {
			s.setParseMode(parseModeOf(string(row[i])))
		}
		s.recordVar(keys[i], &res.Fields[i], row[i])
	}
	c.AdoptState(&s.state)
	return warnings, nil
}

// execSetStatement runs MariaDB's SET STATEMENT assignments FOR stmt on a
// sharded schema, where stmt must be routed (Connector/J sends its query
// timeouts so). The variables are the session's for stmt only: replayed
// on every connection it uses, then the session's own values come back.
// MariaDB evaluates and checks the assignments first (some variables may
// not be set per statement), running them for a SELECT of their values.
func (s *Session) execSetStatement(ctx context.Context, sc *schema, sql, assignments, text string) error {
	parsed, err := s.sqlParser().ParseOneStmt("SET "+assignments, "", "")
	set, isSet := parsed.(*ast.SetStmt)
	if err != nil || !isSet {
		return s.unroutable(ctx, sc, sql, cmp.Or(err, errors.New("not SET assignments")))
	}
	keys := make([]string, len(set.Variables))
	exprs := make([]string, len(set.Variables))
	for i, v := range set.Variables {
		if !v.IsSystem || v.IsGlobal || v.Name == ast.SetNames || v.Name == ast.SetCharset {
			return errorf(erParse, "SET STATEMENT sets session system variables only: remove '%s'", v.Name)
		}
		name := strings.ToLower(v.Name)
		keys[i], exprs[i] = "@@"+name, "@@session."+name
	}
	c, err := s.acquire(ctx, sc, sc.defaultShard, false)
	if err != nil {
		return err
	}
	res, err := c.Exec(ctx, "SET STATEMENT "+assignments+" FOR SELECT "+strings.Join(exprs, ", "))
	s.release(c, 0)
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 {
		return fmt.Errorf("reading SET STATEMENT values: %d rows", len(res.Rows))
	}
	type saved struct {
		value string
		had   bool
	}
	old := make([]saved, len(keys))
	for i, key := range keys {
		old[i].value, old[i].had = s.state.Get(key)
	}
	defer func() {
		for i, key := range keys {
			if old[i].had {
				s.state.Set(key, old[i].value)
			} else {
				s.state.Unset(key)
			}
		}
	}()
	for i, key := range keys {
		// MariaDB parses the statement in the session's sql_mode; its
		// connections here would parse the shard texts in this one.
		if mode := string(res.Rows[0][i]); key == "@@sql_mode" && parseModeOf(mode) != s.parseMode {
			return errorf(erNotSupported, "SET STATEMENT sql_mode with other parsing flags (ANSI_QUOTES, PIPES_AS_CONCAT, IGNORE_SPACE, HIGH_NOT_PRECEDENCE, NO_BACKSLASH_ESCAPES) than the session's is not supported in sharded schema '%s': use SET sql_mode", sc.name)
		}
		s.recordVar(key, &res.Fields[i], res.Rows[0][i])
	}
	st, err := s.sqlParser().ParseOneStmt(text, "", "")
	if err != nil {
		return s.unroutable(ctx, sc, sql, err)
	}
	return s.execStmt(ctx, st, text, false)
}

// userVarKey names a user variable in the session's state, as SQL: user
// variable names are case-insensitive.
func userVarKey(name string) string {
	return "@`" + strings.ReplaceAll(strings.ToLower(name), "`", "``") + "`"
}

// recordVar keeps in the session's state a variable's value as a backend
// reported it. A user variable that is NULL is dropped: unset reads NULL.
func (s *Session) recordVar(key string, f *wire.Field, v []byte) {
	if v == nil && !strings.HasPrefix(key, "@@") {
		s.state.Unset(key)
		return
	}
	s.state.Set(key, sqlLiteral(f, v))
}

// anySchema is the session's schema, or the first the user may use.
func (s *Session) anySchema() (*schema, *wire.Error) {
	if s.schemaName != "" {
		return s.currentSchema()
	}
	t := s.topo()
	for _, name := range t.order {
		if mayUse(t.users[s.user], name) {
			return t.schema(name), nil
		}
	}
	return nil, errorf(erDBAccessDenied, "user '%s' may use no schema", s.user)
}

// sqlLiteral writes a value read from a backend as a literal of its type.
func sqlLiteral(f *wire.Field, v []byte) string {
	if v == nil {
		return "NULL"
	}
	switch f.Type {
	case wire.TypeTiny, wire.TypeShort, wire.TypeLong, wire.TypeLongLong, wire.TypeInt24,
		wire.TypeDecimal, wire.TypeNewDecimal, wire.TypeFloat, wire.TypeDouble, wire.TypeYear:
		return string(v)
	}
	if f.Charset == wire.CharsetBinary || !utf8.Valid(v) {
		if len(v) == 0 {
			return "''"
		}
		return "X'" + hex.EncodeToString(v) + "'"
	}
	if collation, ok := collationName(f.Charset); ok && bytes.ContainsAny(v, "\\'\"\x00\n\r\x1a") {
		// A quoted literal would escape these with backslashes, which
		// a connection in NO_BACKSLASH_ESCAPES (another session's, say)
		// reads otherwise: this form reads the same in either mode.
		return "CONVERT(X'" + hex.EncodeToString(v) + "' USING " + charsetOf(collation) + ") COLLATE " + collation
	}
	return quoteString(string(v))
}

// quoteString quotes s as an SQL string literal.
func quoteString(s string) string {
	return string(sqlparse.AppendLiteral(nil, sqlparse.StringValue(s)))
}

func literal(e ast.ExprNode) (any, bool) {
	if v, ok := e.(ast.ValueExpr); ok {
		return v.GetValue(), true
	}
	return nil, false
}

// boolValue reads ON/OFF/1/0/TRUE/FALSE.
func boolValue(e ast.ExprNode) (bool, error) {
	if c, ok := e.(*ast.ColumnNameExpr); ok {
		e = nil
		switch strings.ToLower(c.Name.Name.O) {
		case "on", "true":
			return true, nil
		case "off", "false":
			return false, nil
		}
	}
	if e != nil {
		if v, ok := literal(e); ok {
			switch strings.ToLower(fmt.Sprint(v)) {
			case "1", "on", "true":
				return true, nil
			case "0", "off", "false":
				return false, nil
			}
		}
	}
	return false, errorf(1231, "Variable 'autocommit' can't be set to that value: use 0, 1, ON or OFF")
}
