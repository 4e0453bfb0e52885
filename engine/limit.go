package engine

import (
	"context"
	"io"
	"math"
	"strconv"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// Count is a LIMIT count or offset: a literal, or a `?` bound per execution.
type Count struct {
	N     uint64
	Param int // index of the `?`, -1 for a literal
}

func (c Count) String() string {
	if c.Param >= 0 {
		return "?" + strconv.Itoa(c.Param)
	}
	return strconv.FormatUint(c.N, 10)
}

// value returns the count for one execution.
func (c Count) value(params []sqlparse.Value) (uint64, error) {
	if c.Param < 0 {
		return c.N, nil
	}
	if c.Param >= len(params) {
		return 0, errorf(ErWrongArguments, "Incorrect arguments to EXECUTE: the statement needs %d parameters, %d were given", c.Param+1, len(params))
	}
	return sqlparse.LimitArgument(params[c.Param]), nil
}

// Window is a LIMIT clause: skip Offset rows, return Count.
type Window struct {
	Offset, Count Count
}

func (w Window) String() string { return "offset=" + w.Offset.String() + " count=" + w.Count.String() }

// values returns offset and count for one execution, and offset+count
// (capped at the largest count): the rows an operator below must keep.
func (w Window) values(params []sqlparse.Value) (off, n, end uint64, err error) {
	if off, err = w.Offset.value(params); err != nil {
		return
	}
	if n, err = w.Count.value(params); err != nil {
		return
	}
	end = off + n
	if end < off {
		end = math.MaxUint64
	}
	return
}

// Limit skips Offset rows and returns at most Count, then closes its input
// so that the shards stop.
type Limit struct {
	Window
	Input Primitive
}

var _ Primitive = (*Limit)(nil)

func (l *Limit) Inputs() []Primitive { return []Primitive{l.Input} }
func (l *Limit) Description() string {
	return "Limit " + l.Window.String()
}

func (l *Limit) Execute(ctx context.Context, env *Env) (Stream, error) {
	off, n, _, err := l.values(env.Params)
	if err != nil {
		return nil, err
	}
	in, err := l.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	s := &limitStream{passStream: passStream{in}, skip: off, left: n}
	if n == 0 {
		s.finish()
	}
	return s, nil
}

type limitStream struct {
	passStream
	skip, left uint64
	// full: the last row was returned; the input is closed on the next
	// call, not before, because closing invalidates that row.
	full bool
	done bool
	err  error // the input's Close error, reported at the end
}

func (l *limitStream) Next() ([][]byte, error) {
	if l.full {
		l.finish()
	}
	if l.done {
		if l.err != nil {
			return nil, l.err
		}
		return nil, io.EOF
	}
	for {
		row, err := l.in.Next()
		if err != nil {
			l.done = true
			return nil, err
		}
		if l.skip > 0 {
			l.skip--
			continue
		}
		l.left--
		l.full = l.left == 0
		return row, nil
	}
}

// finish closes the input early: its remaining rows are not needed.
func (l *limitStream) finish() {
	l.full, l.done = false, true
	l.err = l.in.Close()
}
