package engine

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

func col(c int) evalExpr { return &colExpr{col: c} }
func lit(v sqlparse.Value) evalExpr {
	return &litExpr{v: literalValue(v), text: v.String()}
}
func bin(op opcode.Op, l, r evalExpr) evalExpr {
	switch op {
	case opcode.LogicAnd, opcode.LogicOr, opcode.LogicXor:
		return &logicExpr{op: op, l: l, r: r}
	case opcode.Plus, opcode.Minus, opcode.Mul, opcode.Div, opcode.IntDiv, opcode.Mod:
		return &arithExpr{op: op, l: l, r: r}
	}
	return &cmpExpr{op: op, l: l, r: r}
}

func TestFilter(t *testing.T) {
	// count, sum (decimal), avg (double), a pushed-down test (1/0/NULL), name
	fields := []wire.Field{bigintField("c"), decimalField("s", 2), doubleField("a", 31), bigintField("t"), stringField("name")}
	rows := [][]string{
		{"1", "10.00", "1.5", "1", "a"},
		{"3", "0.01", "0.25", "0", "b"},
		{"4", null, null, null, "c"},
		{"9223372036854775807", "-5.50", "-1", "1", "d"},
	}
	i64, dec, str := sqlparse.IntValue, sqlparse.DecimalValue, sqlparse.StringValue
	cases := []struct {
		pred evalExpr
		want string // names of the rows kept
	}{
		{bin(opcode.GT, col(0), lit(i64(1))), "bcd"},
		{bin(opcode.LogicAnd, col(3), bin(opcode.GE, col(0), lit(i64(1)))), "ad"},
		{bin(opcode.LogicOr, col(3), bin(opcode.EQ, col(1), lit(dec("0.010")))), "abd"},
		{&notExpr{col(3)}, "b"}, // NOT NULL is NULL: c dropped
		{&isExpr{e: col(1), what: 'n'}, "c"},
		{&isExpr{e: col(3), what: 't', not: true}, "bc"},
		// SUM/COUNT has the scale of SUM plus 4: 0.01/3 is 0.003333, not more.
		{bin(opcode.GT, bin(opcode.Div, col(1), col(0)), lit(dec("0.003333"))), "a"},
		{bin(opcode.GT, bin(opcode.Div, col(1), col(0)), lit(dec("0.0033"))), "ab"},
		{bin(opcode.LE, bin(opcode.Mul, col(2), lit(i64(4))), lit(i64(1))), "bd"},
		{bin(opcode.EQ, col(0), lit(str("3"))), "b"}, // string literal as a number
		{&inExpr{e: col(0), list: []evalExpr{lit(i64(4)), lit(i64(1))}}, "ac"},
		{&inExpr{e: col(0), list: []evalExpr{lit(i64(4)), lit(sqlparse.NullValue())}, not: true}, ""},
		{bin(opcode.NullEQ, col(1), lit(sqlparse.NullValue())), "c"},
		{bin(opcode.LogicXor, col(3), bin(opcode.GT, col(0), lit(i64(2)))), "ab"},
		{bin(opcode.EQ, bin(opcode.Mod, col(0), lit(i64(2))), lit(i64(1))), "abd"},
		{bin(opcode.EQ, bin(opcode.IntDiv, col(0), lit(i64(2))), lit(i64(2))), "c"},
		{bin(opcode.GT, bin(opcode.Div, col(0), lit(i64(0))), lit(i64(0))), ""}, // x/0 is NULL
		{bin(opcode.LT, &negExpr{col(1)}, lit(i64(0))), "ab"},
		{bin(opcode.GT, col(0), &paramExpr{index: 0}), "cd"},
	}
	for _, c := range cases {
		f := &Filter{Predicate: c.pred, Input: &source{fields: fields, rows: rows}}
		got := ""
		for _, r := range run(t, f, &Env{Params: []sqlparse.Value{i64(3)}}) {
			got += r[4]
		}
		if got != c.want {
			t.Errorf("%s: kept %q, want %q", c.pred, got, c.want)
		}
	}

	// Refused at execution, not answered wrong: strings compare by
	// collation, which the evaluator does not have.
	for _, pred := range []evalExpr{
		bin(opcode.EQ, col(4), lit(str("a"))),
		bin(opcode.GT, bin(opcode.Plus, col(4), lit(i64(1))), lit(i64(0))),
		bin(opcode.EQ, lit(str("a")), lit(str("a"))),
	} {
		wantCode(t, runErr(&Filter{Predicate: pred, Input: &source{fields: fields, rows: rows}}, &Env{}), ErNotSupported)
	}
	// MySQL's BIGINT overflow error.
	overflow := bin(opcode.GT, bin(opcode.Plus, col(0), lit(i64(1))), lit(i64(0)))
	wantCode(t, runErr(&Filter{Predicate: overflow, Input: &source{fields: fields, rows: rows}}, &Env{}), ErDataOutOfRange)
}

func TestStringToFloat(t *testing.T) {
	for s, want := range map[string]float64{"12abc": 12, " -3.5e2x": -350, "abc": 0, "1e": 1, ".5": 0.5, "": 0, "-": 0} {
		if got := stringToFloat([]byte(s)); got != want {
			t.Errorf("stringToFloat(%q) = %v, want %v", s, got, want)
		}
	}
}
