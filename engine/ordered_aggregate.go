package engine

import (
	"context"
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// AggregateOp is how OrderedAggregate combines one column of the shards'
// partial results.
type AggregateOp uint8

const (
	AggCount AggregateOp = iota + 1 // add up the partial counts
	AggSum                          // add up the partial sums; NULL if all are NULL
	AggMin                          // smallest partial, by the column's order
	AggMax                          // largest partial
	AggAvg                          // Col := Sum / Count, both combined columns
)

var aggNames = [...]string{AggCount: "count", AggSum: "sum", AggMin: "min", AggMax: "max", AggAvg: "avg"}

// Aggregate is one combined column.
type Aggregate struct {
	Op  AggregateOp
	Col int
	// Weight (Min, Max) is the column holding the collation weight of Col,
	// NoColumn if none; it follows the chosen value.
	Weight int
	// Sum and Count (Avg) are the columns of the AVG's partial SUM and
	// COUNT, themselves combined by AggSum and AggCount entries. Col holds
	// the shard's own AVG, whose column definition is the right one.
	Sum, Count int
}

func (a Aggregate) String() string {
	s := aggNames[a.Op] + "(" + colName(a.Col)
	switch {
	case a.Op == AggAvg:
		s += " = " + colName(a.Sum) + "/" + colName(a.Count)
	case a.Weight != NoColumn:
		s += " weight " + colName(a.Weight)
	}
	return s + ")"
}

// OrderedAggregate combines the partial aggregates of adjacent rows that
// belong to the same group: the shards grouped and sorted their rows by
// the group keys, and the merge kept that order, so each group's partials
// arrive together. Columns that are not aggregates keep the group's first
// value. Without GroupKeys there is exactly one group and one row, even
// when no shard returned a row (COUNT 0, the others NULL).
type OrderedAggregate struct {
	GroupKeys  []SortKey
	Aggregates []Aggregate
	// RowCount (without GroupKeys) is a column holding each shard's
	// COUNT(*): the columns that are not aggregates are taken from the
	// first shard that had rows, not from an empty shard's NULLs.
	// NoColumn when there are no such columns.
	RowCount int
	Input    Primitive
}

var _ Primitive = (*OrderedAggregate)(nil)

func (o *OrderedAggregate) Inputs() []Primitive { return []Primitive{o.Input} }
func (o *OrderedAggregate) Description() string {
	parts := make([]string, len(o.Aggregates))
	for i, a := range o.Aggregates {
		parts[i] = a.String()
	}
	group := "none"
	if len(o.GroupKeys) > 0 {
		group = keysString(o.GroupKeys)
	}
	if o.RowCount != NoColumn {
		group += " rows=" + colName(o.RowCount)
	}
	return "OrderedAggregate group=" + group + " aggregates=[" + strings.Join(parts, ", ") + "]"
}

func (o *OrderedAggregate) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := o.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	s, err := o.bind(in)
	if err != nil {
		in.Close()
		return nil, err
	}
	return s, nil
}

func (o *OrderedAggregate) bind(in Stream) (*aggStream, error) {
	fields := in.Fields()
	groupCmp, err := bindKeys(o.GroupKeys, fields, "GROUP BY")
	if err != nil {
		return nil, err
	}
	s := &aggStream{passStream: passStream{in}, groupCmp: groupCmp, scalar: len(o.GroupKeys) == 0, width: len(fields), rowCount: -1}
	if o.RowCount != NoColumn {
		if s.rowCount, err = resolveCol(o.RowCount, len(fields)); err != nil {
			return nil, err
		}
	}
	s.aggs = make([]aggState, len(o.Aggregates))
	byCol := map[int]int{}
	for i, a := range o.Aggregates {
		st := &s.aggs[i]
		st.op = a.Op
		if st.col, err = resolveCol(a.Col, len(fields)); err != nil {
			return nil, err
		}
		byCol[st.col] = i
		f := &fields[st.col]
		switch a.Op {
		case AggSum:
			st.float = kindOf(f) == kindFloat
			st.decimals = f.Decimals
		case AggMin, AggMax:
			key, err := bindKey(SortKey{Col: a.Col, Weight: a.Weight}, fields, aggNames[a.Op], true)
			if err != nil {
				return nil, err
			}
			st.key = key
		case AggAvg:
			st.float = kindOf(f) == kindFloat
			st.decimals = f.Decimals
		}
	}
	for i, a := range o.Aggregates {
		if a.Op != AggAvg {
			continue
		}
		sum, err1 := resolveCol(a.Sum, len(fields))
		count, err2 := resolveCol(a.Count, len(fields))
		si, ok1 := byCol[sum]
		ci, ok2 := byCol[count]
		if err1 != nil || err2 != nil || !ok1 || !ok2 || s.aggs[si].op != AggSum || s.aggs[ci].op != AggCount {
			return nil, errorf(ErUnknown, "plan error: AVG in column %d lacks its combined SUM and COUNT", a.Col)
		}
		s.aggs[i].sumAgg, s.aggs[i].countAgg = si, ci
	}
	return s, nil
}

