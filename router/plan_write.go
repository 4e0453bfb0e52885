package router

import (
	"github.com/shardproxy/shardproxy/sqlparse"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// planUpdate routes UPDATE like a SELECT of the rows it changes.
func (pl *planner) planUpdate(u *ast.UpdateStmt) (binder, error) {
	pl.plan.Kind = KindUpdate
	b := pl.s.newBlock(pl.sc, u.TableRefs, u.Where)
	var targets []*ref
	for _, a := range u.List {
		targets = append(targets, b.written(a.Column)...)
	}
	var rows *orderedRows
	if u.Order != nil {
		rows = &orderedRows{refs: u.TableRefs, where: u.Where, order: u.Order, limit: u.Limit, skip: countParams(u.List)}
	}
	clauses := []ast.Node{u.TableRefs, u.Where}
	for _, a := range u.List {
		clauses = append(clauses, a.Expr)
	}
	st, err := pl.write(b, targets, "UPDATE", u.Limit, rows, pl.colocated(b, clauses...))
	if err != nil {
		return nil, err
	}
	for _, a := range u.List {
		r := b.refOf(a.Column)
		if r == nil || !b.isKeyOf(a.Column, r) {
			continue
		}
		k, err := keyUpdate(b, r, a.Expr)
		if err != nil {
			return nil, err
		}
		if k != nil {
			st.keep = append(st.keep, k)
		}
	}
	return st.finish(pl)
}

// planDelete routes DELETE like a SELECT of the rows it removes.
func (pl *planner) planDelete(d *ast.DeleteStmt) (binder, error) {
	pl.plan.Kind = KindDelete
	b := pl.s.newBlock(pl.sc, d.TableRefs, d.Where)
	targets := b.refs
	if d.IsMultiTable && d.Tables != nil {
		targets = nil
		for _, tn := range d.Tables.Tables {
			targets = append(targets, b.written(&ast.ColumnName{Schema: tn.Schema, Table: tn.Name})...)
		}
	}
	var rows *orderedRows
	if d.Order != nil {
		rows = &orderedRows{refs: d.TableRefs, where: d.Where, order: d.Order, limit: d.Limit}
	}
	st, err := pl.write(b, targets, "DELETE", d.Limit, rows, pl.colocated(b, d.TableRefs, d.Where))
	if err != nil {
		return nil, err
	}
	return st.finish(pl)
}

// written returns the tables a column of a SET (or a DELETE target) may
// belong to: the one its qualifier names, the only table, or all of them.
func (b *block) written(c *ast.ColumnName) []*ref {
	if c.Table.L == "" && len(b.refs) == 1 {
		return b.refs
	}
	if c.Table.L != "" {
		for _, r := range b.refs {
			if r.exposed == c.Table.L {
				return []*ref{r}
			}
		}
	}
	return b.refs
}

// write routes an UPDATE or DELETE: to every shard when it writes a global
// table, otherwise like a SELECT. With LIMIT across shards the shards run
// one after another (WriteLimit); with ORDER BY too, rows (non-nil) picks
// each shard's share of the LIMIT first.
func (pl *planner) write(b *block, targets []*ref, verb string, limit *ast.Limit, rows *orderedRows, local map[*ast.SelectStmt]bool) (*static, error) {
	var global *ref
	for _, t := range targets {
		if t.system {
			return nil, errorf(ErNotSupported, "%s of system table %s.%s is not supported through the proxy", verb, t.schema, t.name)
		}
		if t.kind() == Global {
			global = t
		}
	}
	if global != nil {
		if other := pl.notGlobal(nil); other != nil {
			return nil, errorf(ErNotSupported, "%s of global table %s together with %s table %s is not supported: global tables are written on every shard", verb, global.name, other.kindName(), other.name)
		}
		return pl.static(routing{}, true)
	}
	var r routing
	r.addBlock(b, true, "")
	pl.addNested(&r, nil, "subquery", local)
	st, err := pl.static(r, false)
	if err != nil || limit == nil {
		return st, err
	}
	if err := st.limitWrites(pl, limit); err != nil {
		return nil, err
	}
	if rows != nil {
		st.limit.Rows, err = rows.text()
		st.limit.RowsFrom = rows.skip
	}
	return st, err
}

// orderedRows are the parts of an UPDATE or DELETE with ORDER BY and LIMIT
// that select the rows it changes; skip counts the `?` markers before
// them (an UPDATE's SET).
type orderedRows struct {
	refs  *ast.TableRefsClause
	where ast.ExprNode
	order *ast.OrderByClause
	limit *ast.Limit
	skip  int
}

// text is the SELECT of those rows, in their order, locking them.
func (o *orderedRows) text() (string, error) {
	sel := &ast.SelectStmt{
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Kind:           ast.SelectStmtKindSelect,
		Fields:         &ast.FieldList{Fields: []*ast.SelectField{{Expr: ast.NewValueExpr(1, "", "")}}},
		From:           o.refs,
		Where:          o.where,
		OrderBy:        o.order,
		Limit:          o.limit,
		LockInfo:       &ast.SelectLockInfo{LockType: ast.SelectLockForUpdate},
	}
	text, err := sqlparse.Restore(sel)
	if err != nil {
		return "", errorf(ErUnknown, "cannot write the SELECT of the rows to change: %v", err)
	}
	return text, nil
}

// countParams counts the `?` markers under nodes.
func countParams[N ast.Node](nodes []N) int {
	n := 0
	for _, node := range nodes {
		n += sqlparse.CountParams(node)
	}
	return n
}

// notGlobal returns a table of the statement, other than skip, that is not
// global, or nil.
func (pl *planner) notGlobal(skip *ast.TableName) *ref {
	for _, tn := range pl.sc.tables {
		if r := pl.s.lookup(tn, ast.CIStr{}); tn != skip && !pl.sc.isCTE(tn) && r.kind() != Global {
			return r
		}
	}
	return nil
}

// keyUpdate checks SET key = v: allowed only when the WHERE pins the key of
// the same table to that very value. Returns a check for Bind when a
// parameter is involved.
func keyUpdate(b *block, r *ref, set ast.ExprNode) (*keyCheck, error) {
	key := r.name + "." + r.table.Key
	refuse := keyChangeError(key)
	v, ok := operandOf(set)
	if !ok {
		return nil, refuse
	}
	for _, c := range conjuncts(b.where, nil) {
		eq, ok := c.(*ast.BinaryOperationExpr)
		if !ok || eq.Op != opcode.EQ {
			continue
		}
		for _, side := range [2][2]ast.ExprNode{{eq.L, eq.R}, {eq.R, eq.L}} {
			col, ok := side[0].(*ast.ColumnNameExpr)
			if !ok || !b.isKeyOf(col.Name, r) {
				continue
			}
			pin, ok := operandOf(side[1])
			if !ok {
				continue
			}
			if v.param < 0 && pin.param < 0 {
				if !sameKey(v.val, pin.val) {
					return nil, refuse
				}
				return nil, nil
			}
			return &keyCheck{set: v, pin: pin, key: key}, nil
		}
	}
	return nil, refuse
}
