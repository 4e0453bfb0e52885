// Package engine answers SELECTs that reach several shards. PlanSelect
// decides what each shard runs (the statement with ORDER BY and LIMIT
// pushed down, partial aggregates, hidden sort and collation columns) and
// builds a tree of small operators that merges the shard streams into
// exactly the result one MariaDB server holding every row would return.
// Rows stream through: only an ORDER BY that the shards cannot do for us
// (sorting grouped rows by an aggregate) holds rows, and that is capped.
//
// The engine has no network code. The proxy gives it shard streams through
// Shards; it plans once per statement shape and executes per statement:
//
//	plan, err := engine.PlanSelect(sel) // cache it with the routing plan
//	...
//	rows, err := plan.Execute(ctx, shards) // ExecuteEnv with `?` values
//	defer rows.Close()
//	for { row, err := rows.Next(); ... }
//
// What cannot be answered exactly is refused with an *Error whose
// MySQLCode is 1235, naming the construct.
package engine

import (
	"context"

	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// Stream is one shard's (or one operator's) text-protocol result.
type Stream interface {
	// Fields are the column definitions.
	Fields() []wire.Field
	// Next returns the next row; a nil value is NULL. The row is valid until
	// the next call. It returns io.EOF after the last row.
	Next() ([][]byte, error)
	// Close ends the stream. The engine closes each shard stream it opened
	// exactly once: after io.EOF, on an error, or early (LIMIT reached,
	// client gone), when the proxy cancels the backend query. The caller
	// closes the stream Execute returns; the engine's streams accept Close
	// at any time, more than once.
	Close() error
}

// Shards runs the per-shard SQL on every target shard and returns one
// stream per shard, in shard order. The engine reads the streams from the
// caller's goroutine, one row at a time; streams fed by per-shard
// goroutines through small buffers let the shards work meanwhile.
type Shards interface {
	Open(ctx context.Context, sql string) ([]Stream, error)
}

// Primitive is one operator of a plan. Execute opens its result; rows are
// pulled from the inputs as the returned stream is read. A primitive holds
// no execution state, so a plan serves concurrent executions.
type Primitive interface {
	Execute(ctx context.Context, env *Env) (Stream, error)
	Inputs() []Primitive
	Description() string
}

// Default caps of the in-memory sort (see Env).
const (
	DefaultMaxSortRows  = 100_000
	DefaultMaxSortBytes = 64 << 20
)

// Env is what one execution runs against.
type Env struct {
	Shards Shards
	// Params are the statement's `?` values (prepared statements): the
	// engine reads those of LIMIT and HAVING itself.
	Params []sqlparse.Value
	// MaxSortRows and MaxSortBytes cap the rows an in-memory sort may hold;
	// 0 means DefaultMaxSortRows / DefaultMaxSortBytes.
	MaxSortRows  int
	MaxSortBytes int64
}

func (e *Env) sortCaps() (rows int, bytes int64) {
	rows, bytes = e.MaxSortRows, e.MaxSortBytes
	if rows <= 0 {
		rows = DefaultMaxSortRows
	}
	if bytes <= 0 {
		bytes = DefaultMaxSortBytes
	}
	return rows, bytes
}

// cancelled reports ctx's error without blocking; done is ctx.Done(),
// looked up once per stream because it is on every row's path.
func cancelled(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return ctx.Err()
	default:
		return nil
	}
}

// closeAll closes every stream and returns the first error.
func closeAll(streams []Stream) error {
	var first error
	for _, s := range streams {
		if s == nil {
			continue
		}
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// openShards runs sql on the shards and checks that they agree on the
// number of columns, and return columns of them unless it is 0; on failure
// nothing is left open.
func openShards(ctx context.Context, env *Env, sql string, columns int) ([]Stream, []wire.Field, error) {
	streams, err := env.Shards.Open(ctx, sql)
	if err != nil {
		closeAll(streams)
		return nil, nil, err
	}
	if len(streams) == 0 {
		return nil, nil, errorf(ErUnknown, "scatter query reached no shard")
	}
	fields := streams[0].Fields()
	if columns > 0 && len(fields) != columns {
		closeAll(streams)
		return nil, nil, errorf(ErUnknown, "shards returned %d columns, the plan expects %d", len(fields), columns)
	}
	for i, s := range streams[1:] {
		if n := len(s.Fields()); n != len(fields) {
			closeAll(streams)
			return nil, nil, errorf(ErUnknown, "shards disagree on the result columns: shard 0 returned %d, shard %d returned %d", len(fields), i+1, n)
		}
	}
	return streams, fields, nil
}

// passStream forwards an input's fields and Close; operators that only
// change rows embed it.
type passStream struct {
	in Stream
}

func (p *passStream) Fields() []wire.Field { return p.in.Fields() }
func (p *passStream) Close() error         { return p.in.Close() }
