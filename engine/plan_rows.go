package engine

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// planRows plans a statement without grouping, or one whose groups each
// lie on one shard (wholeGroups), whose rows are final as a table's. The
// shards run it with its ORDER BY and a LIMIT of offset+count rows; the
// engine merges the sorted streams (or concatenates them when there is no
// order), drops DISTINCT duplicates, applies the LIMIT. HAVING runs on the
// shards: it filters single rows, or whole groups.
func (p *planner) planRows() error {
	sel := p.sel
	if sel.Distinct && p.wildcard >= 0 {
		return unsupported("SELECT DISTINCT * across shards is not supported; list the columns")
	}
	var refs []keyRef
	switch {
	case sel.OrderBy != nil && !isOrderByNull(sel.OrderBy):
		for _, by := range sel.OrderBy.Items {
			r, err := p.orderKey(by)
			if err != nil {
				return err
			}
			if r, err = p.fullDeviation(r); err != nil {
				return err
			}
			refs = append(refs, r)
		}
	case sel.OrderBy == nil && sel.GroupBy != nil && !sel.Distinct:
		// Whole groups: MariaDB returns them in group-key order, as each
		// shard does (DISTINCT rows come in no set order).
		var err error
		if refs, _, err = p.groupKeys(); err != nil {
			return err
		}
	}
	if sel.Distinct {
		// Every column joins the order, so that the copies of a row arrive
		// next to each other.
		seen := map[int]bool{}
		for _, r := range refs {
			if r.abs >= 0 || p.items[r.item].hidden {
				return unsupported("ORDER BY an expression outside the select list of a SELECT DISTINCT across shards is not supported")
			}
			seen[r.item] = true
		}
		for i := range p.explicit {
			if !seen[i] {
				refs = append(refs, keyRef{item: i, abs: -1})
			}
		}
		sel.OrderBy = positions(refs)
	}
	// Otherwise the shards get the ORDER BY as written: it means to them
	// what it means to the client.
	keys, err := p.sortKeys(refs)
	if err != nil {
		return err
	}
	window, shardLimit, err := p.limit()
	if err != nil {
		return err
	}
	sel.Limit = shardLimit
	distinct := sel.Distinct
	p.build = func(sql string) Primitive {
		keys := p.resolveCols(keys, refs)
		var root Primitive = &Concat{SQL: sql, Columns: p.columns()}
		if len(keys) > 0 {
			root = &MergeSort{SQL: sql, Columns: p.columns(), Keys: keys}
		}
		if distinct {
			root = &Distinct{Keys: keys, Input: root}
		}
		if window != nil {
			root = &Limit{Window: *window, Input: root}
		}
		return root
	}
	return nil
}

// orderKey resolves an ORDER BY item as MySQL does: a position, a
// select-list alias, an aggregate, an expression of the select list, or
// else an expression the shards compute in a hidden column.
func (p *planner) orderKey(by *ast.ByItem) (keyRef, error) {
	r := keyRef{abs: -1, desc: by.Desc}
	e := by.Expr
	if pos, ok := e.(*ast.PositionExpr); ok {
		n := pos.N
		if n < 1 || (p.wildcard < 0 && n > p.explicit) {
			return r, errorf(ErBadField, "Unknown column '%d' in 'order clause'", n)
		}
		if p.wildcard >= 0 && n-1 >= p.wildcard {
			r.abs = n - 1 // the column itself; its expression is the shards' business
			return r, nil
		}
		r.item = n - 1
		return r, nil
	}
	var err error
	if name, ok := bareName(e); ok {
		if i := p.aliasItem(name); i >= 0 {
			r.item, err = p.ref(i)
			return r, err
		}
	}
	if a, ok := unparen(e).(*ast.AggregateFuncExpr); ok && !p.wholeGroups {
		r.item, err = p.aggregateItem(a)
		return r, err
	}
	if p.involvesAggregate(e) { // SUM(x) / COUNT(*)
		if name, ok := p.aggregateAliasIn(e); ok {
			return r, errorf(ErIllegalReference, "Reference '%s' not supported (reference to group function)", name)
		}
		if !p.wholeGroups {
			r.item, err = p.computedItem(e)
			return r, err
		}
	}
	r.item, err = p.hiddenExpr(e)
	return r, err
}

// fullDeviation sorts a standard deviation or variance of whole groups by
// a hidden copy cast to DOUBLE: the shards show them rounded to 4 or more
// decimals, and values equal to those sort apart on the server.
func (p *planner) fullDeviation(r keyRef) (keyRef, error) {
	if !p.wholeGroups || r.abs >= 0 {
		return r, nil
	}
	a, ok := unparen(p.items[r.item].expr).(*ast.AggregateFuncExpr)
	if !ok || !isDeviation(a) {
		return r, nil
	}
	var err error
	r.item, err = p.hidden("CAST(" + p.items[r.item].text + " AS DOUBLE)")
	return r, err
}

// limit returns the statement's LIMIT window, and the LIMIT the shards get:
// offset+count rows, the same `?` for LIMIT ?, none when a `?` offset
// makes the sum unknown at plan time (the merge still stops early).
func (p *planner) limit() (*Window, *ast.Limit, error) {
	l := p.sel.Limit
	if l == nil {
		return nil, nil, nil
	}
	w := Window{Offset: Count{Param: -1}}
	var err error
	if w.Count, err = countOf(l.Count); err != nil {
		return nil, nil, err
	}
	if l.Offset != nil {
		if w.Offset, err = countOf(l.Offset); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case w.Count.Param < 0 && w.Count.N == 0:
		// LIMIT 0 is no rows whatever the rest; the shards answer with only
		// column definitions, the same MariaDB sends for the statement.
		return &w, &ast.Limit{Count: ast.NewValueExpr(uint64(0), "", "")}, nil
	case w.Count.Param < 0 && w.Offset.Param < 0:
		end := w.Offset.N + w.Count.N
		if end < w.Offset.N {
			end = ^uint64(0)
		}
		return &w, &ast.Limit{Count: ast.NewValueExpr(end, "", "")}, nil
	case w.Offset.Param < 0 && w.Offset.N == 0:
		return &w, &ast.Limit{Count: l.Count}, nil
	}
	return &w, nil, nil
}

func countOf(e ast.ExprNode) (Count, error) {
	if i, ok := sqlparse.ParamIndex(e); ok {
		return Count{Param: i}, nil
	}
	if n, ok := sqlparse.LimitNumber(e); ok {
		return Count{N: n, Param: -1}, nil
	}
	return Count{}, errorf(ErWrongArguments, "Incorrect arguments to LIMIT")
}
