package engine

import (
	"context"
	"io"

	"github.com/shardproxy/shardproxy/wire"
)

// MergeSort runs SQL (which orders each shard's rows by Keys) on the shards
// and merges the sorted streams with a heap: a k-way merge that holds one
// row per shard, each still in its stream's buffer. Rows with equal keys
// keep shard order.
type MergeSort struct {
	SQL string
	// Columns is the width of the shard result, 0 when unknown (SELECT *).
	Columns int
	Keys    []SortKey
}

var _ Primitive = (*MergeSort)(nil)

func (m *MergeSort) Inputs() []Primitive { return nil }
func (m *MergeSort) Description() string { return "MergeSort keys=" + keysString(m.Keys) }

func (m *MergeSort) Execute(ctx context.Context, env *Env) (Stream, error) {
	streams, fields, err := openShards(ctx, env, m.SQL, m.Columns)
	if err != nil {
		return nil, err
	}
	cmp, err := bindKeys(m.Keys, fields, "ORDER BY")
	if err != nil {
		closeAll(streams)
		return nil, err
	}
	s := newMergeStream(ctx, streams, fields, cmp)
	if err := s.start(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newMergeStream(ctx context.Context, streams []Stream, fields []wire.Field, cmp comparer) *mergeStream {
	return &mergeStream{
		ctx: ctx, done: ctx.Done(), streams: streams, fields: fields, cmp: cmp,
		heads: make([][][]byte, len(streams)), heap: make([]int, 0, len(streams)), last: -1,
	}
}

type mergeStream struct {
	ctx     context.Context
	done    <-chan struct{}
	streams []Stream // nil once closed
	fields  []wire.Field
	cmp     comparer
	heads   [][][]byte // each stream's current row
	heap    []int      // stream indexes, smallest head first
	// last is the stream whose head was returned by the previous Next: it
	// advances only on the next call, so the row stays valid until then.
	last int
}

func (m *mergeStream) Fields() []wire.Field { return m.fields }

// start reads the first row of every stream.
func (m *mergeStream) start() error {
	for i := range m.streams {
		if err := m.pull(i); err != nil {
			return err
		}
		if m.heads[i] != nil {
			m.heap = append(m.heap, i)
			m.up(len(m.heap) - 1)
		}
	}
	return nil
}

// pull reads stream i's next row into heads[i]; nil at the end, when the
// stream is closed at once to free its shard connection.
func (m *mergeStream) pull(i int) error {
	row, err := m.streams[i].Next()
	if err == io.EOF {
		m.heads[i] = nil
		s := m.streams[i]
		m.streams[i] = nil
		return s.Close()
	}
	if err != nil {
		return err
	}
	m.heads[i] = row
	return nil
}

func (m *mergeStream) Next() ([][]byte, error) {
	if err := cancelled(m.ctx, m.done); err != nil {
		m.Close()
		return nil, err
	}
	if m.last >= 0 {
		i := m.last
		m.last = -1
		if err := m.pull(i); err != nil {
			m.Close()
			return nil, err
		}
		// i is still at the top of the heap: it was returned last.
		if m.heads[i] == nil {
			n := len(m.heap) - 1
			m.heap[0] = m.heap[n]
			m.heap = m.heap[:n]
		}
		if len(m.heap) > 0 {
			m.down(0)
		}
	}
	if len(m.heap) == 0 {
		return nil, io.EOF
	}
	m.last = m.heap[0]
	return m.heads[m.last], nil
}

func (m *mergeStream) Close() error {
	err := closeAll(m.streams)
	clear(m.streams)
	m.heap = m.heap[:0]
	m.last = -1
	return err
}

// less orders heap entries by their rows, then by shard.
func (m *mergeStream) less(a, b int) bool {
	if c := m.cmp.compare(m.heads[a], m.heads[b]); c != 0 {
		return c < 0
	}
	return a < b
}

func (m *mergeStream) up(j int) {
	h := m.heap
	for j > 0 {
		parent := (j - 1) / 2
		if !m.less(h[j], h[parent]) {
			break
		}
		h[j], h[parent] = h[parent], h[j]
		j = parent
	}
}

func (m *mergeStream) down(j int) {
	h := m.heap
	n := len(h)
	for {
		l := 2*j + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && m.less(h[r], h[l]) {
			c = r
		}
		if !m.less(h[c], h[j]) {
			return
		}
		h[j], h[c] = h[c], h[j]
		j = c
	}
}
