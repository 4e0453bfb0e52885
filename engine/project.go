package engine

import (
	"context"
	"slices"
	"strconv"

	"github.com/shardproxy/shardproxy/wire"
)

// Project hides the Hidden columns at the end of each row: the sort keys,
// collation weights and partial aggregates the shards computed for the
// operators below, which the client did not ask for.
type Project struct {
	Hidden int
	Input  Primitive
}

var _ Primitive = (*Project)(nil)

func (p *Project) Inputs() []Primitive { return []Primitive{p.Input} }
func (p *Project) Description() string { return "Project hide=" + strconv.Itoa(p.Hidden) }

func (p *Project) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := p.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	fields := in.Fields()
	visible := len(fields) - p.Hidden
	if visible < 0 {
		in.Close()
		return nil, errorf(ErUnknown, "shard result has %d columns, fewer than the %d hidden ones", len(fields), p.Hidden)
	}
	return &projectStream{passStream{in}, fields[:visible:visible]}, nil
}

type projectStream struct {
	passStream
	fields []wire.Field
}

func (p *projectStream) Fields() []wire.Field { return p.fields }

func (p *projectStream) Next() ([][]byte, error) {
	row, err := p.in.Next()
	if err != nil {
		return nil, err
	}
	return row[:len(p.fields)], nil
}

// UnionColumns shows the columns of a union read as a derived table
// (planSortedUnion) as the union's own: MariaDB names no table for them.
type UnionColumns struct {
	Input Primitive
}

var _ Primitive = (*UnionColumns)(nil)

func (u *UnionColumns) Inputs() []Primitive { return []Primitive{u.Input} }
func (u *UnionColumns) Description() string { return "UnionColumns" }

func (u *UnionColumns) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := u.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	fields := slices.Clone(in.Fields())
	for i := range fields {
		fields[i].Table = nil
	}
	return &projectStream{passStream{in}, fields}, nil
}
