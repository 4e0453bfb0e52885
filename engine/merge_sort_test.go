package engine

import (
	"context"
	"fmt"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

func TestMergeSort(t *testing.T) {
	// name (weight in #2) DESC, then id: each shard sorted that way.
	fields := []wire.Field{intField("id"), stringField("name"), weightField()}
	r := func(id, name string) []string { return []string{id, name, ciWeight(name)} }
	shards := &fakeShards{fields: fields, results: [][][]string{
		{r("3", "b"), r("1", "A"), r("4", null)},
		{r("7", "c"), r("2", "a"), r("5", "a ")},
		{},
		{r("6", "B"), r("0", null)},
	}}
	m := &MergeSort{SQL: "q", Columns: 3, Keys: []SortKey{{Col: 1, Weight: 2, Desc: true}}}
	got := run(t, m, &Env{Shards: shards})
	// Equal names keep shard order ('b' before 'B'; 'A', 'a', 'a ' in shard
	// order); NULLs last in DESC.
	wantRows(t, project(got, 0, 1), "7|c\n3|b\n6|B\n1|A\n2|a\n5|a \n4|NULL\n0|NULL\n")
	shards.checkClosed(t)
}

// project keeps the listed columns of rows.
func project(rows [][]string, cols ...int) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		for _, c := range cols {
			out[i] = append(out[i], r[c])
		}
	}
	return out
}

func TestMergeSortTypes(t *testing.T) {
	fields := []wire.Field{decimalField("d", 2), doubleField("f", 31), timeField("t"), datetimeField("dt")}
	shards := &fakeShards{fields: fields, results: [][][]string{
		{{"-1.50", "-1e20", "-01:00:00", "2024-01-01 00:00:00"}, {"2.00", "5", "100:00:00", "2024-12-31 23:59:59"}},
		{{"-0.25", "1.5e-7", "00:00:00", "2024-06-01 12:00:00"}, {"10.00", "1e20", "838:59:59", "2025-01-01 00:00:00"}},
	}}
	for col, want := range []string{
		"-1.50\n-0.25\n2.00\n10.00\n",
		"-1e20\n1.5e-7\n5\n1e20\n",
		"-01:00:00\n00:00:00\n100:00:00\n838:59:59\n",
		"2024-01-01 00:00:00\n2024-06-01 12:00:00\n2024-12-31 23:59:59\n2025-01-01 00:00:00\n",
	} {
		m := &MergeSort{SQL: "q", Keys: []SortKey{{Col: col, Weight: NoColumn}}}
		wantRows(t, project(run(t, m, &Env{Shards: shards}), col), want)
	}
}

func TestMergeSortEarlyClose(t *testing.T) {
	fields := []wire.Field{intField("id")}
	shards := &fakeShards{fields: fields, results: [][][]string{{{"1"}, {"4"}, {"9"}}, {{"2"}, {"3"}, {"8"}}}}
	l := &Limit{Window: Window{Offset: Count{Param: -1}, Count: Count{N: 3, Param: -1}},
		Input: &MergeSort{SQL: "q", Keys: []SortKey{{Col: 0, Weight: NoColumn}}}}
	wantRows(t, run(t, l, &Env{Shards: shards}), "1\n2\n3\n")
	shards.checkClosed(t)
	if p := shards.streams[0].pos + shards.streams[1].pos; p > 5 {
		t.Errorf("read %d shard rows for LIMIT 3", p)
	}
}

func TestMergeSortErrors(t *testing.T) {
	fields := []wire.Field{intField("id")}
	shards := &fakeShards{fields: fields, results: [][][]string{{{"1"}, {"4"}}, {{"2"}, {"3"}}}}
	m := &MergeSort{SQL: "q", Keys: []SortKey{{Col: 0, Weight: NoColumn}}}
	s, err := m.Execute(context.Background(), &Env{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	shards.streams[1].failAt = 1
	s.Next() // 1
	s.Next() // 2, then shard 1 fails on advancing
	if _, err := s.Next(); err != errFake {
		t.Errorf("error %v, want the shard's", err)
	}
	s.Close()
	shards.checkClosed(t)

	shards.openErr = fmt.Errorf("no backend")
	if _, err := m.Execute(context.Background(), &Env{Shards: shards}); err != shards.openErr {
		t.Errorf("open error %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	shards.openErr = nil
	s, _ = m.Execute(ctx, &Env{Shards: shards})
	cancel()
	if _, err := s.Next(); err != context.Canceled {
		t.Errorf("error %v after cancel", err)
	}
	shards.checkClosed(t)
}
