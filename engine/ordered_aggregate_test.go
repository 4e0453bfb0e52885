package engine

import (
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

// groupedFields is the shard layout of
//
//	SELECT name, COUNT(*), SUM(d), AVG(d), MIN(n), MAX(note) ... GROUP BY name
//
// with the hidden COUNT(d) of the AVG and the weights of MAX(note) and name.
func groupedFields() []wire.Field {
	return []wire.Field{
		stringField("name"), bigintField("COUNT(*)"), decimalField("SUM(d)", 2), decimalField("AVG(d)", 6),
		bigintField("COUNT(d)"), intField("MIN(n)"), stringField("MAX(note)"), weightField(), weightField(),
	}
}

func groupedAggregate(input Primitive) *OrderedAggregate {
	return &OrderedAggregate{
		RowCount:  NoColumn,
		GroupKeys: []SortKey{{Col: 0, Weight: 8}},
		Aggregates: []Aggregate{
			{Op: AggCount, Col: 1, Weight: NoColumn},
			{Op: AggSum, Col: 2, Weight: NoColumn},
			{Op: AggCount, Col: 4, Weight: NoColumn},
			{Op: AggAvg, Col: 3, Weight: NoColumn, Sum: 2, Count: 4},
			{Op: AggMin, Col: 5, Weight: NoColumn},
			{Op: AggMax, Col: 6, Weight: 7},
		},
		Input: input,
	}
}

func TestOrderedAggregate(t *testing.T) {
	g := func(name, count, sum, countD, min, max string) []string {
		return []string{name, count, sum, "999.999999", countD, min, max, ciWeight(max), ciWeight(name)}
	}
	shards := &fakeShards{fields: groupedFields(), results: [][][]string{
		{g("a", "2", "3.00", "2", "5", "x"), g("b", "1", "1.25", "1", "7", "Y")},
		{g("A", "1", "0.01", "1", "3", "z"), g("c", "3", null, "0", null, null)},
		{g("b ", "2", "-1.25", "2", "9", "y")},
	}}
	agg := groupedAggregate(&MergeSort{SQL: "q", Keys: []SortKey{{Col: 0, Weight: 8}}})
	got := run(t, agg, &Env{Shards: shards})
	// 'a' and 'A' are one group (general_ci), so are 'b' and 'b '; the
	// group shows its first name. AVG = combined SUM / combined COUNT,
	// rounded to the AVG column's 6 decimals.
	wantRows(t, project(got, 0, 1, 2, 3, 4, 5, 6), ""+
		"a|3|3.01|1.003333|3|3|z\n"+
		"b|3|0.00|0.000000|3|7|Y\n"+
		"c|3|NULL|NULL|0|NULL|NULL\n")
	if got[0][7] != ciWeight("z") {
		t.Errorf("MAX's weight did not follow its value: %q", got[0][7])
	}
	shards.checkClosed(t)
}

func TestOrderedAggregateScalar(t *testing.T) {
	fields := []wire.Field{bigintField("COUNT(*)"), doubleField("SUM(f)", 31), doubleField("AVG(f)", 31), bigintField("COUNT(f)"), stringField("x")}
	agg := &OrderedAggregate{
		RowCount: NoColumn,
		Aggregates: []Aggregate{
			{Op: AggCount, Col: 0, Weight: NoColumn},
			{Op: AggSum, Col: 1, Weight: NoColumn},
			{Op: AggAvg, Col: 2, Weight: NoColumn, Sum: 1, Count: 3},
			{Op: AggCount, Col: 3, Weight: NoColumn},
		},
	}
	// Each shard returns its one row; an empty shard COUNT 0 and NULLs.
	agg.Input = &Concat{SQL: "q"}
	shards := &fakeShards{fields: fields, results: [][][]string{
		{{"2", "0.1", "0.05", "2", "first"}},
		{{"0", null, null, "0", null}},
		{{"1", "0.2", "0.2", "1", "other"}},
	}}
	wantRows(t, run(t, agg, &Env{Shards: shards}), "3|0.30000000000000004|0.10000000000000002|3|first\n")

	// The column that is not an aggregate comes from a shard that had rows.
	agg.RowCount = 0
	shards.results[0], shards.results[1] = shards.results[1], shards.results[0]
	wantRows(t, run(t, agg, &Env{Shards: shards}), "3|0.30000000000000004|0.10000000000000002|3|first\n")
	agg.RowCount = NoColumn
	wantRows(t, run(t, agg, &Env{Shards: shards}), "3|0.30000000000000004|0.10000000000000002|3|NULL\n")

	// No shard row at all (a LIMIT 0 shard query, or no shard): still one
	// row, COUNT 0 and the rest NULL.
	agg.Input = &source{fields: fields}
	wantRows(t, run(t, agg, nil), "0|NULL|NULL|0|NULL\n")

	// With GROUP BY, no rows is no groups.
	grouped := groupedAggregate(&source{fields: groupedFields()})
	wantRows(t, run(t, grouped, nil), "")
}

func TestOrderedAggregatePlanErrors(t *testing.T) {
	agg := &OrderedAggregate{
		RowCount:   NoColumn,
		Aggregates: []Aggregate{{Op: AggAvg, Col: 0, Weight: NoColumn, Sum: 1, Count: 2}},
		Input:      &source{fields: []wire.Field{decimalField("AVG(x)", 4), decimalField("SUM(x)", 0), bigintField("COUNT(x)")}},
	}
	wantCode(t, runErr(agg, nil), ErUnknown) // the AVG's SUM and COUNT are not combined
	bad := &OrderedAggregate{
		RowCount:   NoColumn,
		Aggregates: []Aggregate{{Op: AggCount, Col: 0, Weight: NoColumn}},
		Input:      &source{fields: []wire.Field{bigintField("COUNT(*)")}, rows: [][]string{{"x"}}},
	}
	wantCode(t, runErr(bad, nil), ErUnknown)
}
