package proxy

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// returningStatement reads MariaDB's INSERT, REPLACE or DELETE ...
// RETURNING, which the SQL parser rejects as a whole (Django and
// SQLAlchemy send it to MariaDB 10.5+ for every insert of a generated
// id): the statement before RETURNING is routed as it would be alone, and
// the list follows it on every shard. ok is false for any other text.
func (s *Session) returningStatement(sql string) (r returning, ok bool) {
	text, list, ok := sqlparse.SplitReturning(sql)
	if !ok {
		return r, false
	}
	st, err := s.sqlParser().ParseOneStmt(text, "", "")
	if err != nil {
		return r, false
	}
	switch st.(type) {
	case *ast.InsertStmt, *ast.DeleteStmt:
	default:
		return r, false
	}
	fields, err := s.parseReturningList(list)
	if err != nil || fields.From != nil {
		return r, false // MariaDB judges the syntax
	}
	return returning{st: st, text: text, list: list, fields: fields}, true
}

// returning is a statement with a RETURNING list.
type returning struct {
	st     ast.StmtNode // the statement without its list
	text   string       // its text
	list   string       // the list as the client wrote it
	fields *ast.SelectStmt
}

// refuseSubquery refuses a list that reads a table: each shard would read
// only its own rows.
func (r returning) refuseSubquery(sc *schema) error {
	if sqlparse.Contains(r.fields, func(n ast.Node) bool { _, ok := n.(*ast.SubqueryExpr); return ok }) {
		return errorf(erNotSupported, "a subquery in RETURNING is not supported in sharded schema '%s': each shard would read only its own rows", sc.name)
	}
	return nil
}

