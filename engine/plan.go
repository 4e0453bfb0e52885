package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// Plan is how one SELECT shape runs across shards. It keeps no reference to
// the caller's AST and is safe for concurrent executions: plan once per
// statement shape, cache it, execute it per statement.
type Plan struct {
	// ShardSQL is the statement every shard runs, with the same table names
	// as the input; ShardStmt is its AST (a fresh parse of ShardSQL, its `?`
	// markers numbered), for the router to rewrite schema qualifiers.
	ShardSQL  string
	ShardStmt ast.StmtNode // a SELECT, or a UNION ALL
	// Params is how many `?` the client's statement has. The shard
	// statement takes the first ShardParams of them, in the same order; the
	// engine reads the rest (in HAVING and LIMIT) from Env.Params.
	Params      int
	ShardParams int
	// LimitParam is the `?` the shard statement has as its LIMIT count,
	// -1 when none.
	LimitParam int
	Root       Primitive
}

// ShardValues returns params as the shard statement takes them inlined: a
// `?` LIMIT count as the integer MariaDB reads from it, since a string
// ('10', as PHP sends every value) is a syntax error there as a literal.
func (p *Plan) ShardValues(params []sqlparse.Value) ([]sqlparse.Value, error) {
	if p.LimitParam < 0 {
		return params, nil
	}
	n, err := Count{Param: p.LimitParam}.value(params)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(params)
	out[p.LimitParam] = sqlparse.UintValue(n)
	return out, nil
}

// Execute runs the plan for a statement without parameters.
func (p *Plan) Execute(ctx context.Context, shards Shards) (Stream, error) {
	return p.ExecuteEnv(ctx, &Env{Shards: shards})
}

// ExecuteEnv runs the plan with parameters and caps. The stream's Fields
// are the client's columns; the caller must Close it.
func (p *Plan) ExecuteEnv(ctx context.Context, env *Env) (Stream, error) {
	if len(env.Params) < p.Params {
		return nil, errorf(ErWrongArguments, "Incorrect arguments to EXECUTE: the statement has %d parameters, %d were given", p.Params, len(env.Params))
	}
	return p.Root.Execute(ctx, env)
}

// Describe writes the primitive tree, one primitive a line, inputs
// indented below.
func (p *Plan) Describe() string {
	var b strings.Builder
	var write func(Primitive, int)
	write = func(n Primitive, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.Description())
		b.WriteByte('\n')
		for _, in := range n.Inputs() {
			write(in, depth+1)
		}
	}
	write(p.Root, 0)
	return b.String()
}

// PlanSelect plans a SELECT that reaches several shards. It refuses with
// 1235 what it cannot answer exactly. The input AST is not modified.
func PlanSelect(stmt *ast.SelectStmt) (*Plan, error) { return PlanSelectKeyed(stmt, nil) }

// KeyTest says whether a column, as the query block whose rows are merged
// writes it (for a count or EXISTS of a derived table, that table's), is a
// shard key: its values are split between the shards, none on two. nullable:
// an outer join may NULL-extend its table, and those NULLs come from every
// shard (DISTINCT aggregates skip them; groups and windows of them span
// shards).
type KeyTest func(*ast.ColumnName) (key, nullable bool)

// PlanSelectKeyed is PlanSelect told which columns are shard keys (nil:
// none), which COUNT(DISTINCT key), groups and windows by a key need.
func PlanSelectKeyed(stmt *ast.SelectStmt, shardKey KeyTest) (*Plan, error) {
	if stmt == nil {
		return nil, errorf(ErUnknown, "no statement to plan")
	}
	if err := checkRowOrder(stmt); err != nil {
		return nil, err
	}
	if inner := sqlparse.CountedDerived(stmt); inner != nil {
		return planCounted(stmt, inner, shardKey)
	}
	if u := sqlparse.CountedUnion(stmt); u != nil {
		return planCountedUnion(stmt, u)
	}
	if inner, not := sqlparse.ExistsQuery(stmt); inner != nil {
		return planExists(stmt, inner, not, shardKey)
	}
	p, err := newPlanner(stmt)
	if err != nil {
		return nil, err
	}
	p.shardKey = shardKey
	p.wholeGroups = p.groupedByShardKey()
	p.keyedWindows = (p.wholeGroups || !p.aggregated()) && p.windowsByShardKey()
	if err := p.check(); err != nil {
		return nil, err
	}
	if p.aggregated() && !p.wholeGroups {
		err = p.planAggregate()
	} else {
		err = p.planRows()
	}
	if err != nil {
		return nil, err
	}
	return p.finish()
}

