package engine

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// planAggregate plans a grouped statement. The shards compute partial
// aggregates per group (AVG as SUM and COUNT), grouped and sorted by the
// group keys; the merge keeps each group's partials adjacent and
// OrderedAggregate combines them. HAVING, and an ORDER BY that is not on
// the group keys, run on the combined groups.
func (p *planner) planAggregate() error {
	sel := p.sel
	if p.wildcard >= 0 {
		return unsupported("SELECT * with GROUP BY or aggregate functions across shards is not supported; list the columns")
	}
	for i, it := range p.items[:p.explicit] {
		if a, ok := unparen(it.expr).(*ast.AggregateFuncExpr); ok {
			if err := p.registerAggregate(i, a); err != nil {
				return err
			}
		} else if contains(it.expr, isAggregate) {
			if err := p.compute(i); err != nil {
				return err
			}
		}
	}

	groups, inGroup, err := p.groupKeys()
	if err != nil {
		return err
	}
	scalar := len(groups) == 0

	var having evalExpr
	if sel.Having != nil {
		if having, err = p.combine(sel.Having.Expr); err != nil {
			return err
		}
	}

	merge, sortBy, err := p.groupOrder(groups, inGroup)
	if err != nil {
		return err
	}

	if sel.Distinct && !scalar {
		for _, g := range groups {
			if p.items[g.item].hidden {
				return unsupported("SELECT DISTINCT with GROUP BY on columns outside the select list across shards is not supported")
			}
		}
		// Each group is one row and the group keys are shown: the rows are
		// distinct already.
	}

	// Without GROUP BY, a shard without rows still returns a row, with NULL
	// in the columns that are not aggregates: take those from a shard that
	// had rows, as the server takes them from a row.
	rowCount := NoColumn
	if scalar && p.hasRowValues() {
		i, err := p.aggregateText("COUNT(*)")
		if err != nil {
			return err
		}
		rowCount = p.col(i)
	}

	groupKeys, err := p.sortKeys(groups)
	if err != nil {
		return err
	}
	mergeKeys, err := p.sortKeys(merge)
	if err != nil {
		return err
	}
	sortKeys, err := p.sortKeys(sortBy)
	if err != nil {
		return err
	}
	window, shardLimit, err := p.limit()
	if err != nil {
		return err
	}

	sel.Distinct = false
	sel.Having = nil
	sel.GroupBy, sel.OrderBy, sel.Limit = nil, nil, nil
	if !scalar {
		sel.GroupBy = &ast.GroupByClause{Items: positions(groups).Items}
		for _, by := range sel.GroupBy.Items {
			by.Desc = false // the ORDER BY orders; GROUP BY DESC is deprecated
		}
		sel.OrderBy = positions(merge)
		// The first offset+count groups of the merge are among the first
		// offset+count of every shard, unless HAVING drops groups or a
		// sort reorders them.
		if having == nil && sortBy == nil {
			sel.Limit = shardLimit
		}
	}
	if window != nil && window.Count.Param < 0 && window.Count.N == 0 {
		sel.Limit = shardLimit // LIMIT 0: no rows in any case
	}
	aggs, computed := p.aggs, p.computed
	p.build = func(sql string) Primitive {
		var root Primitive = &Concat{SQL: sql, Columns: p.columns()}
		if !scalar {
			root = &MergeSort{SQL: sql, Columns: p.columns(), Keys: mergeKeys}
		}
		root = &OrderedAggregate{GroupKeys: groupKeys, Aggregates: aggs, RowCount: rowCount, Input: root}
		if len(computed) > 0 {
			root = &Compute{Columns: computed, Input: root}
		}
		if having != nil {
			root = &Filter{Predicate: having, Input: root}
		}
		if sortBy != nil {
			root = &Sort{Keys: sortKeys, Top: window, Input: root}
		}
		if window != nil {
			root = &Limit{Window: *window, Input: root}
		}
		return root
	}
	return nil
}

