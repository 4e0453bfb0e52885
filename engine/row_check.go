package engine

import (
	"context"
	"io"
	"strconv"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/wire"
)

// planCounted plans `SELECT COUNT(*) FROM (inner) AS t`, how ORMs count a
// query's rows. When the inner query keeps each row on its shard (no
// DISTINCT, grouping, aggregate or LIMIT), the shards count their own rows
// and the counts add up, with the shards' column definition. Otherwise
// the inner query is merged as a statement of its own and its rows
// counted.
func planCounted(stmt, inner *ast.SelectStmt, shardKey KeyTest) (*Plan, error) {
	if partitioned(inner) {
		return planPerShard(stmt, AggCount)
	}
	plan, err := PlanSelectKeyed(inner, shardKey)
	if err != nil {
		return nil, err
	}
	plan.Root = &RowCheck{Name: fieldName(stmt.Fields.Fields[0]), Check: CheckCount, Input: plan.Root}
	return plan, nil
}

// planCountedUnion plans `SELECT COUNT(*) FROM (union) AS t` for a union
// that must be merged first (sqlparse.CountedUnion): its rows are counted.
func planCountedUnion(stmt *ast.SelectStmt, u *ast.SetOprStmt) (*Plan, error) {
	plan, err := PlanUnion(u)
	if err != nil {
		return nil, err
	}
	plan.Root = &RowCheck{Name: fieldName(stmt.Fields.Fields[0]), Check: CheckCount, Input: plan.Root}
	return plan, nil
}

// planExists plans `SELECT [NOT] EXISTS (inner)`. When the inner query
// keeps each row on its shard, each shard answers for its rows and the
// answers combine as OR (the largest) or, for NOT EXISTS, as AND (the
// smallest). Otherwise the inner query is merged as a statement of its own
// and its first row, if any, answers.
func planExists(stmt, inner *ast.SelectStmt, not bool, shardKey KeyTest) (*Plan, error) {
	if err := checkExistsOrder(inner); err != nil {
		return nil, err
	}
	inner = asExistsSees(inner)
	if inner.Limit == nil || inner.Limit.Offset == nil {
		if partitioned(withoutLimit(inner)) {
			op := AggMax
			if not {
				op = AggMin
			}
			return planPerShard(stmt, op)
		}
	}
	plan, err := PlanSelectKeyed(inner, shardKey)
	if err != nil {
		return nil, err
	}
	check := CheckExists
	if not {
		check = CheckNotExists
	}
	plan.Root = &RowCheck{Name: fieldName(stmt.Fields.Fields[0]), Check: check, Input: plan.Root}
	return plan, nil
}

// fieldName is how MariaDB names a select-list column: its alias, a
// column's name, a string's value, else its text.
func fieldName(f *ast.SelectField) string {
	if f.AsName.O != "" {
		return f.AsName.O
	}
	if c, ok := f.Expr.(*ast.ColumnNameExpr); ok {
		return c.Name.Name.O
	}
	if v, ok := stringLiteral(f.Expr); ok {
		return v
	}
	return f.Text()
}

// checkExistsOrder refuses what MariaDB refuses inside EXISTS: it does not
// expand a SELECT * there (the rows' values do not matter), so an ORDER
// BY position past the first names no column.
func checkExistsOrder(sel *ast.SelectStmt) error {
	if sel.OrderBy == nil || len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].WildCard == nil {
		return nil
	}
	for _, by := range sel.OrderBy.Items {
		if pos, ok := by.Expr.(*ast.PositionExpr); ok && pos.P == nil && pos.N > 1 {
			return errorf(ErBadField, "Unknown column '%d' in 'ORDER BY'", pos.N)
		}
	}
	return nil
}

// asExistsSees is sel as MariaDB runs it inside EXISTS: without DISTINCT,
// and without GROUP BY unless it has HAVING or aggregates (an OFFSET then
// skips rows, not groups: EXISTS (SELECT DISTINCT c FROM t LIMIT 1
// OFFSET 2) is true for three rows of two values). A copy: sel stays.
func asExistsSees(sel *ast.SelectStmt) *ast.SelectStmt {
	c := *sel
	c.Distinct = false
	if c.Having == nil && !selectsAggregates(&c) {
		c.GroupBy = nil
	}
	return &c
}

// withoutLimit is sel as partitioned sees it when its LIMIT does not matter.
func withoutLimit(sel *ast.SelectStmt) *ast.SelectStmt {
	c := *sel
	c.Limit = nil
	return &c
}

// planPerShard plans a statement of one column that every shard answers
// for its own rows, combined by op: the shards run the client's text.
func planPerShard(stmt *ast.SelectStmt, op AggregateOp) (*Plan, error) {
	p, err := newPlanner(stmt)
	if err != nil {
		return nil, err
	}
	p.build = func(sql string) Primitive {
		agg := Aggregate{Op: op, Col: 0, Weight: NoColumn, Sum: NoColumn, Count: NoColumn}
		return &OrderedAggregate{Aggregates: []Aggregate{agg}, RowCount: NoColumn, Input: &Concat{SQL: sql, Columns: 1}}
	}
	return p.finish()
}

// partitioned reports whether a query's rows are the union of what each
// shard returns for it: it neither combines rows nor cuts them short.
func partitioned(sel *ast.SelectStmt) bool {
	return !sel.Distinct && sel.GroupBy == nil && sel.Having == nil && sel.Limit == nil && !selectsAggregates(sel)
}

// selectsAggregates reports whether sel's select list has an aggregate.
func selectsAggregates(sel *ast.SelectStmt) bool {
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil && contains(f.Expr, isAggregate) {
			return true
		}
	}
	return false
}

// RowCheck answers one value about its input's rows: how many there are
// (COUNT(*) over a derived table) or whether there is one ([NOT] EXISTS),
// typed as MariaDB types that value.
type RowCheck struct {
	Name  string
	Check Check
	Input Primitive
}

// Check is what RowCheck answers.
type Check uint8

const (
	CheckCount     Check = iota // the number of rows
	CheckExists                 // 1 if there is a row
	CheckNotExists              // 0 if there is a row
)

var checkNames = [...]string{CheckCount: "count", CheckExists: "exists", CheckNotExists: "not exists"}

var _ Primitive = (*RowCheck)(nil)

func (c *RowCheck) Inputs() []Primitive { return []Primitive{c.Input} }
func (c *RowCheck) Description() string { return "RowCheck " + checkNames[c.Check] + " as " + c.Name }

func (c *RowCheck) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := c.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	field := wire.Field{Name: []byte(c.Name), Charset: wire.CharsetBinary, Length: 21, Type: wire.TypeLongLong,
		Flags: wire.FlagNotNull | wire.FlagBinary}
	if c.Check != CheckCount {
		field.Length, field.Type = 1, wire.TypeLong
	}
	return &checkStream{in: in, check: c.Check, fields: []wire.Field{field}}, nil
}

type checkStream struct {
	in     Stream
	check  Check
	fields []wire.Field
	done   bool
}

func (s *checkStream) Fields() []wire.Field { return s.fields }
func (s *checkStream) Close() error         { return s.in.Close() }

func (s *checkStream) Next() ([][]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	s.done = true
	var n int64
	for {
		_, err := s.in.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		n++
		if s.check != CheckCount {
			break // one row answers EXISTS; closing the input stops the rest
		}
	}
	switch {
	case s.check == CheckExists && n > 0, s.check == CheckNotExists && n == 0:
		n = 1
	case s.check != CheckCount:
		n = 0
	}
	return [][]byte{strconv.AppendInt(nil, n, 10)}, nil
}