// planner builds a Plan. It works on a copy of the statement (sel), which
// it turns into the shard statement: select list extended with hidden
// columns, GROUP BY, HAVING, ORDER BY and LIMIT replaced.
type planner struct {
	sel      *ast.SelectStmt
	params   int
	items    []*item // the shard's select list: explicit fields, then hidden columns
	explicit int
	wildcard int // index of the first wildcard field, -1 when none
	// build makes the tree once the shard SQL is written.
	build func(sql string) Primitive
	// registered marks the items OrderedAggregate combines.
	registered map[int]bool
	aggs       []Aggregate
	// minMaxWeight maps a MIN/MAX item to its weight item.
	minMaxWeight map[int]int
	// shardKey reports whether a column is a shard key; nil: none is.
	shardKey KeyTest
	// wholeGroups: the statement groups by a shard key, so each group lies
	// on one shard and that shard's row for it is final (planRows).
	wholeGroups bool
	// keyedWindows: every window function partitions by a shard key, so
	// each partition lies on one shard, which computes its values.
	keyedWindows bool
	// computed are the items that are expressions over aggregates, which
	// Compute evaluates over the combined groups.
	computed []Computed
}

// name is how MySQL names explicit field i.
func (p *planner) name(i int) string {
	if n := p.sel.Fields.Fields[i].AsName.O; n != "" {
		return n
	}
	return p.items[i].text
}

// item is one column of the shard's select list.
type item struct {
	expr   ast.ExprNode // nil for a wildcard
	text   string       // the restored expression, to match references
	alias  string       // lower case, "" when none
	agg    *ast.AggregateFuncExpr
	hidden bool
	// computed: an expression over aggregates (Compute gives its value).
	computed bool
}

// restoredCopy restores stmt and parses the text again: a copy to rewrite
// into the shard statement, its `?` numbered as stmt's, and their count.
func restoredCopy(stmt ast.StmtNode) (ast.StmtNode, int, error) {
	text, err := restoreText(stmt)
	if err != nil {
		return nil, 0, errorf(ErUnknown, "plan error: %v", err)
	}
	parsed, err := sqlparse.ParseOne(text)
	if err != nil {
		return nil, 0, errorf(ErUnknown, "plan error: cannot parse the restored statement: %v", err)
	}
	sqlparse.PositionsAsMariaDB(parsed)
	params, ok := sqlparse.CopyParamOrder(stmt, parsed)
	if !ok {
		return nil, 0, errorf(ErUnknown, "plan error: the restored statement has other parameters than the input")
	}
	return parsed, params, nil
}

func newPlanner(stmt *ast.SelectStmt) (*planner, error) {
	parsed, params, err := restoredCopy(stmt)
	if err != nil {
		return nil, err
	}
	sel, ok := parsed.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || len(sel.Fields.Fields) != len(stmt.Fields.Fields) {
		return nil, errorf(ErUnknown, "plan error: the restored statement differs from the input")
	}
	p := &planner{
		sel: sel, params: params, wildcard: -1,
		registered: map[int]bool{}, minMaxWeight: map[int]int{},
	}
	for i, f := range sel.Fields.Fields {
		it := &item{expr: f.Expr}
		if f.WildCard != nil {
			if p.wildcard < 0 {
				p.wildcard = i
			}
		} else if it.text, err = restoreText(f.Expr); err != nil {
			return nil, err
		}
		keepName(f, stmt.Fields.Fields[i])
		it.alias = f.AsName.L // ORDER BY `count(*)` names the column too
		p.items = append(p.items, it)
	}
	p.explicit = len(p.items)
	return p, nil
}

// keepName gives an unnamed expression its original text as alias: MySQL
// names the column after that text, which the restored spelling (COUNT(1)
// for count(*)) would change. Columns and string literals are named by
// their name and value, which restoring keeps. (sqlparse does the same when
// it restores a statement for a shard.)
func keepName(f, orig *ast.SelectField) {
	if f.WildCard != nil || f.AsName.L != "" || isColumnRef(f.Expr) {
		return
	}
	if _, ok := stringLiteral(f.Expr); ok {
		return
	}
	if text := orig.Text(); text != "" && len(text) <= 256 {
		f.AsName = ast.NewCIStr(text)
	}
}

// aggregated reports whether the statement groups rows: GROUP BY, or an
// aggregate function in the select list, HAVING or ORDER BY.
func (p *planner) aggregated() bool {
	if p.sel.GroupBy != nil {
		return true
	}
	for _, it := range p.items[:p.explicit] {
		if it.expr != nil && contains(it.expr, isAggregate) {
			return true
		}
	}
	if p.sel.Having != nil && contains(p.sel.Having.Expr, isAggregate) {
		return true
	}
	if p.sel.OrderBy != nil {
		for _, by := range p.sel.OrderBy.Items {
			if contains(by.Expr, isAggregate) {
				return true
			}
		}
	}
	return false
}

