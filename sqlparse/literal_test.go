package sqlparse

import (
	"math"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func TestLiteral(t *testing.T) {
	sel := mustParse(t, "SELECT 5, -5, +5, -(5), 18446744073709551615, -9223372036854775808, 1.50, -1.5, 1e3, 'x', NULL, TRUE, X'41', ?, a, 1+1, -'5'").(*ast.SelectStmt)
	want := []struct {
		v  Value
		ok bool
	}{
		{IntValue(5), true}, {IntValue(-5), true}, {IntValue(5), true}, {IntValue(-5), true},
		{UintValue(math.MaxUint64), true}, {IntValue(math.MinInt64), true}, {DecimalValue("1.50"), true},
		{DecimalValue("-1.5"), true}, {FloatValue(1000), true}, {StringValue("x"), true}, {NullValue(), true},
		{IntValue(1), true}, {}, {}, {}, {}, {},
	}
	for i, f := range sel.Fields.Fields {
		v, ok := Literal(f.Expr)
		if ok != want[i].ok || v != want[i].v {
			t.Errorf("Literal(%s) = %v %v, want %v %v", f.Text(), v, ok, want[i].v, want[i].ok)
		}
	}
	if i, ok := ParamIndex(sel.Fields.Fields[13].Expr); !ok || i != 0 {
		t.Errorf("ParamIndex = %d %v", i, ok)
	}
	if v, ok := negate(IntValue(math.MinInt64)); !ok || v != UintValue(1<<63) {
		t.Errorf("-MinInt64 = %v", v)
	}
}

func TestAppendLiteral(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{NullValue(), "NULL"}, {IntValue(-3), "-3"}, {UintValue(math.MaxUint64), "18446744073709551615"},
		{FloatValue(0.5), "5e-01"}, {FloatValue(math.NaN()), "NULL"}, {DecimalValue("-12.50"), "-12.50"},
		{DecimalValue("1; DROP TABLE t"), `'1; DROP TABLE t'`},
		{StringValue("a'b\\c\"d\x00e\nf\rg\x1a"), `'a\'b\\c\"d\0e\nf\rg\Z'`},
		{StringValue("caf\xe9"), "X'636166e9'"}, {StringValue("café"), "'café'"},
		{BytesValue([]byte("ok")), "X'6f6b'"}, {BytesValue(nil), "X''"},
	} {
		if got := c.v.String(); got != c.want {
			t.Errorf("literal of %#v = %s, want %s", c.v, got, c.want)
		}
	}
	for s, ok := range map[string]bool{"1": true, "-1.5": true, "+.5": true, "1e-3": true, "1.": true, "": false, ".": false, "1e": false, "0x10": false, "1 ": false} {
		if isDecimalText(s) != ok {
			t.Errorf("isDecimalText(%q) != %v", s, ok)
		}
	}
}
