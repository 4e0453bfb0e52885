package engine

import (
	"container/heap"
	"context"
	"io"
	"slices"
)

// Sort orders its input in memory: grouped rows by an aggregate or another
// expression the shards cannot sort by. It holds rows, so it is capped
// (Env.MaxSortRows / MaxSortBytes): beyond the cap it fails with 1105,
// never a truncated result. With a LIMIT above it (Top) it keeps only the
// offset+count first rows, which usually stays far below the cap.
type Sort struct {
	Keys []SortKey
	// Top, when set, is the LIMIT applied above: only the first
	// offset+count rows can be returned.
	Top   *Window
	Input Primitive
}

var _ Primitive = (*Sort)(nil)

func (s *Sort) Inputs() []Primitive { return []Primitive{s.Input} }
func (s *Sort) Description() string {
	d := "Sort keys=" + keysString(s.Keys)
	if s.Top != nil {
		d += " top=" + s.Top.Offset.String() + "+" + s.Top.Count.String()
	}
	return d
}

func (s *Sort) Execute(ctx context.Context, env *Env) (Stream, error) {
	keep := uint64(0) // 0: all rows
	if s.Top != nil {
		_, _, end, err := s.Top.values(env.Params)
		if err != nil {
			return nil, err
		}
		keep = end
		if keep == 0 {
			// LIMIT 0: nothing to sort; the Limit above returns no row.
			return s.Input.Execute(ctx, env)
		}
	}
	in, err := s.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	cmp, err := bindKeys(s.Keys, in.Fields(), "ORDER BY")
	if err != nil {
		in.Close()
		return nil, err
	}
	maxRows, maxBytes := env.sortCaps()
	if keep > uint64(maxRows) {
		keep = 0 // more than the cap may hold: keep all, and fail at the cap
	}
	b := &sortBuffer{cmp: cmp, keep: keep, maxRows: maxRows, maxBytes: maxBytes}
	for {
		row, err := in.Next()
		if err == io.EOF {
			break
		}
		if err == nil {
			err = b.add(row)
		}
		if err != nil {
			in.Close()
			return nil, err
		}
	}
	return &sortStream{passStream: passStream{in}, rows: b.sorted()}, nil
}

// sortRow is a held row and its arrival number, which breaks ties so the
// sort is stable.
type sortRow struct {
	ownedRow
	seq int
}

// sortBuffer holds rows up to the caps; with keep > 0 it is a max-heap of
// the keep smallest rows seen so far.
type sortBuffer struct {
	cmp      comparer
	keep     uint64
	maxRows  int
	maxBytes int64
	rows     []*sortRow
	bytes    int64
	seq      int
}

func (b *sortBuffer) add(row [][]byte) error {
	b.seq++
	if b.keep > 0 && uint64(len(b.rows)) == b.keep {
		// Full: the new row replaces the largest if it is smaller.
		top := b.rows[0]
		if b.cmp.compare(row, top.vals) >= 0 {
			return nil
		}
		b.bytes -= top.size()
		top.set(row)
		top.seq = b.seq
		b.bytes += top.size()
		heap.Fix(b, 0)
		return b.check()
	}
	r := &sortRow{seq: b.seq}
	r.set(row)
	b.bytes += r.size()
	if b.keep > 0 {
		heap.Push(b, r)
	} else {
		b.rows = append(b.rows, r)
	}
	return b.check()
}

func (b *sortBuffer) check() error {
	if len(b.rows) > b.maxRows || b.bytes > b.maxBytes {
		return errorf(ErUnknown, "ORDER BY of this result across shards needs more than %d rows or %d MiB in the proxy's memory (its sort cap); add a LIMIT, order by the GROUP BY columns, or raise the cap",
			b.maxRows, b.maxBytes>>20)
	}
	return nil
}

// compareRows orders held rows: by keys, then by arrival.
func (b *sortBuffer) compareRows(x, y *sortRow) int {
	if c := b.cmp.compare(x.vals, y.vals); c != 0 {
		return c
	}
	return x.seq - y.seq
}

func (b *sortBuffer) sorted() []*sortRow {
	slices.SortFunc(b.rows, b.compareRows)
	return b.rows
}

// heap.Interface, largest first, for the top-N mode.
func (b *sortBuffer) Len() int           { return len(b.rows) }
func (b *sortBuffer) Less(i, j int) bool { return b.compareRows(b.rows[i], b.rows[j]) > 0 }
func (b *sortBuffer) Swap(i, j int)      { b.rows[i], b.rows[j] = b.rows[j], b.rows[i] }
func (b *sortBuffer) Push(x any)         { b.rows = append(b.rows, x.(*sortRow)) }
func (b *sortBuffer) Pop() any {
	r := b.rows[len(b.rows)-1]
	b.rows = b.rows[:len(b.rows)-1]
	return r
}

type sortStream struct {
	passStream
	rows []*sortRow
	next int
}

func (s *sortStream) Next() ([][]byte, error) {
	if s.next >= len(s.rows) {
		s.rows = nil
		return nil, io.EOF
	}
	r := s.rows[s.next]
	s.rows[s.next] = nil // let the row go once the caller moves on
	s.next++
	return r.vals, nil
}

func (s *sortStream) Close() error {
	s.rows, s.next = nil, 0
	return s.in.Close()
}