// groupedByShardKey reports whether the statement groups by a shard key
// column. A key value lives on one shard: so does every row of a group,
// and the shard computes the group's row as one server holding all rows
// would, whatever its aggregates (GROUP_CONCAT, COUNT(DISTINCT ...),
// STDDEV) and HAVING. The merge then only orders and limits rows.
func (p *planner) groupedByShardKey() bool {
	if p.shardKey == nil || p.sel.GroupBy == nil {
		return false
	}
	return slices.ContainsFunc(p.sel.GroupBy.Items, func(by *ast.ByItem) bool { return p.isShardKey(by.Expr) })
}

// windowsByShardKey reports whether the statement's window functions
// (none, or all) partition by a shard key column.
func (p *planner) windowsByShardKey() bool {
	parts, ok := sqlparse.WindowPartitions(p.sel)
	return ok && p.shardKey != nil && !slices.ContainsFunc(parts, func(exprs []ast.ExprNode) bool {
		return !slices.ContainsFunc(exprs, p.isShardKey)
	})
}

// isShardKey reports a shard key column no outer join NULL-extends: rows
// with one value of it lie on one shard.
func (p *planner) isShardKey(e ast.ExprNode) bool {
	c, ok := unparen(e).(*ast.ColumnNameExpr)
	if !ok {
		return false
	}
	key, nullable := p.shardKey(c.Name)
	return key && !nullable
}

// finish writes the shard statement and wraps the tree in the Project that
// hides the hidden columns.
func (p *planner) finish() (*Plan, error) {
	fields := make([]*ast.SelectField, 0, len(p.items))
	fields = append(fields, p.sel.Fields.Fields[:p.explicit]...)
	for _, it := range p.items[p.explicit:] {
		fields = append(fields, &ast.SelectField{Expr: it.expr})
	}
	p.sel.Fields.Fields = fields
	sql, err := restoreText(p.sel)
	if err != nil {
		return nil, errorf(ErUnknown, "plan error: %v", err)
	}
	parsed, err := sqlparse.ParseOne(sql)
	if err != nil {
		return nil, errorf(ErUnknown, "plan error: the shard statement does not parse: %v", err)
	}
	plan := &Plan{ShardSQL: sql, ShardStmt: parsed, Params: p.params, LimitParam: -1, Root: p.build(sql)}
	if l := p.sel.Limit; l != nil {
		if i, ok := sqlparse.ParamIndex(l.Count); ok {
			plan.LimitParam = i
		}
	}
	plan.ShardParams = sqlparse.NumberParams(plan.ShardStmt)
	if hidden := len(p.items) - p.explicit; hidden > 0 {
		plan.Root = &Project{Hidden: hidden, Input: plan.Root}
	}
	return plan, nil
}

// columns is the width of the shard result, 0 when a wildcard leaves it
// to the shards.
func (p *planner) columns() int {
	if p.wildcard >= 0 {
		return 0
	}
	return len(p.items)
}

// col is the shard-result column of item i (see SortKey): hidden columns
// count from the end when a wildcard makes the width unknown. Explicit
// fields after a wildcard are never referenced (ref copies them).
func (p *planner) col(i int) int {
	if p.wildcard < 0 || i < p.wildcard {
		return i
	}
	return i - len(p.items)
}

// itemByText returns the item computing the expression text: an explicit
// field the planner can reference, or a hidden column; -1 if none.
func (p *planner) itemByText(text string) int {
	for i, it := range p.items {
		if it.expr != nil && it.text == text && p.referable(i) {
			return i
		}
	}
	return -1
}

// referable reports whether item i's column is known: not an explicit
// field after a wildcard.
func (p *planner) referable(i int) bool {
	return p.wildcard < 0 || i < p.wildcard || i >= p.explicit
}

// aliasItem returns the explicit field aliased name, -1 if none.
func (p *planner) aliasItem(name string) int {
	for i, it := range p.items[:p.explicit] {
		if it.alias != "" && it.alias == name {
			return i
		}
	}
	return -1
}

// ref returns a referable item computing what item i computes.
func (p *planner) ref(i int) (int, error) {
	if p.referable(i) {
		return i, nil
	}
	return p.hidden(p.items[i].text)
}

