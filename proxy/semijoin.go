package proxy

import (
	"context"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// A statement with `x [NOT] IN (SELECT col FROM ...)` whose subquery reads
// rows of other shards than the statement's (orders sharded by hash of
// user_id, users by id) cannot run shard by shard. When the subquery does
// not depend on the outer row, the proxy runs it first, as a statement of
// its own, and writes its values into the statement as a list:
// `x IN (3, 7, 12)`, which then routes like any IN list. Only integer
// values are written: an integer literal compares with x as the integer
// column would, where a string literal's collation could differ from the
// column's.

// materializeIn replaces IN subqueries of st (found by inSubqueries) by
// their values and returns the new statement and its text. The values are
// a plain read, as MariaDB's write reads them (it takes no lock on a row
// another transaction holds, measured on 10.11).
func (s *Session) materializeIn(ctx context.Context, sc *schema, st ast.StmtNode, ins []*ast.PatternInExpr) (string, ast.StmtNode, error) {
	for _, in := range ins {
		list, err := s.subqueryValues(ctx, sc, in.Sel.(*ast.SubqueryExpr).Query.(*ast.SelectStmt))
		if err != nil {
			return "", nil, err
		}
		in.Sel, in.List = nil, list.values
		if list.expr != nil {
			in.Expr = list.expr
		}
	}
	text, err := s.restore(st)
	if err != nil {
		return "", nil, err
	}
	fresh, err := s.sqlParser().ParseOneStmt(text, "", "")
	if err != nil {
		return "", nil, errorf(erUnknown, "the statement with its IN subquery's values does not parse: %v", err)
	}
	return text, fresh, nil
}

// inSubqueries returns the IN subqueries of a SELECT, UPDATE or DELETE
// that the proxy can run first: uncorrelated, one column of base tables,
// reading a table that is not global. None for a locking SELECT: its
// subquery's rows would not be locked as they are there.
func (s *Session) inSubqueries(ctx context.Context, sc *schema, st ast.StmtNode) ([]*ast.PatternInExpr, error) {
	switch x := st.(type) {
	case *ast.SelectStmt:
		if locks(x) {
			return nil, nil
		}
	case *ast.UpdateStmt, *ast.DeleteStmt:
	default:
		return nil, nil
	}
	var found, eligible []*ast.PatternInExpr
	st.Accept(&inSubqueryFinder{found: &found})
	for _, in := range found {
		q := in.Sel.(*ast.SubqueryExpr).Query.(*ast.SelectStmt)
		if !runsAlone(q) || !readsShardedRows(sc, q) {
			continue
		}
		ok, err := s.uncorrelated(ctx, sc, q)
		if err != nil {
			return nil, err
		}
		if ok {
			eligible = append(eligible, in)
		}
	}
	return eligible, nil
}

// inSubqueryFinder collects `x [NOT] IN (SELECT ...)` with x one value.
type inSubqueryFinder struct{ found *[]*ast.PatternInExpr }

func (f *inSubqueryFinder) Enter(n ast.Node) (ast.Node, bool) {
	if in, ok := n.(*ast.PatternInExpr); ok {
		if sub, ok := in.Sel.(*ast.SubqueryExpr); ok {
			if _, ok := sub.Query.(*ast.SelectStmt); ok {
				if _, row := in.Expr.(*ast.RowExpr); !row {
					*f.found = append(*f.found, in)
				}
			}
		}
	}
	return n, false
}

func (f *inSubqueryFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// locks reports whether a statement takes locks, which a subquery run
// first would not hold.
func locks(sel *ast.SelectStmt) bool {
	return sqlparse.Contains(sel, func(n ast.Node) bool {
		q, ok := n.(*ast.SelectStmt)
		return ok && q.LockInfo != nil && q.LockInfo.LockType != ast.SelectLockNone
	})
}

// runsAlone reports whether q is a SELECT of one column from base tables,
// with no subquery of its own whose names could reach outside it, and no
// LIMIT (which MariaDB refuses in an IN subquery).
func runsAlone(q *ast.SelectStmt) bool {
	if q.From == nil || q.Limit != nil || q.With != nil || q.Fields == nil || len(q.Fields.Fields) != 1 ||
		q.Fields.Fields[0].WildCard != nil || q.SelectIntoOpt != nil {
		return false
	}
	return !sqlparse.Contains(q, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.SelectStmt:
			return x != q
		case *ast.SetOprStmt, *ast.SubqueryExpr:
			return true
		}
		return false
	})
}

// readsShardedRows reports whether q (which runsAlone: its FROM names all
// its tables) reads a table that is not global.
func readsShardedRows(sc *schema, q *ast.SelectStmt) bool {
	_, tables := sqlparse.FromNames(q.From)
	for _, tn := range tables {
		if t := sc.routing.Table(tn.Name.L); t == nil || t.Kind != router.Global {
			return true
		}
	}
	return false
}

