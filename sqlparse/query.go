package sqlparse

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// Query is statement text for one backend: SQL with `?` placeholders, and for
// each placeholder the index of the statement parameter it takes, so the
// proxy can either prepare SQL on the backend and send params[Params[k]], or
// call Inline and send text.
type Query struct {
	SQL     string
	Params  []int // Params[k]: parameter index of the k-th `?` in SQL
	offsets []int // byte offset of the k-th `?` in SQL
}

// Inline returns SQL with every `?` replaced by its parameter as a literal.
func (q *Query) Inline(params []Value) (string, error) {
	if len(q.Params) == 0 {
		return q.SQL, nil
	}
	b, err := q.AppendInline(make([]byte, 0, len(q.SQL)+16*len(q.Params)), params)
	return string(b), err
}

// AppendInline appends the inlined text to b.
func (q *Query) AppendInline(b []byte, params []Value) ([]byte, error) {
	last := 0
	for k, off := range q.offsets {
		p := q.Params[k]
		if p >= len(params) {
			return b, fmt.Errorf("statement needs %d parameters, got %d", p+1, len(params))
		}
		b = append(b, q.SQL[last:off]...)
		// `SELECT?` and `LIMIT?` are valid with the marker but not with a
		// literal glued to the keyword: keep them apart.
		if off > 0 && wordByte(q.SQL[off-1]) {
			b = append(b, ' ')
		}
		b = AppendLiteral(b, params[p])
		if off+1 < len(q.SQL) && wordByte(q.SQL[off+1]) {
			b = append(b, ' ')
		}
		last = off + 1
	}
	return append(b, q.SQL[last:]...), nil
}

// wordByte reports whether c can continue an identifier, keyword or number.
func wordByte(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// Builder assembles a Query from pieces.
type Builder struct {
	buf     []byte
	params  []int
	offsets []int
}

func (b *Builder) WriteString(s string) { b.buf = append(b.buf, s...) }

// WriteParam writes a `?` taking parameter i.
func (b *Builder) WriteParam(i int) {
	b.params = append(b.params, i)
	b.offsets = append(b.offsets, len(b.buf))
	b.buf = append(b.buf, '?')
}

// WriteLiteral writes v as a SQL literal.
func (b *Builder) WriteLiteral(v Value) { b.buf = AppendLiteral(b.buf, v) }

func (b *Builder) writeName(name string) { b.buf = AppendName(b.buf, name) }

// AppendName appends name as a quoted identifier.
func AppendName(buf []byte, name string) []byte {
	buf = append(buf, '`')
	buf = append(buf, strings.ReplaceAll(name, "`", "``")...)
	return append(buf, '`')
}

// Grow makes room for n more bytes and params more parameters.
func (b *Builder) Grow(n, params int) {
	b.buf = slices.Grow(b.buf, n)
	b.params = slices.Grow(b.params, params)
	b.offsets = slices.Grow(b.offsets, params)
}

// Mark is a position in a Builder, for Split.
type Mark struct{ buf, params int }

// Mark returns the current position.
func (b *Builder) Mark() Mark { return Mark{len(b.buf), len(b.params)} }

// Split cuts everything written into Queries, query i ending at ends[i],
// sharing one string: fewer allocations than a Query per piece. The
// Builder must not be used afterwards.
func (b *Builder) Split(ends []Mark) []Query {
	sql := string(b.buf)
	out := make([]Query, len(ends))
	start := Mark{}
	for i, end := range ends {
		q := Query{SQL: sql[start.buf:end.buf]}
		if end.params > start.params {
			q.Params = b.params[start.params:end.params:end.params]
			q.offsets = b.offsets[start.params:end.params:end.params]
			for k := range q.offsets {
				q.offsets[k] -= start.buf
			}
		}
		out[i], start = q, end
	}
	return out
}

// Query returns a copy of what was written.
func (b *Builder) Query() Query {
	q := Query{SQL: string(b.buf)}
	if len(b.params) > 0 {
		q.Params = append([]int(nil), b.params...)
		q.offsets = append([]int(nil), b.offsets...)
	}
	return q
}

// InlineParams returns sql, the text node was parsed from, with each `?`
// marker replaced by its parameter as a literal, for statements the proxy
// runs as text (a prepared SET).
func InlineParams(sql string, node ast.Node, params []Value) (string, error) {
	var c paramCollector
	node.Accept(&c)
	if len(c.params) != len(params) {
		return "", fmt.Errorf("statement needs %d parameters, got %d", len(c.params), len(params))
	}
	q := Query{SQL: sql, Params: make([]int, len(c.params)), offsets: make([]int, len(c.params))}
	slices.SortFunc(c.params, func(a, b *test_driver.ParamMarkerExpr) int { return a.Offset - b.Offset })
	for k, p := range c.params {
		q.Params[k], q.offsets[k] = k, p.Offset
	}
	return q.Inline(params)
}
