package engine

import (
	"math"
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
	wantCode(t, runErr(bad, &Env{}), ErWrongArguments)
}

// TestCountFromParameter: a LIMIT parameter is read as MariaDB 10.11
// reads it (measured with prepared SELECTs): integers, doubles rounded
// half to even, the leading integer of a string (PHP's PDO binds every
// value as a string), NULL as 0, and negative counts wrapped to huge ones
// (LIMIT -1 returns every row). Decimals, which the Go driver cannot send,
// round half away from zero, as MariaDB converts a DECIMAL to an integer.
func TestCountFromParameter(t *testing.T) {
	c := Count{Param: 0}
	for _, tc := range []struct {
		v    sqlparse.Value
		want uint64
	}{
		{sqlparse.IntValue(3), 3},
		{sqlparse.IntValue(-1), math.MaxUint64},
		{sqlparse.UintValue(7), 7},
		{sqlparse.DecimalValue("2.7"), 3},
		{sqlparse.DecimalValue("2.5"), 3},
		{sqlparse.FloatValue(2.2), 2},
		{sqlparse.FloatValue(2.5), 2},
		{sqlparse.FloatValue(1.5), 2},
		{sqlparse.FloatValue(-0.4), 0},
		{sqlparse.FloatValue(-2), math.MaxUint64 - 1},
		{sqlparse.FloatValue(1e30), math.MaxUint64},
		{sqlparse.StringValue("4"), 4},
		{sqlparse.StringValue("  2.5"), 2},
		{sqlparse.StringValue("3x"), 3},
		{sqlparse.StringValue("abc"), 0},
		{sqlparse.StringValue("-0"), 0},
		{sqlparse.StringValue("99999999999999999999999"), math.MaxUint64},
		{sqlparse.BytesValue([]byte("12")), 12},
		{sqlparse.StringValue("-2"), math.MaxUint64 - 1},
		{sqlparse.NullValue(), 0},
	} {
		got, err := c.value([]sqlparse.Value{tc.v})
		if err != nil || got != tc.want {
			t.Errorf("%v: got %d, %v; want %d", tc.v, got, err, tc.want)
		}
	}
}