// parseReturningList reads a RETURNING list as a SELECT's fields.
func (s *Session) parseReturningList(list string) (*ast.SelectStmt, error) {
	st, err := s.sqlParser().ParseOneStmt("SELECT "+list, "", "")
	if err != nil {
		return nil, err
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok {
		return nil, errorf(erParse, "RETURNING takes a list of expressions")
	}
	return sel, nil
}

// execReturning runs a statement returningStatement read, on a sharded
// schema. One shard's rows are relayed; several shards' are merged: an
// INSERT's in the order of its VALUES rows, as one server returns them
// (ORMs match returned ids to their objects by position), a DELETE's
// shard after shard.
func (s *Session) execReturning(ctx context.Context, sc *schema, r returning) error {
	if werr := s.refuseShardedMode(sc); werr != nil {
		return werr
	}
	if err := r.refuseSubquery(sc); err != nil {
		return err
	}
	rt, _, err := s.routeSharded(ctx, sc, r.st, r.text, false)
	if err != nil {
		return err
	}
	if ins, ok := r.st.(*ast.InsertStmt); ok && rt.Scatter && (ins.IgnoreErr || len(ins.OnDuplicate) > 0) {
		return errorf(erNotSupported, "INSERT IGNORE or ON DUPLICATE KEY UPDATE with RETURNING is not supported when the rows go to several shards: the rows returned could not be matched to the rows given; insert one shard's rows per statement")
	}
	targets := make([]router.Target, len(rt.Targets))
	for i, t := range rt.Targets {
		sql, err := t.Inline(nil)
		if err != nil {
			return err
		}
		clause, err := s.returningClause(sc, r.list, sc.shards[t.Shard].db)
		if err != nil {
			return err
		}
		targets[i] = router.Target{Shard: t.Shard, Query: sqlparse.Query{SQL: sql + " RETURNING " + clause}}
	}
	s.noteInsertID(rt)
	if len(targets) == 1 {
		s.route = routeSingle
		t := targets[0]
		return s.execOnShardOpts(ctx, sc, t.Shard, t.SQL, false, relayOptions{
			logical: sc.name, physical: sc.shards[t.Shard].db, insertID: rt.InsertID,
		})
	}
	s.route = routeScatter
	if rt.Broadcast {
		s.route = routeBroadcast
	}
	merged := *rt
	merged.Targets, merged.Read = targets, false
	// The rows reach the client before the shards commit: a statement of
	// its own is a transaction, so a shard failing undoes the others and
	// its error replaces the end of the result.
	implicit := !s.inTx && s.autocommit
	if implicit {
		s.setInTx(true)
	}
	ss, sent, err := s.relayReturned(ctx, sc, &merged)
	if implicit {
		if err != nil {
			s.rollback(ctx)
			return err
		}
		err = s.commit(ctx)
	}
	if err != nil {
		return err
	}
	return s.endMerged(ss, sent, false)
}

// prepareReturning prepares a statement returningStatement read, to be
// run as text at each execution (executeAsText). MariaDB prepares it on
// the default shard, which has every table, so its own errors and its
// description of parameters and result columns reach the client.
func (s *Session) prepareReturning(ctx context.Context, sc *schema, r returning, sql string) (*clientStmt, error) {
	if err := r.refuseSubquery(sc); err != nil {
		return nil, err
	}
	if sqlparse.NumberParams(r.fields) > 0 {
		return nil, errorf(erNotSupported, "a ? parameter in RETURNING is not supported in sharded schema '%s': write the value into the list", sc.name)
	}
	db := sc.shards[sc.defaultShard].db
	text, err := newRewriter(s, sc, db).apply(r.st, r.text)
	if err != nil {
		return nil, err
	}
	clause, err := s.returningClause(sc, r.list, db)
	if err != nil {
		return nil, err
	}
	text += " RETURNING " + clause
	c, err := s.acquire(ctx, sc, sc.defaultShard, false)
	if err != nil {
		return nil, err
	}
	bst, err := c.Prepare(ctx, text)
	if err == nil {
		c.ForgetStmt(text)
	}
	s.release(c, 0)
	if err != nil {
		return nil, err
	}
	st := &clientStmt{sql: sql, kind: statementKind(sql), sc: sc, shard: sc.defaultShard, runsAsText: true, returning: true}
	st.params, st.paramDefs, st.columnDefs = bst.Params, bst.ParamDefs, bst.ColumnDefs
	return st, nil
}

// returningClause is the RETURNING list as the shard in database db runs
// it: the client's text, unless it names the logical schema or calls
// functions the session answers.
func (s *Session) returningClause(sc *schema, list, db string) (string, error) {
	st, err := s.parseReturningList(list)
	if err != nil {
		return "", err
	}
	rw := newRewriter(s, sc, db)
	st.Accept(rw)
	if !rw.needed {
		return list, nil
	}
	rw.rewriting = true
	st.Accept(rw)
	text, err := s.restore(st)
	return strings.TrimPrefix(text, "SELECT "), err
}

// relayReturned runs a RETURNING statement's targets and sends the
// result's columns and rows, not its end.
func (s *Session) relayReturned(ctx context.Context, sc *schema, rt *router.Route) (*shardSet, uint64, error) {
	ss := &shardSet{s: s, sc: sc, rt: rt, maxRows: s.topo().cfg.MaxMergeRows, warnings: s.newDiagnostics()}
	streams, err := ss.Open(ctx, "")
	if err != nil {
		return ss, 0, err
	}
	defer func() {
		for _, st := range streams {
			st.Close()
		}
	}()
	fields := streams[0].Fields()
	if err := s.writeFields(fields); err != nil {
		return ss, 0, err
	}
	sent := uint64(0)
	relayRow := func(st engine.Stream) error {
		row, err := st.Next()
		if err != nil {
			return err
		}
		sent++
		p, err := s.appendRow(s.scratch[:0], fields, row)
		if err != nil {
			return err
		}
		s.scratch = p[:0]
		return s.write(p)
	}
	relayAll := func(st engine.Stream) error {
		for {
			if err := relayRow(st); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	switch {
	case rt.Broadcast:
		// Every shard wrote the same rows: one shard's answer stands for
		// all, the others are read to their end.
		if err := relayAll(streams[0]); err != nil {
			return ss, sent, err
		}
		for _, st := range streams[1:] {
			if err := drain(st); err != nil {
				return ss, sent, err
			}
		}
	case rt.RowShards != nil:
		byShard := make(map[int]engine.Stream, len(streams))
		for i, t := range rt.Targets {
			byShard[t.Shard] = streams[i]
		}
		for _, shard := range rt.RowShards {
			if err := relayRow(byShard[shard]); errors.Is(err, io.EOF) {
				return ss, sent, errorf(erUnknown, "shard %d returned fewer rows than it inserted", shard)
			} else if err != nil {
				return ss, sent, err
			}
		}
		for i, st := range streams {
			if _, err := st.Next(); err == nil {
				return ss, sent, errorf(erUnknown, "shard %d returned more rows than it inserted", rt.Targets[i].Shard)
			} else if !errors.Is(err, io.EOF) {
				return ss, sent, err
			}
		}
	default:
		for _, st := range streams {
			if err := relayAll(st); err != nil {
				return ss, sent, err
			}
		}
	}
	return ss, sent, nil
}

// drain reads a stream to its end.
func drain(st engine.Stream) error {
	for {
		if _, err := st.Next(); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
	}
}