// hidden returns the hidden column computing the expression text, added
// if new. Copying an expression copies its `?` markers, which would
// renumber the shard statement's parameters: refused.
func (p *planner) hidden(text string) (int, error) {
	if i := p.itemByText(text); i >= 0 {
		return i, nil
	}
	e, err := parseExpr(text)
	if err != nil {
		return 0, err
	}
	if containsParam(e) {
		return 0, unsupported("a parameter marker in an expression the shards must compute twice (%s) across shards is not supported", text)
	}
	// Store the text as restored from the new node, so lookups match.
	if text, err = restoreText(e); err != nil {
		return 0, err
	}
	if i := p.itemByText(text); i >= 0 {
		return i, nil
	}
	p.items = append(p.items, &item{expr: e, text: text, hidden: true})
	return len(p.items) - 1, nil
}

// hiddenExpr is hidden for an expression of the statement, with references
// to select-list aliases replaced by the aliased expressions (a select list
// cannot name its own aliases, ORDER BY and HAVING can).
func (p *planner) hiddenExpr(e ast.ExprNode) (int, error) {
	text, err := restoreText(e)
	if err != nil {
		return 0, err
	}
	if i := p.itemByText(text); i >= 0 {
		return i, nil
	}
	if contains(e, func(n ast.Node) bool {
		name, ok := bareName(asExpr(n))
		return ok && p.aliasItem(name) >= 0
	}) {
		copied, err := parseExpr(text)
		if err != nil {
			return 0, err
		}
		expanded, _ := copied.Accept(&aliasExpander{p: p})
		if text, err = restoreText(expanded); err != nil {
			return 0, err
		}
	}
	return p.hidden(text)
}

func asExpr(n ast.Node) ast.ExprNode {
	e, _ := n.(ast.ExprNode)
	return e
}

// aliasExpander replaces alias references by the aliased expressions.
type aliasExpander struct{ p *planner }

func (a *aliasExpander) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (a *aliasExpander) Leave(n ast.Node) (ast.Node, bool) {
	name, ok := bareName(asExpr(n))
	if !ok {
		return n, true
	}
	i := a.p.aliasItem(name)
	if i < 0 {
		return n, true
	}
	e, err := parseExpr(a.p.items[i].text)
	if err != nil {
		return n, true
	}
	return &ast.ParenthesesExpr{Expr: e}, true
}

// weight returns the item holding the collation weight of item i, or
// NoColumn when its values compare without one.
func (p *planner) weight(i int) (int, error) {
	it := p.items[i]
	if w, ok := p.minMaxWeight[i]; ok {
		return w, nil
	}
	if it.agg != nil || it.computed || !mayBeString(it.expr) {
		return NoColumn, nil // computed: a number (Compute checks)
	}
	if containsParam(it.expr) {
		return 0, unsupported("sorting or grouping by an expression with a parameter marker (%s) across shards is not supported", it.text)
	}
	return p.hidden(weightText(it.text))
}

// keyRef is a sort or group key during planning: an item, or (for ORDER
// BY n over a wildcard) a column number.
type keyRef struct {
	item int
	abs  int // >= 0: the column itself, item unused
	desc bool
}

// sortKeys turns key references into SortKeys, adding weight columns.
func (p *planner) sortKeys(refs []keyRef) ([]SortKey, error) {
	keys := make([]SortKey, len(refs))
	for i, r := range refs {
		if r.abs >= 0 {
			keys[i] = SortKey{Col: r.abs, Weight: NoColumn, Desc: r.desc}
			continue
		}
		w, err := p.weight(r.item)
		if err != nil {
			return nil, err
		}
		keys[i] = SortKey{Col: r.item, Weight: w, Desc: r.desc}
	}
	return keys, nil
}

// resolveCols maps item numbers in keys to columns; call once every hidden
// column exists.
func (p *planner) resolveCols(keys []SortKey, refs []keyRef) []SortKey {
	for i := range keys {
		if refs[i].abs < 0 {
			keys[i].Col = p.col(keys[i].Col)
		}
		if keys[i].Weight != NoColumn {
			keys[i].Weight = p.col(keys[i].Weight)
		}
	}
	return keys
}

// positions writes keys as a shard ORDER BY of select-list positions,
// which cannot be mistaken for another column or alias.
func positions(refs []keyRef) *ast.OrderByClause {
	ob := &ast.OrderByClause{}
	for _, r := range refs {
		n := r.abs
		if n < 0 {
			n = r.item
		}
		ob.Items = append(ob.Items, &ast.ByItem{Expr: &ast.PositionExpr{N: n + 1}, Desc: r.desc})
	}
	return ob
}

// isOrderByNull reports ORDER BY NULL, MariaDB's "no order needed".
func isOrderByNull(ob *ast.OrderByClause) bool {
	if ob == nil || len(ob.Items) != 1 {
		return false
	}
	v, ok := sqlparse.Literal(ob.Items[0].Expr)
	return ok && v.IsNull()
}