// aggState combines one column over the current group.
type aggState struct {
	op       AggregateOp
	col      int
	float    bool // Sum, Avg: floating point rather than exact
	decimals byte // Sum, Avg: fraction digits of the result column
	key      boundKey
	sumAgg   int // Avg: indexes of its Sum and Count states
	countAgg int

	count int64
	dec   decimal
	flt   float64
	null  bool // no non-NULL partial yet
	best  []byte
	// bestWeight is the weight of best (Min, Max with a weight column).
	bestWeight []byte
}

func (a *aggState) reset() {
	a.count, a.dec, a.flt, a.null = 0, decimal{}, 0, true
}

func (a *aggState) add(row [][]byte) error {
	v := row[a.col]
	switch a.op {
	case AggCount:
		n, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(v), len(v)), 10, 64)
		if err != nil {
			return errorf(ErUnknown, "shard returned %q as a COUNT", v)
		}
		a.count += n
	case AggSum:
		if v == nil {
			return nil
		}
		if a.float {
			a.flt += parseFloat(v)
		} else {
			d, ok := parseDecimal(v)
			if !ok {
				return errorf(ErUnknown, "shard returned %q as a SUM", v)
			}
			a.dec = a.dec.add(d)
		}
		a.null = false
	case AggMin, AggMax:
		if v == nil {
			return nil
		}
		var w []byte
		if a.key.weight >= 0 {
			w = row[a.key.weight]
		}
		if !a.null {
			c := compareValue(a.key.kind, v, a.best, w, a.bestWeight)
			if (a.op == AggMin && c >= 0) || (a.op == AggMax && c <= 0) {
				return nil
			}
		}
		a.best = copyBytes(a.best, v)
		a.bestWeight = copyBytes(a.bestWeight, w)
		a.null = false
	}
	return nil
}

// copyBytes copies v into dst's storage, keeping NULL (nil) apart from ”.
func copyBytes(dst, v []byte) []byte {
	if v == nil {
		return nil
	}
	if dst == nil {
		dst = make([]byte, 0, max(len(v), 16))
	}
	return append(dst[:0], v...)
}

// groupBuf is one of the two buffers the output alternates between: the
// row returned stays valid while the next group accumulates in the other.
type groupBuf struct {
	first   ownedRow // the group's first row: its non-aggregate columns
	scratch []byte   // the aggregates' text
	out     [][]byte
}

type aggStream struct {
	passStream
	groupCmp comparer
	aggs     []aggState
	scalar   bool
	width    int

	bufs    [2]groupBuf
	cur     int  // bufs[cur] holds the group being combined
	started bool // a group is open
	done    bool
	spans   []span
	// rowCount is the column of the shards' COUNT(*) (-1 none); while
	// emptyFirst, the group's first row came from a shard without rows.
	rowCount   int
	emptyFirst bool
}

