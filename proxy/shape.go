package proxy

import (
	"context"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// A client that inlines values (prepared statements off) sends a new text
// for every key. On a sharded schema such texts share a plan made once
// from their shape, the text with its literals as `?`: an execution reads
// the literals from its text and binds them, as a prepared statement's
// values are bound, without parsing.

// handleShaped runs a statement whose shape has a plan.
func (s *Session) handleShaped(sc *schema, c *cachedPlan, sql string) error {
	values, ok := sqlparse.AppendShapeValues(s.shapeValues[:0], sql)
	s.shapeValues = values[:0]
	if c.plan == nil || !ok || len(values) != c.plan.Params {
		return s.handleParsed(sql)
	}
	return s.answer(sql, func(ctx context.Context) error {
		rt, err := s.bind(ctx, sc, c.plan, c.table, values)
		if err != nil {
			return err
		}
		if rt.Kind == router.KindSelect && !rt.Broadcast && len(rt.Targets) > 1 {
			if c.mergeShape != "" {
				return s.execMerge(ctx, sc, mergeSource{slot: &c.merge, text: c.mergeShape}, values, false, false)
			}
			return s.execParsedText(ctx, sql)
		}
		return s.execRoute(ctx, sc, rt, values, false, mergeSource{})
	})
}

// execParsedText parses and runs a one-statement text inside its answer.
func (s *Session) execParsedText(ctx context.Context, sql string) error {
	st, err := s.sqlParser().ParseOneStmt(sql, "", "")
	if err != nil {
		return errorf(erParse, "You have an error in your SQL syntax: %s", err.Error())
	}
	return s.execStmt(ctx, st, sql, false)
}

// rememberShape plans a sharded statement's shape once, after its text was
// planned: the shape must parse and plan with one `?` per literal.
func (s *Session) rememberShape(sc *schema, text string) {
	if !s.appendShape(text) || s.plans(sc).getShape(s.shape) != nil {
		return
	}
	c := &cachedPlan{shaped: true}
	values, ok := sqlparse.AppendShapeValues(s.shapeValues[:0], text)
	s.shapeValues = values[:0]
	if st, err := s.sqlParser().ParseOneStmt(string(s.shape), "", ""); ok && err == nil {
		mergeable := paramsOnlyInWhereAndLimit(st)
		if p, err := sc.routing.Plan(st); err == nil && p.Params == len(values) && p.Kind != router.KindDDL {
			c.plan, c.table = p, insertTable(st)
			if mergeable {
				c.mergeShape = string(s.shape)
			}
		}
	}
	s.plans(sc).putShape(s.shape, c)
}

// paramsOnlyInWhereAndLimit reports whether a shape's `?` stand only where
// a merge plan takes values as parameters, as a prepared statement's: in
// WHERE and LIMIT. Elsewhere the literal shapes the merge: ORDER BY 1 names
// a column, and a literal in the select list names its result column.
func paramsOnlyInWhereAndLimit(st ast.StmtNode) bool {
	sel, ok := st.(*ast.SelectStmt)
	if !ok {
		return false
	}
	return !(sel.Fields != nil && containsParam(sel.Fields) ||
		sel.From != nil && containsParam(sel.From) ||
		sel.GroupBy != nil && containsParam(sel.GroupBy) ||
		sel.Having != nil && containsParam(sel.Having) ||
		sel.OrderBy != nil && containsParam(sel.OrderBy))
}

func containsParam(n ast.Node) bool {
	return sqlparse.Contains(n, func(n ast.Node) bool { _, ok := n.(ast.ParamMarkerExpr); return ok })
}
