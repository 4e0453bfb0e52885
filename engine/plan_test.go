package engine

import (
	"context"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

func mustPlan(t *testing.T, query string) *Plan {
	t.Helper()
	stmt, err := sqlparse.ParseOne(query)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := PlanSelect(stmt.(*ast.SelectStmt))
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return plan
}

// The fakes below answer the shard SQL of each plan as MariaDB would: rows
// sorted by the pushed ORDER BY, partial aggregates per shard, hidden
// columns (weights) at the end. The golden file pins the layouts.

func TestPlanOrderByLimit(t *testing.T) {
	plan := mustPlan(t, "SELECT id, name FROM users ORDER BY name DESC, id LIMIT 1, 3")
	// id, name, weight(name), weight(id) (NULL: a number)
	r := func(id, name string) []string { return []string{id, name, ciWeight(name), null} }
	shards := &fakeShards{
		fields: []wire.Field{intField("id"), stringField("name"), weightField(), weightField()},
		results: [][][]string{
			{r("4", "zed"), r("1", "Bob"), r("9", "bob ")}, // LIMIT 4 on each shard
			{r("2", "carl"), r("3", "BOB"), r("8", "al"), r("10", null)},
		},
	}
	stream, err := plan.Execute(context.Background(), shards)
	if err != nil {
		t.Fatal(err)
	}
	if f := stream.Fields(); len(f) != 2 || string(f[0].Name) != "id" || string(f[1].Name) != "name" {
		t.Errorf("client columns %v", f)
	}
	// zed, carl, then the bobs by id: 1, 3, 9.
	wantRows(t, readAll(t, stream), "2|carl\n1|Bob\n3|BOB\n")
	shards.checkClosed(t)
	if shards.sqls[0] != plan.ShardSQL {
		t.Errorf("shards ran %q", shards.sqls[0])
	}
}

func TestPlanGroupedHavingSort(t *testing.T) {
	plan := mustPlan(t, "SELECT country, COUNT(*), AVG(balance) AS a FROM users GROUP BY country HAVING COUNT(*) > 1 ORDER BY a DESC")
	// country, COUNT(*), AVG(balance), SUM(balance), COUNT(balance), weight(country)
	fields := []wire.Field{stringField("country"), bigintField("COUNT(*)"), decimalField("a", 6),
		decimalField("SUM(balance)", 2), bigintField("COUNT(balance)"), weightField()}
	g := func(country, count, sum, countB string) []string {
		return []string{country, count, "-1.000000", sum, countB, ciWeight(country)}
	}
	shards := &fakeShards{fields: fields, results: [][][]string{
		{g("de", "1", "10.00", "1"), g("fr", "2", "1.00", "1"), g("us", "5", "100.00", "5")},
		{g("DE", "2", "50.00", "2"), g("it", "1", "7.00", "1"), g("us", "1", null, "0")},
	}}
	got := run(t, plan.Root, &Env{Shards: shards})
	// de: 3 rows, 60.00/3 = 20.000000; us: 6 rows, 100.00/5; fr: 1.00/1;
	// it: one row, dropped by HAVING.
	wantRows(t, got, "de|3|20.000000\nus|6|20.000000\nfr|2|1.000000\n")
	shards.checkClosed(t)
}

func TestPlanPreparedLimitAndHaving(t *testing.T) {
	plan := mustPlan(t, "SELECT country, COUNT(*) FROM users WHERE age > ? GROUP BY country HAVING COUNT(*) >= ? LIMIT ?, ?")
	if plan.Params != 4 || plan.ShardParams != 1 {
		t.Fatalf("params %d/%d, want 4/1: the shards take only the WHERE's", plan.Params, plan.ShardParams)
	}
	fields := []wire.Field{stringField("country"), bigintField("COUNT(*)"), weightField()}
	g := func(c, n string) []string { return []string{c, n, ciWeight(c)} }
	shards := &fakeShards{fields: fields, results: [][][]string{
		{g("a", "1"), g("b", "3"), g("c", "1"), g("d", "5")},
		{g("a", "2"), g("c", "1"), g("e", "9")},
	}}
	params := []sqlparse.Value{sqlparse.IntValue(18), sqlparse.IntValue(2), sqlparse.IntValue(1), sqlparse.IntValue(2)}
	stream, err := plan.ExecuteEnv(context.Background(), &Env{Shards: shards, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	// Groups with COUNT >= 2: a 3, b 3, c 2, d 5, e 9; skip 1, take 2.
	wantRows(t, readAll(t, stream), "b|3\nc|2\n")
	shards.checkClosed(t)

	if _, err := plan.ExecuteEnv(context.Background(), &Env{Shards: shards, Params: params[:2]}); err == nil {
		t.Error("missing parameters accepted")
	}
}

func TestPlanScalarAggregate(t *testing.T) {
	plan := mustPlan(t, "SELECT COUNT(*), SUM(age), AVG(age), MAX(name) FROM users")
	// COUNT(*), SUM(age), AVG(age), MAX(name), COUNT(age), weight(MAX(name))
	fields := []wire.Field{bigintField("COUNT(*)"), decimalField("SUM(age)", 0), decimalField("AVG(age)", 4),
		stringField("MAX(name)"), bigintField("COUNT(age)"), weightField()}
	row := func(count, sum, name, countAge string) []string {
		return []string{count, sum, "0.0000", name, countAge, ciWeight(name)}
	}
	shards := &fakeShards{fields: fields, results: [][][]string{
		{row("0", null, null, "0")},
		{row("3", "40", "Zoe", "2")},
		{row("1", "1", "zoe ", "1")},
	}}
	wantRows(t, run(t, plan.Root, &Env{Shards: shards}), "4|41|13.6667|Zoe\n")

	empty := &fakeShards{fields: fields, results: [][][]string{{row("0", null, null, "0")}, {row("0", null, null, "0")}}}
	wantRows(t, run(t, plan.Root, &Env{Shards: empty}), "0|NULL|NULL|NULL\n")
}

func TestPlanDistinct(t *testing.T) {
	plan := mustPlan(t, "SELECT DISTINCT country, age FROM users ORDER BY age DESC LIMIT 3")
	// country, age, weight(age), weight(country)
	fields := []wire.Field{stringField("country"), intField("age"), weightField(), weightField()}
	r := func(c, age string) []string { return []string{c, age, null, ciWeight(c)} }
	shards := &fakeShards{fields: fields, results: [][][]string{
		{r("fr", "40"), r("de", "30"), r("fr", "30")},
		{r("FR", "40"), r("it", "35"), r("de", "30")},
	}}
	wantRows(t, run(t, plan.Root, &Env{Shards: shards}), "fr|40\nit|35\nde|30\n")
}

func TestPlanWildcardOrder(t *testing.T) {
	plan := mustPlan(t, "SELECT * FROM users ORDER BY name LIMIT 2")
	// the table's columns (unknown to the plan), then name and its weight
	fields := []wire.Field{intField("id"), stringField("name"), intField("age"), stringField("name"), weightField()}
	r := func(id, name, age string) []string { return []string{id, name, age, name, ciWeight(name)} }
	shards := &fakeShards{fields: fields, results: [][][]string{
		{r("1", "b", "3"), r("2", "d", "4")},
		{r("3", "a", "5"), r("4", "c", "6")},
	}}
	stream, err := plan.Execute(context.Background(), shards)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(stream.Fields()); n != 3 {
		t.Errorf("%d client columns, want the table's 3", n)
	}
	wantRows(t, readAll(t, stream), "3|a|5\n1|b|3\n")
}

// A cached plan serves concurrent executions (run with -race).
func TestPlanConcurrentExecutions(t *testing.T) {
	plan := mustPlan(t, "SELECT country, COUNT(*) AS c FROM users GROUP BY country ORDER BY c DESC LIMIT 2")
	fields := []wire.Field{stringField("country"), bigintField("c"), weightField()}
	g := func(c, n string) []string { return []string{c, n, ciWeight(c)} }
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			shards := &fakeShards{fields: fields, results: [][][]string{
				{g("a", "1"), g("b", "7")}, {g("a", "5"), g("c", "2")},
			}}
			s, err := plan.Execute(context.Background(), shards)
			if err != nil {
				t.Error(err)
				return
			}
			rows, err := drain(s)
			if err != nil || rowsText(rows) != "b|7\na|6\n" {
				t.Errorf("rows %q, %v", rowsText(rows), err)
			}
		})
	}
	wg.Wait()
}

