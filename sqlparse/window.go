package sqlparse

import (
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// WindowPartitions returns, for each window function of q's own select
// list and ORDER BY (not its subqueries'), the PARTITION BY expressions of
// its window, named windows resolved through q's WINDOW clause (an empty
// list: one window over every row). ok is false when a window name is not
// defined there.
func WindowPartitions(q *ast.SelectStmt) (parts [][]ast.ExprNode, ok bool) {
	ok = true
	v := &windowFinder{visit: func(w *ast.WindowFuncExpr) {
		p, found := partitionOf(q, &w.Spec)
		ok = ok && found
		parts = append(parts, p)
	}}
	if q.Fields != nil {
		q.Fields.Accept(v)
	}
	if q.OrderBy != nil {
		q.OrderBy.Accept(v)
	}
	return parts, ok
}

// partitionOf follows spec's references to the window that partitions.
func partitionOf(q *ast.SelectStmt, spec *ast.WindowSpec) ([]ast.ExprNode, bool) {
	for range len(q.WindowSpecs) + 1 { // a longer chain would be a cycle
		if spec.PartitionBy != nil {
			exprs := make([]ast.ExprNode, 0, len(spec.PartitionBy.Items))
			for _, by := range spec.PartitionBy.Items {
				exprs = append(exprs, by.Expr)
			}
			return exprs, true
		}
		name := spec.Ref // OVER (w ORDER BY ...), or a definition's base
		if name.L == "" && spec.OnlyAlias {
			name = spec.Name // OVER w
		}
		if name.L == "" {
			return nil, true
		}
		i := slices.IndexFunc(q.WindowSpecs, func(d ast.WindowSpec) bool { return d.Name.L == name.L })
		if i < 0 {
			return nil, false
		}
		spec = &q.WindowSpecs[i]
	}
	return nil, false
}

// windowFinder visits window functions outside subqueries.
type windowFinder struct{ visit func(*ast.WindowFuncExpr) }

func (f *windowFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		return n, true
	case *ast.WindowFuncExpr:
		f.visit(x)
		return n, true
	}
	return n, false
}

func (f *windowFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
