package proxy

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// clientGone wraps a failure to write to the client: the session must end.
type clientGone struct{ error }

func (e clientGone) Unwrap() error { return e.error }

// errRelayed means an error packet already reached the client.
var errRelayed = errors.New("error relayed to client")

// handleQuery serves COM_QUERY, one statement or several.
func (s *Session) handleQuery(sql string) error {
	if sc := s.topo().schema(s.schemaName); sc != nil {
		cached := s.plans(sc).get(sql)
		if cached == nil {
			if s.appendShape(sql) {
				cached = s.plans(sc).getShape(s.shape)
			}
			if cached != nil && cached.shaped {
				return s.handleShaped(sc, cached, sql)
			}
		}
		if cached != nil {
			// Seen before: routed without parsing.
			return s.answer(sql, func(ctx context.Context) error { return s.execCached(ctx, sc, cached, sql) })
		}
	}
	return s.handleParsed(sql)
}

// handleParsed parses a COM_QUERY text and runs its statements.
func (s *Session) handleParsed(sql string) error {
	if st := s.srv.control.get(sql); st != nil {
		return s.runStatement(st, sql, false)
	}
	stmts, _, err := s.sqlParser().ParseSQL(sql)
	if err != nil {
		if st, ok := s.respelled(sql); ok {
			return s.runStatement(st, sql, false)
		}
		if show, ok := sqlparse.ParseDiagnosticsLimit(sql); ok {
			// Never left to any backend connection: a pooled one's
			// warnings are another statement's, perhaps another client's.
			return s.runStatement(show, sql, false)
		}
		return s.unparsed(sql, err)
	}
	if len(stmts) == 0 {
		// Only comments: MariaDB answers OK.
		return s.okPacket(wire.OK{}, false)
	}
	if len(stmts) > 1 && s.capability&wire.ClientMultiStatements == 0 {
		return s.writeError(errorf(erParse, "You have several statements in one query; enable multi-statements in the client to send them together"))
	}
	for i, st := range stmts {
		more := i < len(stmts)-1
		text := st.Text()
		if len(stmts) == 1 {
			text = sql
			s.srv.control.remember(sql, st)
		}
		if err := s.runStatement(st, text, more); err != nil {
			return err
		}
		if s.lastFailed || s.closeAfterReply {
			break
		}
	}
	return nil
}

// parseOne parses one statement, MariaDB spellings that respelled reads
// included.
func (s *Session) parseOne(sql string) (ast.StmtNode, error) {
	st, err := s.sqlParser().ParseOneStmt(sql, "", "")
	if err != nil {
		if st, ok := s.respelled(sql); ok {
			return st, nil
		}
	}
	return st, err
}

// respelled parses statements whose MariaDB spelling has a clause the SQL
// parser does not know: the WORK of BEGIN WORK, COMMIT WORK and ROLLBACK
// WORK, and the DEFINER of CREATE PROCEDURE (mariadb-dump --routines
// writes it). The clause is blanked for the parser only: the statement
// keeps its text, DEFINER and all.
func (s *Session) respelled(sql string) (ast.StmtNode, bool) {
	if text, ok := sqlparse.WithoutWork(sql); ok {
		st, err := s.sqlParser().ParseOneStmt(text, "", "")
		return st, err == nil
	}
	if text, ok := sqlparse.WithoutDefiner(sql); ok {
		st, err := s.sqlParser().ParseOneStmt(text, "", "")
		_, procedure := st.(*ast.ProcedureInfo)
		return st, err == nil && procedure
	}
	return nil, false
}

// runStatement executes one statement and answers it; only a client I/O
// failure is returned.
func (s *Session) runStatement(st ast.StmtNode, text string, more bool) error {
	return s.answer(text, func(ctx context.Context) error { return s.execStmt(ctx, st, text, more) })
}

// answer runs one statement's execution and sends its error, if any, to
// the client; only a client I/O failure is returned.
func (s *Session) answer(text string, exec func(context.Context) error) error {
	ctx := s.beginStatement(text)
	defer s.endStatement()
	s.lastFailed = false
	err := exec(ctx)
	if err == nil {
		return nil
	}
	s.lastFailed = true
	var gone clientGone
	if errors.As(err, &gone) {
		return err
	}
	if err == errRelayed {
		return nil
	}
	we := toWireError(s.interrupted(ctx, err))
	if we.Code == erUnknown {
		s.log().Debug("statement failed", zap.Uint32("conn", s.id), zap.Error(err))
	}
	if werr := s.writeError(we); werr != nil {
		return clientGone{werr}
	}
	return nil
}

// interrupted turns a failure caused by cancellation into MySQL's own errors.
func (s *Session) interrupted(ctx context.Context, err error) error {
	switch ctx.Err() {
	case context.DeadlineExceeded:
		return errorf(erMaxExecutionTime, "Query execution was interrupted, maximum statement execution time exceeded")
	case context.Canceled:
		return errorf(erQueryInterrupted, "Query execution was interrupted")
	}
	return err
}

