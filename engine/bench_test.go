package engine

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

// benchStream serves prebuilt rows laid out one after the other in memory
// (values in one array, row slices in another), so reading them is as
// cache-friendly as a backend stream decoding each packet into its buffer:
// the benchmark measures the engine, not memory latency.
type benchStream struct {
	fields []wire.Field
	width  int
	vals   [][]byte // row i is vals[i*width : (i+1)*width]
	pos    int
}

func (s *benchStream) Fields() []wire.Field { return s.fields }
func (s *benchStream) Close() error         { return nil }
func (s *benchStream) Next() ([][]byte, error) {
	start := s.pos * s.width
	if start >= len(s.vals) {
		return nil, io.EOF
	}
	s.pos++
	return s.vals[start : start+s.width : start+s.width], nil
}

type benchShards struct {
	fields []wire.Field
	shards [][][]byte // per shard, its rows' values in order
}

func (b *benchShards) Open(context.Context, string) ([]Stream, error) {
	out := make([]Stream, len(b.shards))
	for i, vals := range b.shards {
		out[i] = &benchStream{fields: b.fields, width: len(b.fields), vals: vals}
	}
	return out, nil
}

const (
	benchShardCount = 4
	benchRowsEach   = 250_000
)

// newBenchShards builds the shards' rows with row(s, i), which returns row
// i of shard s.
func newBenchShards(fields []wire.Field, row func(s, i int) []string) *benchShards {
	b := &benchShards{fields: fields}
	for s := range benchShardCount {
		var data []byte
		var ends []int
		for i := range benchRowsEach {
			for _, v := range row(s, i) {
				data = append(data, v...)
				ends = append(ends, len(data))
			}
		}
		vals := make([][]byte, len(ends))
		start := 0
		for k, end := range ends {
			vals[k] = data[start:end:end]
			start = end
		}
		b.shards = append(b.shards, vals)
	}
	return b
}

// mergeInput: shard s holds ids s, s+4, s+8... with a name that sorts as
// the id, and its weight.
func mergeInput() *benchShards {
	return newBenchShards([]wire.Field{intField("id"), stringField("name"), weightField()}, func(s, i int) []string {
		id := i*benchShardCount + s
		name := fmt.Sprintf("user%08d", id)
		return []string{strconv.Itoa(id), name, ciWeight(name)}
	})
}

func benchmarkMerge(b *testing.B, key SortKey) {
	shards := mergeInput()
	m := &MergeSort{SQL: "q", Keys: []SortKey{key}}
	env := &Env{Shards: shards}
	total := benchShardCount * benchRowsEach
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := m.Execute(context.Background(), env)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if _, err := s.Next(); err != nil {
				break
			}
			n++
		}
		if n != total {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/row")
}

// 4 streams × 250k rows.
func BenchmarkMergeSortInt(b *testing.B)    { benchmarkMerge(b, SortKey{Col: 0, Weight: NoColumn}) }
func BenchmarkMergeSortString(b *testing.B) { benchmarkMerge(b, SortKey{Col: 1, Weight: 2}) }

// BenchmarkOrderedAggregate: 4 shards × 250k partial groups, each group on
// every shard (so 250k groups of 4 partials), COUNT, SUM(decimal), AVG and
// MAX(string).
func BenchmarkOrderedAggregate(b *testing.B) {
	fields := []wire.Field{stringField("k"), bigintField("c"), decimalField("s", 2), decimalField("a", 6),
		bigintField("n"), stringField("m"), weightField(), weightField()}
	shards := newBenchShards(fields, func(s, i int) []string {
		k, m := fmt.Sprintf("g%08d", i), fmt.Sprintf("m%d", (i*7+s)%13)
		return []string{k, "3", fmt.Sprintf("%d.%02d", i%1000, s), "0", "3", m, ciWeight(m), ciWeight(k)}
	})
	agg := &OrderedAggregate{
		RowCount:  NoColumn,
		GroupKeys: []SortKey{{Col: 0, Weight: 7}},
		Aggregates: []Aggregate{
			{Op: AggCount, Col: 1, Weight: NoColumn},
			{Op: AggSum, Col: 2, Weight: NoColumn},
			{Op: AggCount, Col: 4, Weight: NoColumn},
			{Op: AggAvg, Col: 3, Weight: NoColumn, Sum: 2, Count: 4},
			{Op: AggMax, Col: 5, Weight: 6},
		},
		Input: &MergeSort{SQL: "q", Keys: []SortKey{{Col: 0, Weight: 7}}},
	}
	env := &Env{Shards: shards}
	total := benchShardCount * benchRowsEach
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := agg.Execute(context.Background(), env)
		if err != nil {
			b.Fatal(err)
		}
		groups := 0
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			groups++
		}
		if groups != benchRowsEach {
			b.Fatalf("%d groups", groups)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*total), "ns/input-row")
}
