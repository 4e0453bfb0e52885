package engine

import (
	"testing"

	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

func TestLimit(t *testing.T) {
	rows := [][]string{{"1"}, {"2"}, {"3"}, {"4"}, {"5"}}
	lit := func(n uint64) Count { return Count{N: n, Param: -1} }
	cases := []struct {
		w      Window
		params []sqlparse.Value
		want   string
	}{
		{Window{lit(0), lit(2)}, nil, "1\n2\n"},
		{Window{lit(3), lit(10)}, nil, "4\n5\n"},
		{Window{lit(5), lit(1)}, nil, ""},
		{Window{lit(0), lit(0)}, nil, ""},
		{Window{Count{Param: 0}, Count{Param: 1}}, []sqlparse.Value{sqlparse.IntValue(1), sqlparse.UintValue(2)}, "2\n3\n"},
	}
	for _, c := range cases {
		src := &source{fields: []wire.Field{intField("n")}, rows: rows}
		got := run(t, &Limit{Window: c.w, Input: src}, &Env{Params: c.params})
		wantRows(t, got, c.want)
		if src.stream.closed == 0 || src.stream.readLate {
			t.Errorf("%v: input closed %d, read late %v", c.w, src.stream.closed, src.stream.readLate)
		}
	}
	// LIMIT 2 reads two rows: the input is closed before a third is needed.
	src := &source{fields: []wire.Field{intField("n")}, rows: rows}
	run(t, &Limit{Window: Window{lit(0), lit(2)}, Input: src}, nil)
	if src.stream.pos != 2 {
		t.Errorf("read %d rows for LIMIT 2", src.stream.pos)
	}
	bad := &Limit{Window: Window{lit(0), Count{Param: 0}}, Input: src}
	wantCode(t, runErr(bad, &Env{Params: []sqlparse.Value{sqlparse.IntValue(-1)}}), ErWrongArguments)
	wantCode(t, runErr(bad, &Env{}), ErWrongArguments)
}