func (s *aggStream) Next() ([][]byte, error) {
	if s.done {
		return nil, io.EOF
	}
	for {
		row, err := s.in.Next()
		if err == io.EOF {
			s.done = true
			if !s.started {
				if !s.scalar {
					return nil, io.EOF
				}
				s.startEmpty()
			}
			return s.finish(), nil
		}
		if err != nil {
			return nil, err
		}
		if len(row) != s.width {
			return nil, errorf(ErUnknown, "shard row has %d columns, its fields %d", len(row), s.width)
		}
		if !s.started {
			if err := s.start(row); err != nil {
				return nil, err
			}
			continue
		}
		if s.groupCmp.compare(row, s.bufs[s.cur].first.vals) == 0 {
			if s.emptyFirst && !s.fromEmptyShard(row) {
				s.bufs[s.cur].first.set(row)
				s.emptyFirst = false
			}
			if err := s.addAll(row); err != nil {
				return nil, err
			}
			continue
		}
		out := s.finish()
		s.cur ^= 1
		if err := s.start(row); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func (s *aggStream) start(row [][]byte) error {
	s.started = true
	s.bufs[s.cur].first.set(row)
	s.emptyFirst = s.fromEmptyShard(row)
	for i := range s.aggs {
		s.aggs[i].reset()
	}
	return s.addAll(row)
}

// fromEmptyShard reports a partial row of a shard that had no rows.
func (s *aggStream) fromEmptyShard(row [][]byte) bool {
	if s.rowCount < 0 {
		return false
	}
	v := row[s.rowCount]
	return len(v) == 1 && v[0] == '0'
}

// startEmpty opens the one group of an aggregate without GROUP BY over no
// rows at all.
func (s *aggStream) startEmpty() {
	s.started = true
	s.bufs[s.cur].first.set(make([][]byte, s.width))
	for i := range s.aggs {
		s.aggs[i].reset()
	}
}

func (s *aggStream) addAll(row [][]byte) error {
	for i := range s.aggs {
		if err := s.aggs[i].add(row); err != nil {
			return err
		}
	}
	return nil
}

// span is where finish wrote one column's text in the scratch buffer.
type span struct {
	col, start, end int
	null            bool
}

// finish returns the current group's row: its first row with the
// aggregate columns (and the weights of MIN/MAX) replaced.
func (s *aggStream) finish() [][]byte {
	g := &s.bufs[s.cur]
	if g.scratch == nil {
		g.scratch = make([]byte, 0, 128) // non-nil: an empty MIN('') is not NULL
	}
	g.scratch = g.scratch[:0]
	s.spans = s.spans[:0]
	for i := range s.aggs {
		a := &s.aggs[i]
		start := len(g.scratch)
		var null bool
		g.scratch, null = s.appendResult(g.scratch, i)
		s.spans = append(s.spans, span{a.col, start, len(g.scratch), null})
		if (a.op == AggMin || a.op == AggMax) && a.key.weight >= 0 {
			start = len(g.scratch)
			g.scratch = append(g.scratch, a.bestWeight...)
			s.spans = append(s.spans, span{a.key.weight, start, len(g.scratch), a.bestWeight == nil})
		}
	}
	// Slice the scratch only now: appending may have moved it.
	g.out = append(g.out[:0], g.first.vals...)
	for _, sp := range s.spans {
		if sp.null {
			g.out[sp.col] = nil
		} else {
			g.out[sp.col] = g.scratch[sp.start:sp.end:sp.end]
		}
	}
	return g.out
}

// appendResult writes aggregate i's combined value; null reports NULL.
func (s *aggStream) appendResult(dst []byte, i int) ([]byte, bool) {
	a := &s.aggs[i]
	switch a.op {
	case AggCount:
		return strconv.AppendInt(dst, a.count, 10), false
	case AggSum:
		if a.null {
			return dst, true
		}
		if a.float {
			return appendDouble(dst, a.flt, a.decimals), false
		}
		return a.dec.round(int(a.decimals)).appendText(dst), false
	case AggMin, AggMax:
		if a.null {
			return dst, true
		}
		return append(dst, a.best...), false
	case AggAvg:
		sum, count := &s.aggs[a.sumAgg], s.aggs[a.countAgg].count
		if sum.null || count == 0 {
			return dst, true
		}
		if a.float {
			total := sum.flt
			if !sum.float {
				total = sum.dec.float()
			}
			return appendDouble(dst, total/float64(count), a.decimals), false
		}
		q, _ := sum.dec.div(decimalFromInt(count), int(a.decimals))
		return q.appendText(dst), false
	}
	return dst, true
}