// groupKeys resolves the GROUP BY items, each once, and says which items
// they are.
func (p *planner) groupKeys() ([]keyRef, map[int]bool, error) {
	var groups []keyRef
	inGroup := map[int]bool{}
	if p.sel.GroupBy == nil {
		return nil, inGroup, nil
	}
	for _, by := range p.sel.GroupBy.Items {
		i, err := p.groupItem(by.Expr)
		if err != nil {
			return nil, nil, err
		}
		if !inGroup[i] {
			inGroup[i] = true
			groups = append(groups, keyRef{item: i, abs: -1, desc: by.Desc})
		}
	}
	return groups, inGroup, nil
}

// groupOrder returns the order the shards and the merge follow, and the
// order a Sort of the combined groups must establish (nil if none).
// Without ORDER BY, MariaDB returns groups in group-key order: the merge
// order. An ORDER BY on group keys only becomes the merge order, completed
// by the other keys so that groups stay adjacent; any other needs a sort.
func (p *planner) groupOrder(groups []keyRef, inGroup map[int]bool) (merge, sortBy []keyRef, err error) {
	ob := p.sel.OrderBy
	if len(groups) == 0 || ob == nil || isOrderByNull(ob) {
		return groups, nil, nil // one group needs no order
	}
	var order []keyRef
	onGroups := true
	for _, by := range ob.Items {
		r, err := p.orderKey(by)
		if err != nil {
			return nil, nil, err
		}
		order = append(order, r)
		onGroups = onGroups && inGroup[r.item]
	}
	if onGroups {
		return completeOrder(order, groups), nil, nil
	}
	return groups, order, nil
}

// hasRowValues reports whether the shard select list has columns that
// are not aggregates (their value comes from a row).
func (p *planner) hasRowValues() bool {
	for i, it := range p.items {
		if it.agg == nil && !it.computed && !p.isWeightOfAggregate(i) {
			return true
		}
	}
	return false
}

func (p *planner) isWeightOfAggregate(i int) bool {
	for _, w := range p.minMaxWeight {
		if w == i {
			return true
		}
	}
	return false
}

// completeOrder appends to an ORDER BY on group keys the group keys it
// lacks, in GROUP BY direction.
func completeOrder(order, groups []keyRef) []keyRef {
	merge := append([]keyRef(nil), order...)
	for _, g := range groups {
		seen := false
		for _, o := range order {
			seen = seen || o.item == g.item
		}
		if !seen {
			merge = append(merge, g)
		}
	}
	return merge
}

// groupItem resolves a GROUP BY item: a position, an expression of the
// select list, an alias, or else an expression the shards compute in a
// hidden column. Names match columns before aliases, as in MySQL.
func (p *planner) groupItem(e ast.ExprNode) (int, error) {
	if pos, ok := e.(*ast.PositionExpr); ok {
		n := pos.N
		if n < 1 || n > p.explicit {
			return 0, errorf(ErBadField, "Unknown column '%d' in 'group statement'", n)
		}
		if p.items[n-1].agg != nil || p.items[n-1].computed {
			return 0, errorf(ErWrongGroupField, "Can't group on '%s'", p.name(n-1))
		}
		return n - 1, nil
	}
	text, err := restoreText(e)
	if err != nil {
		return 0, err
	}
	if i := p.itemByText(text); i >= 0 && p.items[i].agg == nil {
		return i, nil
	}
	if name, ok := bareName(e); ok {
		if i := p.aliasItem(name); i >= 0 {
			if p.items[i].agg != nil || p.items[i].computed {
				return 0, errorf(ErWrongGroupField, "Can't group on '%s'", name)
			}
			return i, nil
		}
	}
	return p.hidden(text)
}

