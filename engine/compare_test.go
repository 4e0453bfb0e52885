package engine

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

// sortedBy sorts values with cmp and returns them.
func sortedBy(cmp func(a, b []byte) int, values ...string) []string {
	v := slices.Clone(values)
	slices.SortStableFunc(v, func(a, b string) int { return cmp([]byte(a), []byte(b)) })
	return v
}

func TestCompareText(t *testing.T) {
	cases := []struct {
		name string
		cmp  func(a, b []byte) int
		in   []string
		want []string
	}{
		{"int", compareIntText,
			[]string{"10", "-3", "2", "0", "-12", "18446744073709551615", "9223372036854775807", "007"},
			[]string{"-12", "-3", "0", "2", "007", "10", "9223372036854775807", "18446744073709551615"}},
		{"decimal", compareDecimalText,
			[]string{"1.50", "-0.01", "10", "1.5", "0.00", "-10.5", "99999999999999999999.99", "-0.00", "1.05"},
			[]string{"-10.5", "-0.01", "0.00", "-0.00", "1.05", "1.50", "1.5", "10", "99999999999999999999.99"}},
		{"float", compareFloatText,
			[]string{"1e20", "-1.5e-7", "3.3333", "0", "-inf", "100"},
			[]string{"-inf", "-1.5e-7", "0", "3.3333", "100", "1e20"}},
		{"time", compareTimeText,
			[]string{"100:00:00", "-01:00:00", "23:59:59.5", "00:00:00", "-00:00:01", "23:59:59.25", "-838:59:59"},
			[]string{"-838:59:59", "-01:00:00", "-00:00:01", "00:00:00", "23:59:59.25", "23:59:59.5", "100:00:00"}},
	}
	for _, c := range cases {
		if got := sortedBy(c.cmp, c.in...); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if compareDecimalText([]byte("1.50"), []byte("1.5")) != 0 || compareDecimalText([]byte("-0.00"), []byte("0")) != 0 {
		t.Error("equal decimals compare unequal")
	}
}

func TestComparerNullsDescAndWeights(t *testing.T) {
	fields := []wire.Field{stringField("name"), intField("n"), weightField()}
	rows := [][]string{
		{"b", "1", ciWeight("b")},
		{null, "2", null},
		{"A", "3", ciWeight("A")},
		{"a ", "4", ciWeight("a ")},
		{"a\t", "5", "\x00A\x00\t\x00 "},
	}
	sortRows := func(keys ...SortKey) string {
		cmp, err := bindKeys(keys, fields, "ORDER BY")
		if err != nil {
			t.Fatal(err)
		}
		r := slices.Clone(rows)
		slices.SortStableFunc(r, func(a, b []string) int { return cmp.compare(toBytes(a), toBytes(b)) })
		var ns []string
		for _, x := range r {
			ns = append(ns, x[1])
		}
		return strings.Join(ns, ",")
	}
	// NULL first ascending; 'a\t' sorts before 'a' under PAD SPACE; 'A' and
	// 'a ' are equal and keep their order.
	if got := sortRows(SortKey{Col: 0, Weight: 2}); got != "2,5,3,4,1" {
		t.Errorf("ASC: %s", got)
	}
	if got := sortRows(SortKey{Col: 0, Weight: 2, Desc: true}); got != "1,3,4,5,2" {
		t.Errorf("DESC (NULL last): %s", got)
	}
	if got := sortRows(SortKey{Col: 1, Weight: NoColumn, Desc: true}); got != "5,4,3,2,1" {
		t.Errorf("int DESC: %s", got)
	}
}

func toBytes(row []string) [][]byte {
	out := make([][]byte, len(row))
	for i, v := range row {
		if v != null {
			out[i] = []byte(v)
		}
	}
	return out
}

func TestBindKeyRefusals(t *testing.T) {
	enum := stringField("status")
	enum.Flags |= flagEnum
	fields := []wire.Field{enum, stringField("name"), weightField()}
	var e *Error
	if _, err := bindKey(SortKey{Col: 0, Weight: 2}, fields, "ORDER BY", false); !errors.As(err, &e) || e.Code != ErNotSupported {
		t.Errorf("ENUM key: %v", err)
	}
	if _, err := bindKey(SortKey{Col: 0, Weight: 2}, fields, "MIN", true); err != nil {
		t.Errorf("MIN over ENUM compares text: %v", err)
	}
	if _, err := bindKey(SortKey{Col: 1, Weight: NoColumn}, fields, "ORDER BY", false); !errors.As(err, &e) || e.Code != ErNotSupported {
		t.Errorf("string key without weight: %v", err)
	}
	// A binary string needs no weight; hidden columns resolve from the end.
	bin := wire.Field{Name: []byte("b"), Type: wire.TypeBlob, Charset: wire.CharsetBinary}
	k, err := bindKey(SortKey{Col: -1, Weight: NoColumn}, []wire.Field{intField("x"), bin}, "ORDER BY", false)
	if err != nil || k.col != 1 || k.kind != kindBytes {
		t.Errorf("binary key: %+v %v", k, err)
	}
}