// unparsed answers a statement the SQL parser rejects. On a pass-through
// schema the backend has the last word (MariaDB-only syntax); elsewhere the
// proxy cannot route what it cannot read.
func (s *Session) unparsed(sql string, perr error) error {
	sc, werr := s.currentSchema()
	if werr != nil {
		msg := perr.Error()
		if strings.Contains(strings.ToLower(msg), "syntax") || strings.Contains(msg, "line ") {
			return s.writeError(errorf(erParse, "You have an error in your SQL syntax: %s", msg))
		}
		return s.writeError(errorf(erParse, "%s", msg))
	}
	return s.answer(sql, func(ctx context.Context) error {
		if !sc.passThrough() {
			if assignments, stmt, ok := sqlparse.SplitSetStatement(sql); ok {
				return s.execSetStatement(ctx, sc, sql, assignments, strings.TrimSpace(stmt))
			}
			if r, ok := s.returningStatement(sql); ok {
				return s.execReturning(ctx, sc, r)
			}
			if sqlparse.IsShowPackageStatus(sql) {
				return s.showPackages(ctx, sc, sql)
			}
			return s.unroutable(ctx, sc, sql, perr)
		}
		return s.execOnShardOpts(ctx, sc, sc.defaultShard, sql, false, relayOptions{
			logical: sc.name, physical: sc.shards[sc.defaultShard].db, leaves: backendValues{opaque: true, pins: sqlparse.IsHandler(sql)},
		})
	})
}

// unroutable answers a text the parser rejects on a sharded schema. MariaDB
// judges its syntax by preparing it on a shard, which runs nothing: its own
// syntax error goes to the client as is, and a text it accepts is syntax
// only MariaDB knows, which the proxy cannot route.
func (s *Session) unroutable(ctx context.Context, sc *schema, sql string, perr error) error {
	c, err := s.acquire(ctx, sc, sc.defaultShard, false)
	if err != nil {
		return err
	}
	if _, err = c.Prepare(ctx, sql); err == nil {
		c.ForgetStmt(sql)
	}
	s.release(c, 0)
	var we *wire.Error
	switch {
	case errors.As(err, &we) && we.Code == erParse:
		return we
	case err != nil && we == nil:
		return err // the backend failed
	}
	return errorf(erNotSupported, "shardproxy cannot parse this statement (%s), so it cannot route it in sharded schema '%s': write it in MySQL syntax, or run it in a pass-through schema", perr, sc.name)
}

// execStmt executes one parsed statement.
func (s *Session) execStmt(ctx context.Context, st ast.StmtNode, text string, more bool) error {
	s.keepsDiagnostics = leavesDiagnostics(st)
	switch st := st.(type) {
	case *ast.SetStmt:
		return s.execSet(ctx, st, text, more)
	case *ast.UseStmt:
		if err := s.useSchema(st.DBName); err != nil {
			return err
		}
		return s.okPacket(wire.OK{}, more)
	case *ast.BeginStmt:
		return s.execBegin(ctx, st, more)
	case *ast.CommitStmt:
		return s.finishTx(ctx, s.commit, st.CompletionType, text, more)
	case *ast.RollbackStmt:
		if st.SavepointName != "" {
			return s.execSavepoint(ctx, st.SavepointName, savepointRollback, text, more)
		}
		return s.finishTx(ctx, func(ctx context.Context) error { s.rollback(ctx); return nil }, st.CompletionType, text, more)
	case *ast.SavepointStmt:
		return s.execSavepoint(ctx, st.Name, savepointSet, text, more)
	case *ast.ReleaseSavepointStmt:
		return s.execSavepoint(ctx, st.Name, savepointRelease, text, more)
	case *ast.ShowStmt:
		return s.execShow(ctx, st, text, more)
	case *ast.KillStmt:
		return s.execKill(st, more)
	case *ast.LockTablesStmt, *ast.UnlockTablesStmt:
		return s.execLockTables(ctx, st, more)
	case *ast.CreateDatabaseStmt:
		return s.execCreateDatabase(ctx, st, text, more)
	}
	return s.execRouted(ctx, st, text, more)
}

// execCreateDatabase answers CREATE DATABASE naming a schema of the
// configuration as MariaDB answers it for a database that exists: 1007,
// or with IF NOT EXISTS a note (a mariadb-dump --databases file starts
// so). Other names are refused by the router: the configuration defines
// the schemas.
func (s *Session) execCreateDatabase(ctx context.Context, st *ast.CreateDatabaseStmt, text string, more bool) error {
	t := s.topo()
	if t.schema(st.Name.O) == nil || checkSchemaAccess(t, t.users[s.user], st.Name.O) != nil {
		return s.execRouted(ctx, st, text, more)
	}
	if err := s.commitImplicitly(ctx); err != nil {
		return err
	}
	exists := errorf(erDBCreateExists, "Can't create database '%s'; database exists", st.Name.O)
	if !st.IfNotExists {
		return exists
	}
	s.forgetWarnings()
	note := [][]byte{[]byte("Note"), strconv.AppendUint(nil, erDBCreateExists, 10), []byte(exists.Message)}
	s.diagnostics = &diagnostics{count: 1, rows: [][][]byte{note}, limit: 1}
	return s.okPacket(wire.OK{Warnings: 1}, more)
}

// okPacket answers a statement the proxy handled itself.
func (s *Session) okPacket(ok wire.OK, more bool) error {
	s.rowCount = int64(ok.AffectedRows)
	ok.Status = s.patchStatus(ok.Status, more)
	if err := s.io.WritePacket(wire.AppendOK(nil, ok)); err != nil {
		return clientGone{err}
	}
	return nil
}

func (s *Session) execKill(st *ast.KillStmt, more bool) error {
	v, ok := s.srv.sessions.Load(uint32(st.ConnectionID))
	if !ok {
		return errorf(erNoSuchThread, "Unknown thread id: %d", st.ConnectionID)
	}
	target := v.(*Session)
	if target.user != s.user {
		return errorf(erNoSuchThread, "You are not owner of thread %d", st.ConnectionID)
	}
	if target == s && !st.Query {
		s.killed.Store(true)
		_ = s.io.Close()
		return clientGone{errors.New("killed own connection")}
	}
	if target != s {
		target.kill(st.Query)
	}
	return s.okPacket(wire.OK{}, more)
}
