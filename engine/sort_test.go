package engine

import (
	"fmt"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

func TestSort(t *testing.T) {
	fields := []wire.Field{stringField("name"), bigintField("c"), weightField()}
	r := func(name, c string) []string { return []string{name, c, ciWeight(name)} }
	rows := [][]string{r("a", "3"), r("b", "10"), r("c", "3"), r("d", null), r("e", "7")}
	s := &Sort{Keys: []SortKey{{Col: 1, Weight: NoColumn, Desc: true}}, Input: &source{fields: fields, rows: rows}}
	// Ties keep their input order; NULL last in DESC.
	wantRows(t, project(run(t, s, nil), 0, 1), "b|10\ne|7\na|3\nc|3\nd|NULL\n")

	// With the LIMIT above it, only offset+count rows are held.
	s.Top = &Window{Offset: Count{N: 1, Param: -1}, Count: Count{N: 2, Param: -1}}
	wantRows(t, project(run(t, s, &Env{MaxSortRows: 3}), 0, 1), "b|10\ne|7\na|3\n")
	s.Top.Count.N = 0
	s.Top.Offset.N = 0
	if got := run(t, s, nil); len(got) != 5 {
		t.Errorf("LIMIT 0 above: the sort is skipped and the Limit returns nothing; got %d rows through", len(got))
	}
}

func TestSortCap(t *testing.T) {
	fields := []wire.Field{intField("n")}
	var rows [][]string
	for i := range 100 {
		rows = append(rows, []string{fmt.Sprint(i % 7)})
	}
	s := &Sort{Keys: []SortKey{{Col: 0, Weight: NoColumn}}, Input: &source{fields: fields, rows: rows}}
	err := runErr(s, &Env{MaxSortRows: 50})
	wantCode(t, err, ErUnknown)
	if src := s.Input.(*source); src.stream.closed == 0 {
		t.Error("input left open after the cap")
	}
	wantCode(t, runErr(s, &Env{MaxSortBytes: 1000}), ErUnknown)
	if err := runErr(s, &Env{MaxSortRows: 100}); err != nil {
		t.Errorf("100 rows under a cap of 100: %v", err)
	}
	// A top-N sort holds at most N rows whatever the input size.
	s.Top = &Window{Offset: Count{Param: -1}, Count: Count{N: 5, Param: -1}}
	got := run(t, &Limit{Window: *s.Top, Input: s}, &Env{MaxSortRows: 10})
	wantRows(t, got, "0\n0\n0\n0\n0\n")
}
