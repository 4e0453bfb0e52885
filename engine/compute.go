package engine

import (
	"context"
	"strconv"
	"strings"
)

// Compute gives the columns that are expressions over aggregates
// (COALESCE(SUM(x), 0), SUM(a) / COUNT(*)) their value over the combined
// groups: the shards computed them over their partial groups only. The
// shards' column definitions stay, since they are MariaDB's type for the
// expression; a number is written as MariaDB writes that type, a text
// (IF(SUM(x) > 9, 'big', 'small')) as the literal or value chosen.
type Compute struct {
	Columns []Computed
	Input   Primitive
}

// Computed is one column Compute replaces.
type Computed struct {
	Col  int
	Expr evalExpr
	Text string // the client's expression, for errors
}

var _ Primitive = (*Compute)(nil)

func (c *Compute) Inputs() []Primitive { return []Primitive{c.Input} }
func (c *Compute) Description() string {
	parts := make([]string, len(c.Columns))
	for i, col := range c.Columns {
		parts[i] = colName(col.Col) + " = " + col.Expr.String()
	}
	return "Compute " + strings.Join(parts, ", ")
}

func (c *Compute) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := c.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	fields := in.Fields()
	s := &computeStream{passStream: passStream{in}, x: newEvalCtx(fields, env.Params), cols: make([]computedCol, len(c.Columns))}
	for i, col := range c.Columns {
		at, err := resolveCol(col.Col, len(fields))
		if err != nil {
			in.Close()
			return nil, err
		}
		f := &fields[at]
		s.cols[i] = computedCol{col: at, expr: col.Expr, kind: kindOf(f), decimals: f.Decimals, text: col.Text}
	}
	return s, nil
}

type computedCol struct {
	col      int
	expr     evalExpr
	kind     valueKind
	decimals byte
	text     string // the client's expression, for errors
}

// isNumber reports whether the column's type is a number's.
func (c *computedCol) isNumber() bool {
	return c.kind == kindInt || c.kind == kindDecimal || c.kind == kindFloat
}

type computeStream struct {
	passStream
	x       *evalCtx
	cols    []computedCol
	out     [][]byte
	scratch []byte
	spans   []span
}

func (s *computeStream) Next() ([][]byte, error) {
	row, err := s.in.Next()
	if err != nil {
		return nil, err
	}
	s.x.row = row
	s.scratch, s.spans = s.scratch[:0], s.spans[:0]
	for _, c := range s.cols {
		v, err := c.expr.eval(s.x)
		if err != nil {
			return nil, err
		}
		start := len(s.scratch)
		switch {
		case c.isNumber():
			s.scratch, err = appendNumber(s.scratch, v, c.kind, c.decimals)
		case v.kind == valNull, v.kind == valStr, v.kind == valOther:
			// A text, date or such: a literal or a value the shards
			// computed, chosen by CASE, IF or COALESCE, as it is.
			s.scratch = append(s.scratch, v.s...)
		default:
			err = unsupported("%s across shards is not supported: it gives a number where its type is not one", c.text)
		}
		if err != nil {
			return nil, err
		}
		s.spans = append(s.spans, span{c.col, start, len(s.scratch), v.kind == valNull})
	}
	// Slice the scratch only now: appending may have moved it.
	s.out = append(s.out[:0], row...)
	for _, sp := range s.spans {
		if sp.null {
			s.out[sp.col] = nil
		} else {
			s.out[sp.col] = s.scratch[sp.start:sp.end:sp.end]
		}
	}
	return s.out, nil
}

// appendNumber writes v as MariaDB writes a column of the kind: an
// integer, a decimal with exactly decimals fraction digits, or a double.
func appendNumber(dst []byte, v value, kind valueKind, decimals byte) ([]byte, error) {
	if v.kind == valNull {
		return dst, nil
	}
	if err := numeric(v); err != nil {
		return dst, err
	}
	switch kind {
	case kindFloat:
		return appendDouble(dst, v.float(), decimals), nil
	case kindInt:
		if v.kind == valInt {
			return strconv.AppendInt(dst, v.i, 10), nil
		}
		decimals = 0
	}
	return exactValue(v).round(int(decimals)).appendText(dst), nil
}

// exactValue is v as a decimal; a double or string converts as its
// shortest text reads.
func exactValue(v value) decimal {
	switch v.kind {
	case valInt, valDec:
		return v.decimal()
	}
	d, _ := parseDecimal(strconv.AppendFloat(nil, v.float(), 'f', -1, 64))
	return d
}