// DISTINCT aggregates over a shard key combine like their plain forms: no
// two shards share a key value. Over any other column they are refused.
func TestPlanDistinctOverShardKey(t *testing.T) {
	key := func(c *ast.ColumnName) (bool, bool) { return c.Name.L == "user_id", false }
	plan := func(query string) (*Plan, error) {
		stmt, err := sqlparse.ParseOne(query)
		if err != nil {
			t.Fatal(err)
		}
		return PlanSelectKeyed(stmt.(*ast.SelectStmt), key)
	}
	p, err := plan("SELECT status, COUNT(DISTINCT user_id), AVG(DISTINCT o.user_id) FROM orders o GROUP BY status")
	if err != nil {
		t.Fatal(err)
	}
	want := "SELECT `status`,COUNT(DISTINCT `user_id`) AS `COUNT(DISTINCT user_id)`,AVG(DISTINCT `o`.`user_id`) AS `AVG(DISTINCT o.user_id)`,SUM(DISTINCT `o`.`user_id`),COUNT(DISTINCT `o`.`user_id`),"
	if len(p.ShardSQL) < len(want) || p.ShardSQL[:len(want)] != want {
		t.Errorf("shard SQL %s\nwant it to start with %s", p.ShardSQL, want)
	}
	for _, q := range []string{
		"SELECT COUNT(DISTINCT status) FROM orders",
		"SELECT COUNT(DISTINCT user_id + 1) FROM orders",
		"SELECT COUNT(DISTINCT user_id, status) FROM orders",
	} {
		if _, err := plan(q); err == nil {
			t.Errorf("%s: planned, want 1235", q)
		}
	}
}