// uncorrelated reports whether every column q names is one of its own
// tables': qualified by a name its FROM defines, or, unqualified, a
// column of one of its tables (MariaDB looks there first).
func (s *Session) uncorrelated(ctx context.Context, sc *schema, q *ast.SelectStmt) (bool, error) {
	defined, tables := sqlparse.FromNames(q.From)
	var columns []string
	for _, t := range tables {
		names, err := s.tableColumns(ctx, sc, t.Name.O)
		if err != nil {
			return false, err
		}
		for _, n := range names {
			columns = append(columns, strings.ToLower(n))
		}
	}
	outer := sqlparse.Contains(q, func(n ast.Node) bool {
		c, isColumn := n.(*ast.ColumnNameExpr)
		if !isColumn {
			return false
		}
		if c.Name.Table.L != "" {
			return !defined[c.Name.Table.L]
		}
		return !slices.Contains(columns, c.Name.Name.L)
	})
	return !outer, nil
}

// inValues is what replaces an IN subquery: its values. When it has none
// (`x IN ()` does not parse) x is replaced too, by a constant not among
// them: IN with no value is false and NOT IN true, for a NULL x too.
type inValues struct {
	values []ast.ExprNode
	expr   ast.ExprNode // x's replacement, nil to keep x
}

// subqueryValues runs q and returns its distinct values as literals.
func (s *Session) subqueryValues(ctx context.Context, sc *schema, q *ast.SelectStmt) (inValues, error) {
	q.Distinct = true // IN sees values, not rows: the shards drop repeats
	text, err := s.restore(q)
	if err != nil {
		return inValues{}, err
	}
	limit := s.topo().cfg.MaxMergeRows
	tooMany := errorf(erNotSupported, "IN (subquery) across shards holds the subquery's values, at most max_merge_rows (%d); narrow the subquery, or raise max_merge_rows", limit)
	fields, rows, err := s.selectRows(ctx, sc, text, tooMany)
	if err != nil {
		return inValues{}, err
	}
	if len(fields) != 1 || !isIntegerType(fields[0].Type) {
		return inValues{}, errorf(erNotSupported, "IN (subquery) across shards is answered when the subquery selects an integer column; %s is not one: join on the shard key, or select the ids first", text)
	}
	seen := map[string]bool{}
	list := []byte("SELECT 0 IN (")
	for _, row := range rows {
		v := "NULL"
		if row[0] != nil {
			v = string(row[0])
		}
		if seen[v] {
			continue
		}
		if len(seen) > 0 {
			list = append(list, ',')
		}
		seen[v] = true
		list = append(list, v...)
	}
	if len(seen) == 0 {
		list = append(list, '1')
	}
	parsed, err := s.sqlParser().ParseOneStmt(string(append(list, ')')), "", "")
	if err != nil {
		return inValues{}, errorf(erUnknown, "the values of IN (%s) do not parse: %v", text, err)
	}
	in := parsed.(*ast.SelectStmt).Fields.Fields[0].Expr.(*ast.PatternInExpr)
	if len(seen) == 0 {
		return inValues{values: in.List, expr: in.Expr}, nil
	}
	return inValues{values: in.List}, nil
}

func isIntegerType(t byte) bool {
	switch t {
	case wire.TypeTiny, wire.TypeShort, wire.TypeLong, wire.TypeLongLong, wire.TypeInt24:
		return true
	}
	return false
}

// execWriteReadingIn runs an UPDATE or DELETE whose IN subqueries read
// other shards' rows (router refused it; handled false when it has none
// the proxy can read first). The values are read, then the write runs, in
// one transaction: the statement's own under autocommit.
func (s *Session) execWriteReadingIn(ctx context.Context, sc *schema, st ast.StmtNode, more bool) (handled bool, err error) {
	ins, err := s.inSubqueries(ctx, sc, st)
	if err != nil || len(ins) == 0 {
		return err != nil, err
	}
	if werr := s.refuseShardedMode(sc); werr != nil {
		return true, werr
	}
	s.route = routeScatter
	warnings := s.newDiagnostics()
	var ok wire.OK
	err = s.writeWhole(ctx, true, sc.routing.NumShards(), func(undo *statementUndo) error {
		_, fresh, err := s.materializeIn(ctx, sc, st, ins)
		if err != nil {
			return err
		}
		plan, err := sc.routing.Plan(fresh)
		if err != nil {
			return err
		}
		rt, err := s.bind(ctx, sc, plan, "", nil)
		if err != nil {
			return err
		}
		ok, err = s.writeEverywhere(ctx, sc, rt, nil, warnings, nil, undo)
		return err
	})
	if err != nil {
		return true, err
	}
	s.keepWarnings(warnings)
	return true, s.okPacket(ok, more)
}
