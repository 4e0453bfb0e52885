package engine

import (
	"context"
	"io"

	"github.com/shardproxy/shardproxy/wire"
)

// Concat runs SQL on the shards and forwards their rows as they come, one
// shard after the other: for results without an order.
type Concat struct {
	SQL string
	// Columns is the width of the shard result, 0 when unknown (SELECT *).
	Columns int
}

var _ Primitive = (*Concat)(nil)

func (c *Concat) Inputs() []Primitive { return nil }
func (c *Concat) Description() string { return "Concat" }

func (c *Concat) Execute(ctx context.Context, env *Env) (Stream, error) {
	streams, fields, err := openShards(ctx, env, c.SQL, c.Columns)
	if err != nil {
		return nil, err
	}
	return newConcatStream(ctx, streams, fields), nil
}

func newConcatStream(ctx context.Context, streams []Stream, fields []wire.Field) *concatStream {
	return &concatStream{ctx: ctx, done: ctx.Done(), streams: streams, fields: fields}
}

type concatStream struct {
	ctx     context.Context
	done    <-chan struct{}
	streams []Stream // nil once closed
	cur     int
	fields  []wire.Field
}

func (c *concatStream) Fields() []wire.Field { return c.fields }

func (c *concatStream) Next() ([][]byte, error) {
	if err := cancelled(c.ctx, c.done); err != nil {
		c.Close()
		return nil, err
	}
	for c.cur < len(c.streams) {
		row, err := c.streams[c.cur].Next()
		if err == nil {
			return row, nil
		}
		if err != io.EOF {
			c.Close()
			return nil, err
		}
		// Release this shard's connection before reading the next one.
		s := c.streams[c.cur]
		c.streams[c.cur] = nil
		c.cur++
		if err := s.Close(); err != nil {
			c.Close()
			return nil, err
		}
	}
	return nil, io.EOF
}

func (c *concatStream) Close() error {
	err := closeAll(c.streams)
	clear(c.streams)
	c.cur = len(c.streams)
	return err
}
