package router

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/shardproxy/shardproxy/sqlparse"
)

func mustPlan(tb testing.TB, sql string) *Plan {
	tb.Helper()
	r, err := New(testConfig())
	if err != nil {
		tb.Fatal(err)
	}
	stmt, err := sqlparse.ParseOne(sql)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := r.Plan("shop", stmt)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func BenchmarkBindPointSelect(b *testing.B) {
	p := mustPlan(b, "SELECT id, name FROM users WHERE id = ?")
	params := []Value{IntValue(12345)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Bind(params); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPlanPointSelect(b *testing.B) {
	r, err := New(testConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		stmt, err := sqlparse.ParseOne("SELECT id, name FROM users WHERE id = ?")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := r.Plan("shop", stmt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBindInsert100Rows(b *testing.B) {
	rows := strings.TrimSuffix(strings.Repeat("(?, ?, ?),", 100), ",")
	p := mustPlan(b, "INSERT INTO orders (user_id, note, id) VALUES "+rows)
	var params []Value
	for i := range 100 {
		params = append(params, IntValue(int64(i)), StringValue(fmt.Sprintf("note %d", i)), IntValue(int64(i+1)))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Bind(params); err != nil {
			b.Fatal(err)
		}
	}
}

// Bind is called concurrently on a cached plan; run with -race.
func TestBindConcurrent(t *testing.T) {
	sel := mustPlan(t, "SELECT * FROM users WHERE id IN (?, ?)")
	ins := mustPlan(t, "INSERT INTO users (id, name) VALUES (?, ?), (?, ?)")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				a, b := int64(g*1000+i), int64(i)
				r, err := sel.Bind([]Value{IntValue(a), IntValue(b)})
				if err != nil {
					t.Error(err)
					return
				}
				if want := 1 + btoi(a%4 != b%4); len(r.Targets) != want {
					t.Errorf("%d, %d: %d targets, want %d", a, b, len(r.Targets), want)
				}
				r, err = ins.BindIDs([]Value{NullValue(), StringValue("x"), IntValue(b), StringValue("y")}, func(n int) (uint64, error) { return uint64(a + 1), nil })
				if err != nil || r.InsertID != uint64(a+1) {
					t.Errorf("insert: %v, id %d", err, r.InsertID)
				}
			}
		})
	}
	wg.Wait()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// A point lookup binds without allocating, whatever the algorithm.
func TestBindPointSelectAllocs(t *testing.T) {
	for _, c := range []struct {
		sql   string
		param Value
	}{
		{"SELECT * FROM users WHERE id = ?", IntValue(7)},
		{"SELECT * FROM orders WHERE user_id = ?", StringValue("12345")},
		{"SELECT * FROM orders WHERE user_id = ?", StringValue("abc")},
		{"SELECT * FROM events WHERE day = ?", StringValue("2025-06-01")},
	} {
		p := mustPlan(t, c.sql)
		params := []Value{c.param}
		if n := testing.AllocsPerRun(100, func() { _, _ = p.Bind(params) }); n != 0 {
			t.Errorf("%s: %v allocations per Bind", c.sql, n)
		}
	}
}