// aggregateItem returns the item computing the aggregate a, a hidden
// column if the select list lacks it, and registers how it combines.
func (p *planner) aggregateItem(a *ast.AggregateFuncExpr) (int, error) {
	if err := p.checkAggregate(a); err != nil {
		return 0, err
	}
	text, err := restoreText(a)
	if err != nil {
		return 0, err
	}
	i, err := p.hidden(text)
	if err != nil {
		return 0, err
	}
	agg, ok := unparen(p.items[i].expr).(*ast.AggregateFuncExpr)
	if !ok {
		return 0, errorf(ErUnknown, "plan error: %s is not an aggregate", text)
	}
	return i, p.registerAggregate(i, agg)
}

// compute makes item i, an expression over aggregates, a column Compute
// evaluates over the combined groups; the shards still compute it over
// their partial groups, for its column definition.
func (p *planner) compute(i int) error {
	if p.items[i].computed {
		return nil
	}
	e, err := p.combine(p.items[i].expr)
	if err != nil {
		return err
	}
	p.items[i].computed = true
	p.computed = append(p.computed, Computed{Col: p.col(i), Expr: e, Text: p.items[i].text})
	return nil
}

// computedItem returns the item computing e, an expression over
// aggregates: a select-list field or a new hidden column.
func (p *planner) computedItem(e ast.ExprNode) (int, error) {
	i, err := p.hiddenExpr(e)
	if err != nil {
		return 0, err
	}
	return i, p.compute(i)
}

// aggregateOf returns how item i combines, nil if it is no aggregate.
func (p *planner) aggregateOf(i int) *Aggregate {
	for k := range p.aggs {
		if p.aggs[k].Col == i {
			return &p.aggs[k]
		}
	}
	return nil
}

// aggregateText is aggregateItem for an aggregate written as text.
func (p *planner) aggregateText(text string) (int, error) {
	e, err := parseExpr(text)
	if err != nil {
		return 0, err
	}
	a, ok := e.(*ast.AggregateFuncExpr)
	if !ok {
		return 0, errorf(ErUnknown, "plan error: %s is not an aggregate", text)
	}
	return p.aggregateItem(a)
}

// registerAggregate records how item i, the aggregate a, combines: COUNT
// and SUM add up, MIN and MAX compare (by collation weight for strings),
// AVG divides its combined SUM by its combined COUNT. The shards still
// compute the AVG itself: its column definition is the client's.
func (p *planner) registerAggregate(i int, a *ast.AggregateFuncExpr) error {
	if p.registered[i] {
		return nil
	}
	p.registered[i] = true
	p.items[i].agg = a
	agg := Aggregate{Col: i, Weight: NoColumn, Sum: NoColumn, Count: NoColumn}
	switch aggFunc(a) {
	case ast.AggFuncCount:
		agg.Op = AggCount
	case ast.AggFuncSum:
		agg.Op = AggSum
	case ast.AggFuncMin, ast.AggFuncMax:
		agg.Op = AggMin
		if aggFunc(a) == ast.AggFuncMax {
			agg.Op = AggMax
		}
		if mayBeString(a.Args[0]) {
			arg, err := restoreText(a.Args[0])
			if err != nil {
				return err
			}
			w, err := p.hidden(aggregateWeightText(p.items[i].text, arg))
			if err != nil {
				return err
			}
			agg.Weight = w
			p.minMaxWeight[i] = w
		}
	case ast.AggFuncAvg:
		agg.Op = AggAvg
		arg, err := restoreText(a.Args[0])
		if err != nil {
			return err
		}
		distinct := ""
		if a.Distinct {
			distinct = "DISTINCT "
		}
		if agg.Sum, err = p.aggregateText("SUM(" + distinct + arg + ")"); err != nil {
			return err
		}
		if agg.Count, err = p.aggregateText("COUNT(" + distinct + arg + ")"); err != nil {
			return err
		}
	default:
		return p.checkAggregate(a)
	}
	p.aggs = append(p.aggs, agg)
	return nil
}
