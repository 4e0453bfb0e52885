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
func planCounted(stmt, inner *ast.SelectStmt) (*Plan, error) {
	if partitioned(inner) {
		p, err := newPlanner(stmt)
		if err != nil {
			return nil, err
		}
		p.build = func(sql string) Primitive {
			count := Aggregate{Op: AggCount, Col: 0, Weight: NoColumn, Sum: NoColumn, Count: NoColumn}
			return &OrderedAggregate{Aggregates: []Aggregate{count}, RowCount: NoColumn, Input: &Concat{SQL: sql, Columns: 1}}
		}
		return p.finish()
	}
	plan, err := PlanSelect(inner)
	if err != nil {
		return nil, err
	}
	f := stmt.Fields.Fields[0]
	name := f.AsName.O
	if name == "" {
		name = f.Text()
	}
	plan.Root = &CountRows{Name: name, Input: plan.Root}
	return plan, nil
}

// partitioned reports whether a query's rows are the union of what each
// shard returns for it: it neither combines rows nor cuts them short.
func partitioned(sel *ast.SelectStmt) bool {
	if sel.Distinct || sel.GroupBy != nil || sel.Having != nil || sel.Limit != nil {
		return false
	}
	for _, f := range sel.Fields.Fields {
		if f.Expr != nil && contains(f.Expr, isAggregate) {
			return false
		}
	}
	return true
}

// CountRows answers COUNT(*) over its input's rows: one row, one BIGINT
// column, typed as MariaDB types COUNT(*).
type CountRows struct {
	Name  string
	Input Primitive
}

var _ Primitive = (*CountRows)(nil)

func (c *CountRows) Inputs() []Primitive { return []Primitive{c.Input} }
func (c *CountRows) Description() string { return "CountRows " + c.Name }

func (c *CountRows) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := c.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	field := wire.Field{Name: []byte(c.Name), Charset: wire.CharsetBinary, Length: 21, Type: wire.TypeLongLong,
		Flags: wire.FlagNotNull | wire.FlagBinary}
	return &countStream{in: in, fields: []wire.Field{field}}, nil
}

type countStream struct {
	in     Stream
	fields []wire.Field
	done   bool
	row    [][]byte
}

func (s *countStream) Fields() []wire.Field { return s.fields }
func (s *countStream) Close() error         { return s.in.Close() }

func (s *countStream) Next() ([][]byte, error) {
	if s.done {
		return nil, io.EOF
	}
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
	}
	s.done = true
	s.row = [][]byte{strconv.AppendInt(nil, n, 10)}
	return s.row, nil
}
