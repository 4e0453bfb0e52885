package engine

import (
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

func TestDistinct(t *testing.T) {
	fields := []wire.Field{stringField("name"), intField("n"), weightField()}
	r := func(name, n string) []string { return []string{name, n, ciWeight(name)} }
	shards := &fakeShards{fields: fields, results: [][][]string{
		{r("a", "1"), r("a", "2"), r("b", "1")},
		{r(null, "3"), r("A", "1"), r("a ", "2"), r("c", "1")},
	}}
	keys := []SortKey{{Col: 0, Weight: 2}, {Col: 1, Weight: NoColumn}}
	d := &Distinct{Keys: keys, Input: &MergeSort{SQL: "q", Keys: keys}}
	// 'a', 'A' and 'a ' are equal under general_ci (PAD SPACE).
	wantRows(t, project(run(t, d, &Env{Shards: shards}), 0, 1), "NULL|3\na|1\na|2\nb|1\nc|1\n")
	shards.checkClosed(t)
}
