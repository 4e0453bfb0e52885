package router

import (
	"math"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

func TestMod(t *testing.T) {
	m := modAlgorithm(4)
	for _, c := range []struct {
		key  Value
		want int
	}{
		{IntValue(0), 0}, {IntValue(5), 1}, {IntValue(-1), 3}, {IntValue(-4), 0}, {IntValue(-5), 3},
		{IntValue(math.MinInt64), 0}, {IntValue(math.MaxInt64), 3}, {UintValue(math.MaxUint64), 3},
		{StringValue("7"), 3}, {StringValue("-7"), 1}, {StringValue(" 6 "), 2}, {DecimalValue("9.000"), 1},
		{FloatValue(10), 2}, {UintValue(1 << 63), 0},
	} {
		if got, err := m.Shard(c.key); err != nil || got != c.want {
			t.Errorf("mod 4 of %s = %d, %v; want %d", c.key, got, err, c.want)
		}
	}
	for _, bad := range []Value{StringValue("abc"), StringValue("5x"), FloatValue(2.5), DecimalValue("1.5"), StringValue("99999999999999999999")} {
		if _, err := m.Shard(bad); err == nil || !strings.Contains(err.Error(), "integer") {
			t.Errorf("mod of %s: want an error asking for an integer, got %v", bad, err)
		}
	}
}

func TestRange(t *testing.T) {
	dates, err := NewAlgorithm(conf.AlgorithmRange, 4, []string{"2025-01-01", "2026-01-01", "2027-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	ints, err := NewAlgorithm(conf.AlgorithmRange, 3, []string{"-10", "10"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		alg  Algorithm
		key  Value
		want int
	}{
		{dates, StringValue("2024-12-31"), 0}, {dates, StringValue("2025-01-01"), 1},
		{dates, StringValue("2025-01-01 00:00:01"), 1}, {dates, StringValue("2026-12-31"), 2},
		{dates, StringValue("2027-01-01"), 3}, {dates, StringValue(""), 0},
		{ints, IntValue(-11), 0}, {ints, IntValue(-10), 1}, {ints, StringValue("9"), 1},
		{ints, IntValue(10), 2}, {ints, UintValue(math.MaxUint64), 2}, {ints, IntValue(math.MinInt64), 0},
	} {
		if got, err := c.alg.Shard(c.key); err != nil || got != c.want {
			t.Errorf("range shard of %s = %d, %v; want %d", c.key, got, err, c.want)
		}
	}
	if _, err := dates.Shard(IntValue(20250101)); err == nil {
		t.Error("string bounds must refuse a number")
	}
	if _, err := ints.Shard(StringValue("ten")); err == nil {
		t.Error("integer bounds must refuse a non-integer")
	}

	r := ints.(Ranger)
	open := Bound{Open: true}
	incl := func(v int64) Bound { return Bound{Value: IntValue(v), Inclusive: true} }
	excl := func(v int64) Bound { return Bound{Value: IntValue(v)} }
	for _, c := range []struct {
		lo, hi      Bound
		first, last int
	}{
		{open, open, 0, 2}, {open, excl(-10), 0, 0}, {open, incl(-10), 0, 1}, {excl(-11), open, 1, 2},
		{incl(-11), open, 0, 2}, {incl(-10), excl(10), 1, 1}, {incl(5), incl(3), 1, 1}, {incl(20), incl(3), 2, 1},
	} {
		first, last, err := r.ShardRange(c.lo, c.hi)
		if err != nil || first != c.first || last != c.last {
			t.Errorf("ShardRange(%+v, %+v) = %d..%d, %v; want %d..%d", c.lo, c.hi, first, last, err, c.first, c.last)
		}
	}
}

func TestNewAlgorithmRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		n      int
		bounds []string
	}{
		{"crc", 4, nil}, {"mod", 0, nil},
		{"range", 4, []string{"1", "2"}}, {"range", 3, []string{"5", "5"}}, {"range", 3, []string{"b", "a"}},
	} {
		if _, err := NewAlgorithm(c.name, c.n, c.bounds); err == nil {
			t.Errorf("NewAlgorithm(%s, %d, %v) should fail", c.name, c.n, c.bounds)
		}
	}
}

func TestNewSchemaRefuses(t *testing.T) {
	one := []conf.Shard{{Node: "n0", Database: "d0"}}
	for _, s := range []conf.Schema{
		{Name: "a"},
		{Name: "a", Shards: one, DefaultShard: 1},
		{Name: "a", Shards: one, Tables: []conf.Table{{Name: "t", Algorithm: "mod"}}},
		{Name: "a", Shards: one, Tables: []conf.Table{{Name: "t", Type: "global"}, {Name: "T", Type: "global"}}},
	} {
		if _, err := NewSchema(s); err == nil {
			t.Errorf("NewSchema(%+v) should fail", s)
		}
	}
	s, err := NewSchema(conf.Schema{Name: "solo", Shards: one})
	if err != nil || !s.PassThrough() || s.Table("x") != nil {
		t.Errorf("a one-shard schema without tables is a pass-through: %v", err)
	}
}
