package tests

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// The scatter-gather oracle: the same rows in four shards behind the proxy
// and in one plain database, the same seeded random SELECTs against both,
// results compared (in order where the query orders them completely, as
// multisets otherwise). Text queries and prepared statements (binary rows)
// both run.

const oracleSeed = 20261126

var oracleDDL = []string{
	`CREATE TABLE users (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL, city VARCHAR(12) NULL,
		age INT NULL, score DECIMAL(8,2) NULL, country_id INT NULL, born DATE NULL)`,
	`CREATE TABLE orders (id INT PRIMARY KEY, user_id INT NOT NULL, amount DECIMAL(10,2) NULL,
		qty INT NOT NULL, status VARCHAR(10) NOT NULL)`,
	`CREATE TABLE countries (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)`,
}

// oracleCluster is a proxy over four shards and the oracle database.
type oracleCluster struct {
	proxy  *sql.DB
	oracle *sql.DB
	// For clients other than database/sql: the proxy's address and the
	// oracle's database (on nodes[0]'s primary, as root).
	proxyAddr  string
	oracleName string
}

func newOracleCluster(t *testing.T) *oracleCluster {
	t.Helper()
	cfg := baseConfig()
	prefix := uniqueName("scat")
	cfg.Schemas = append(cfg.Schemas, fourShards("scat", prefix, []conf.Table{
		{Name: "users", ShardKey: "id", Algorithm: "mod"},
		{Name: "orders", ShardKey: "user_id", Algorithm: "mod"}, // co-sharded with users
		{Name: "countries", Type: "global"},
	}))
	p := startProxy(t, cfg)
	c := &oracleCluster{proxy: p.open(t, "scat"), proxyAddr: p.addr, oracleName: prefix + "_oracle"}
	c.oracle = newOracleDB(t, c.oracleName)
	for _, ddl := range oracleDDL {
		mustExec(t, c.proxy, ddl)
		mustExec(t, c.oracle, ddl)
	}
	c.load(t, rand.New(rand.NewPCG(oracleSeed, 1)))
	return c
}

// load writes the same generated rows through the proxy and to the oracle.
func (c *oracleCluster) load(t *testing.T, r *rand.Rand) {
	t.Helper()
	names := []string{"alice", "Alice", "ALICE", "bob", "Bob", "carol", "dave", "Émile", "emile", "zoë", "Zed", "a", "b ", ""}
	cities := []string{"paris", "Paris", "berlin", "oslo", "rome", "lima"}
	statuses := []string{"new", "paid", "shipped", "void"}
	maybe := func(p float64, v string) string {
		if r.Float64() < p {
			return "NULL"
		}
		return v
	}
	var countries, users, orders []string
	for i := 1; i <= 8; i++ {
		countries = append(countries, fmt.Sprintf("(%d,'%s')", i, []string{"fr", "de", "no", "it", "pe", "FR", "es", "pt"}[i-1]))
	}
	for id := 1; id <= 400; id++ {
		users = append(users, fmt.Sprintf("(%d,'%s',%s,%s,%s,%s,%s)", id,
			names[r.IntN(len(names))],
			maybe(0.1, "'"+cities[r.IntN(len(cities))]+"'"),
			maybe(0.15, fmt.Sprint(r.IntN(80)+10)),
			maybe(0.1, fmt.Sprintf("%d.%02d", r.IntN(2000)-500, r.IntN(100))),
			maybe(0.1, fmt.Sprint(r.IntN(10)+1)), // 9 and 10 have no country row
			maybe(0.2, fmt.Sprintf("'19%02d-%02d-%02d'", r.IntN(100), r.IntN(12)+1, r.IntN(28)+1))))
	}
	for id := 1; id <= 1500; id++ {
		orders = append(orders, fmt.Sprintf("(%d,%d,%s,%d,'%s')", id, r.IntN(420)+1,
			maybe(0.1, fmt.Sprintf("%d.%02d", r.IntN(500), r.IntN(100))),
			r.IntN(9)+1, statuses[r.IntN(len(statuses))]))
	}
	for _, db := range []*sql.DB{c.proxy, c.oracle} {
		mustExec(t, db, "INSERT INTO countries VALUES "+strings.Join(countries, ","))
		for _, chunk := range slices.Collect(slices.Chunk(users, 100)) {
			mustExec(t, db, "INSERT INTO users (id,name,city,age,score,country_id,born) VALUES "+strings.Join(chunk, ","))
		}
		for _, chunk := range slices.Collect(slices.Chunk(orders, 100)) {
			mustExec(t, db, "INSERT INTO orders (id,user_id,amount,qty,status) VALUES "+strings.Join(chunk, ","))
		}
	}
}

// oracleQuery is one generated SELECT.
type oracleQuery struct {
	sql     string
	args    []any // run as a prepared statement when not nil
	ordered bool  // ORDER BY fixes the order of every row
	// fold compares strings as the collation does: a group or DISTINCT
	// row shows any one of its equal values ('Paris' or 'paris').
	fold bool
	// mayRefuse: the proxy may answer 1235 (a construct it cannot merge
	// exactly); when it answers, the answer must still match.
	mayRefuse bool
}

func TestScatterOracle(t *testing.T) {
	c := newOracleCluster(t)
	seed := uint64(oracleSeed)
	if v := os.Getenv("SHARDPROXY_ORACLE_SEED"); v != "" {
		// Other seeds explore further; the default one is what CI runs.
		fmt.Sscan(v, &seed)
	}
	t.Logf("query seed %d (set SHARDPROXY_ORACLE_SEED to change)", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	g := &queryGen{r: r}
	const n = 600
	var refused []string
	answered, prepared := 0, 0
	check := func(name string, q oracleQuery) {
		switch res := c.compare(t, name, q); res {
		case oracleRefused:
			refused = append(refused, q.sql)
		case oracleAnswered:
			answered++
			if q.args != nil {
				prepared++
			}
		}
	}
	for i, q := range oracleCases {
		check(fmt.Sprintf("case %d", i), q)
	}
	for i := range n {
		q := g.next()
		if i%4 == 3 {
			q = g.parameterize(q)
		}
		check(fmt.Sprintf("query %d", i), q)
	}
	t.Logf("%d queries: %d answered and equal to the oracle (%d prepared), %d refused with 1235", n+len(oracleCases), answered, prepared, len(refused))
	slices.Sort(refused)
	for _, q := range slices.Compact(refused) {
		t.Logf("refused: %s", q)
	}
	if answered < 500 {
		t.Errorf("only %d queries answered; the generator must cover more that the proxy can merge", answered)
	}
}

type oracleOutcome int

const (
	oracleAnswered oracleOutcome = iota
	oracleRefused                // 1235, as the query allows
	oracleFailed                 // both failed alike, or the answers differ (reported)
)

// compare runs q through the proxy and on the oracle and reports where
// they differ.
func (c *oracleCluster) compare(t *testing.T, name string, q oracleQuery) oracleOutcome {
	t.Helper()
	want, werr := runOracleQuery(c.oracle, q)
	got, gerr := runOracleQuery(c.proxy, q)
	switch {
	case gerr != nil && mysqlCode(gerr) == 1235 && q.mayRefuse:
		return oracleRefused
	case werr != nil && mysqlCode(gerr) == mysqlCode(werr):
		return oracleFailed // both refuse it alike (a position inside EXISTS, which drops the select list)
	case werr != nil:
		t.Errorf("%s: the oracle fails: %v, the proxy: %v\n%s", name, werr, gerr, q.sql)
		return oracleFailed
	case gerr != nil:
		t.Errorf("%s: the proxy fails: %v\n%s %v", name, gerr, q.sql, q.args)
		return oracleFailed
	}
	if !slices.Equal(got.columns, want.columns) {
		t.Errorf("%s: columns %v, oracle %v\n%s", name, got.columns, want.columns, q.sql)
		return oracleFailed
	}
	if q.fold {
		foldRows(got.rows)
		foldRows(want.rows)
	}
	if !q.ordered {
		slices.SortFunc(got.rows, slices.Compare)
		slices.SortFunc(want.rows, slices.Compare)
	}
	if !slices.EqualFunc(got.rows, want.rows, slices.Equal) {
		t.Errorf("%s: rows differ\n%s %v\nproxy  (%d rows): %s\noracle (%d rows): %s", name, q.sql, q.args,
			len(got.rows), shortRows(got.rows), len(want.rows), shortRows(want.rows))
		return oracleFailed
	}
	return oracleAnswered
}

// oracleCases run before the random queries, every time.
var oracleCases = []oracleQuery{
	// Grouped by the shard key: each shard's groups are final, whatever
	// the aggregate; groups come in key order without ORDER BY.
	{sql: "SELECT user_id, GROUP_CONCAT(status ORDER BY id SEPARATOR ','), COUNT(DISTINCT status) FROM orders GROUP BY user_id", ordered: true},
	{sql: "SELECT o.user_id, COUNT(*) AS n, COUNT(DISTINCT status), BIT_OR(qty) FROM orders o WHERE qty > ? GROUP BY o.user_id HAVING COUNT(DISTINCT status) > ? ORDER BY n DESC, 1 LIMIT 7", args: []any{2, 1}, ordered: true},
	// As text: binary rows of a merge show such a DOUBLE's fixed decimals
	// only (docs/behaviour.md).
	{sql: "SELECT user_id, STDDEV_POP(qty) AS sd, VARIANCE(amount) FROM orders GROUP BY user_id HAVING COUNT(*) > 3 ORDER BY sd DESC, 1 LIMIT 10", ordered: true},
	{sql: "SELECT u.id, u.city, GROUP_CONCAT(DISTINCT o.qty ORDER BY o.qty DESC), VAR_SAMP(o.amount) FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.id DESC LIMIT 20", ordered: true},
	{sql: "SELECT DISTINCT COUNT(DISTINCT status) FROM orders GROUP BY user_id", fold: true},
	{sql: "SELECT user_id, GROUP_CONCAT(qty ORDER BY id) AS g FROM orders GROUP BY user_id ORDER BY g, user_id LIMIT 15", ordered: true},
	// DISTINCT groups: rows of groups on different shards may be equal.
	{sql: "SELECT n, COUNT(*) FROM (SELECT DISTINCT COUNT(*) AS n FROM orders GROUP BY user_id) AS g GROUP BY n ORDER BY n", ordered: true, mayRefuse: true},
	// Window functions partitioned by the shard key: each partition lies
	// on one shard ("the latest order per user").
	{sql: "SELECT id, user_id, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY id DESC) AS rn FROM orders ORDER BY rn, id LIMIT 25", ordered: true},
	{sql: "SELECT * FROM (SELECT o.*, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY amount DESC, id) AS rn FROM orders o) t WHERE rn = 1 ORDER BY user_id", ordered: true},
	{sql: "WITH ranked AS (SELECT user_id, qty, RANK() OVER (PARTITION BY user_id ORDER BY qty DESC) AS r FROM orders) SELECT r, COUNT(*), SUM(qty) FROM ranked GROUP BY r ORDER BY r", ordered: true},
	{sql: "SELECT id, SUM(qty) OVER w AS part, LAG(status) OVER (w ORDER BY id) AS prev FROM orders WINDOW w AS (PARTITION BY user_id) ORDER BY id", ordered: true},
	{sql: "SELECT u.id, o.id, DENSE_RANK() OVER (PARTITION BY u.id ORDER BY o.qty) AS dr FROM users u JOIN orders o ON o.user_id = u.id WHERE o.qty > ? ORDER BY dr DESC, 1, 2 LIMIT 30", args: []any{3}, ordered: true},
	{sql: "SELECT id, RANK() OVER (ORDER BY qty) FROM orders", mayRefuse: true},
	// A key on the nullable side of an outer join is NULL on every shard
	// for the rows it does not match: no shard holds that group whole.
	{sql: "SELECT o.user_id, COUNT(*), GROUP_CONCAT(u.id ORDER BY u.id) FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.qty > 8 GROUP BY o.user_id", ordered: true, mayRefuse: true},
	{sql: "SELECT u.id, o.id, ROW_NUMBER() OVER (PARTITION BY o.user_id ORDER BY u.id, o.id) AS rn FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.qty > 8 ORDER BY u.id, o.id", ordered: true, mayRefuse: true},
	// A DISTINCT aggregate skips those NULLs: answered.
	{sql: "SELECT COUNT(DISTINCT o.user_id), SUM(DISTINCT o.user_id), COUNT(*) FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.qty > 8", ordered: true},
	{sql: "SELECT u.id, o.id FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.qty > 8 WHERE o.user_id NOT IN (SELECT user_id FROM orders WHERE user_id = 10) ORDER BY u.id, o.id", ordered: true, mayRefuse: true},
	{sql: "SELECT * FROM (SELECT o.user_id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id AND o.qty > 8 GROUP BY o.user_id) AS g ORDER BY n DESC, user_id LIMIT 5", ordered: true, mayRefuse: true},
	// An outer join keeping a global table's rows: each shard would add
	// the rows its own users do not match.
	{sql: "SELECT c.name, u.id FROM countries c LEFT JOIN users u ON u.country_id = c.id AND u.age > 85 ORDER BY c.id, u.id", ordered: true, mayRefuse: true},
	{sql: "SELECT c.name, COUNT(*) FROM users u RIGHT JOIN countries c ON u.country_id = c.id AND u.age > 85 GROUP BY c.name", fold: true, mayRefuse: true},
	{sql: "SELECT c.name, u.id FROM countries c LEFT JOIN users u ON u.country_id = c.id WHERE u.id = 17"},
	// A union's own ORDER BY and LIMIT: the shards read the union as a
	// derived table, sorting strings in the union's collation.
	{sql: "SELECT id, CONCAT(name, '!'), age FROM users WHERE age > ? UNION ALL SELECT user_id, status, qty FROM orders ORDER BY 2 DESC, 1, 3 LIMIT ?, 12", args: []any{40, 5}, ordered: true, fold: true},
	{sql: "SELECT * FROM users WHERE age < 25 UNION ALL SELECT * FROM users WHERE age > 85 ORDER BY name, id LIMIT 9", ordered: true, fold: true},
	{sql: "SELECT id AS k, city FROM users UNION ALL SELECT id, status FROM orders ORDER BY city, k DESC", ordered: true, fold: true},
	{sql: "(SELECT id, name FROM users WHERE age > 50) UNION ALL (SELECT user_id, status FROM orders WHERE qty > 7) ORDER BY 2, 1 LIMIT 20", ordered: true, fold: true},
	// UNION (DISTINCT): SELECT DISTINCT over the arms by UNION ALL.
	{sql: "SELECT city FROM users UNION SELECT status FROM orders", fold: true},
	{sql: "SELECT id, name FROM users WHERE age > ? UNION SELECT user_id, status FROM orders WHERE qty < ? ORDER BY 2 DESC, 1 LIMIT 15", args: []any{30, 4}, ordered: true, fold: true},
	{sql: "(SELECT country_id AS c FROM users) UNION (SELECT qty FROM orders) UNION (SELECT id FROM users WHERE id < 5) ORDER BY c", ordered: true},
	{sql: "SELECT id FROM users UNION ALL SELECT user_id FROM orders UNION SELECT id FROM users", mayRefuse: true},
	// Counting a union that must be merged first (Django's union().count()).
	{sql: "SELECT COUNT(*) FROM (SELECT city FROM users UNION SELECT status FROM orders) AS t"},
	{sql: "SELECT COUNT(*) AS n FROM (SELECT id, name FROM users WHERE age > ? UNION SELECT user_id, status FROM orders) AS t", args: []any{45}},
	{sql: "SELECT COUNT(*) FROM (SELECT id FROM users UNION ALL SELECT user_id FROM orders ORDER BY 1 LIMIT 30) AS t"},
	{sql: "SELECT EXISTS (SELECT city FROM users UNION SELECT status FROM orders)", mayRefuse: true},
	// A number in parentheses is a position (Django's union ORDER BY).
	{sql: "(SELECT id, name FROM users WHERE age > 60) UNION ALL (SELECT user_id, status FROM orders WHERE qty < 3) ORDER BY (2) ASC, (1) DESC LIMIT 21", ordered: true, fold: true},
	{sql: "SELECT id, name FROM users ORDER BY (2) DESC, ((1)) LIMIT 15", ordered: true, fold: true},
	{sql: "SELECT city, COUNT(*) FROM users GROUP BY (1) ORDER BY (2) DESC, (1)", ordered: true, fold: true},
	{sql: "SELECT id FROM users UNION ALL SELECT user_id FROM orders ORDER BY users.id"},
	{sql: "SELECT id FROM users UNION ALL SELECT user_id FROM orders ORDER BY MAX(id)"},
}

// foldRows maps values equal under the data's case- and accent-insensitive
// collation to one spelling.
func foldRows(rows [][]string) {
	folder := strings.NewReplacer("é", "e", "ë", "e", "É", "e")
	for _, row := range rows {
		for i, v := range row {
			row[i] = folder.Replace(strings.ToLower(v))
		}
	}
}

func shortRows(rows [][]string) string {
	if len(rows) > 12 {
		return fmt.Sprint(rows[:12]) + " ..."
	}
	return fmt.Sprint(rows)
}

type oracleResult struct {
	columns []string // name and type of each column
	rows    [][]string
}

func runOracleQuery(db *sql.DB, q oracleQuery) (*oracleResult, error) {
	var rows *sql.Rows
	var err error
	if q.args != nil {
		// Prepared on the server: the binary protocol, rows included.
		stmt, perr := db.Prepare(q.sql)
		if perr != nil {
			return nil, perr
		}
		defer stmt.Close()
		rows, err = stmt.Query(q.args...)
	} else {
		rows, err = db.Query(q.sql)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	res := &oracleResult{}
	for _, ct := range types {
		res.columns = append(res.columns, ct.Name()+" "+ct.DatabaseTypeName())
	}
	for rows.Next() {
		vals := make([]sql.NullString, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			row[i] = "NULL"
			if v.Valid {
				row[i] = "'" + v.String + "'"
			}
		}
		res.rows = append(res.rows, row)
	}
	return res, rows.Err()
}

// queryGen writes random SELECTs over the oracle tables.
type queryGen struct{ r *rand.Rand }

func (g *queryGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *queryGen) chance(p float64) bool    { return g.r.Float64() < p }

func (g *queryGen) next() oracleQuery {
	switch n := g.r.IntN(100); {
	case n < 33:
		return g.maybeDerived(g.rowsQuery())
	case n < 56:
		return g.maybeDerived(g.aggregateQuery())
	case n < 59:
		return g.keyGroupedQuery()
	case n < 62:
		return g.windowQuery()
	case n < 75:
		return g.joinQuery()
	case n < 79:
		return g.subqueryQuery()
	case n < 82:
		return g.unionQuery()
	case n < 89:
		return g.maybeDerived(g.distinctQuery())
	case n < 95:
		return g.countedQuery()
	default:
		return g.refusedQuery()
	}
}

// maybeDerived reads, one time in four, the users of a query over users
// from a derived table or a WITH query (both of them users' rows, filtered
// or not), as report tools and ORMs write them.
func (g *queryGen) maybeDerived(q oracleQuery) oracleQuery {
	if !g.chance(0.25) {
		return q
	}
	inner := "SELECT * FROM users" + g.usersWhere("")
	// The shard key read through a derived table is not known as one.
	q.mayRefuse = q.mayRefuse || strings.Contains(q.sql, "(DISTINCT ")
	if g.chance(0.5) {
		q.sql = strings.Replace(q.sql, " FROM users", " FROM ("+inner+") AS du", 1)
	} else {
		q.sql = "WITH du AS (" + inner + ") " + strings.Replace(q.sql, " FROM users", " FROM du", 1)
	}
	return q
}

// countedQuery counts another query's rows as ORMs do (SQLAlchemy's
// Query.count(), Django's count() of a distinct or annotated queryset).
func (g *queryGen) countedQuery() oracleQuery {
	var inner oracleQuery
	switch g.r.IntN(4) {
	case 0:
		inner = g.rowsQuery()
	case 1:
		inner = g.aggregateQuery()
	case 2:
		inner = g.joinQuery()
	default:
		inner = g.distinctQuery()
	}
	if g.chance(0.3) {
		// The query's existence instead (SQLAlchemy's q.exists()).
		return oracleQuery{sql: "SELECT " + g.pick("", "NOT ") + "EXISTS (" + inner.sql + ") AS anon_1", ordered: true, mayRefuse: inner.mayRefuse}
	}
	return oracleQuery{sql: "SELECT count(*) AS count_1 FROM (" + inner.sql + ") AS anon_1", ordered: true, mayRefuse: inner.mayRefuse}
}

// usersWhere is a filter on users: a point, IN, a range or none.
func (g *queryGen) usersWhere(alias string) string {
	p := alias
	if p != "" {
		p += "."
	}
	id := func() int { return g.r.IntN(420) + 1 }
	switch g.r.IntN(11) {
	case 0:
		return fmt.Sprintf(" WHERE %sid = %d", p, id())
	case 1:
		return fmt.Sprintf(" WHERE %sid IN (%d, %d, %d, %d)", p, id(), id(), id(), id())
	case 2:
		a := id()
		return fmt.Sprintf(" WHERE %sid BETWEEN %d AND %d", p, a, a+g.r.IntN(120))
	case 3:
		return fmt.Sprintf(" WHERE %sage > %d", p, g.r.IntN(80)+10)
	case 4:
		return fmt.Sprintf(" WHERE %scity = '%s'", p, g.pick("paris", "berlin", "oslo", "PARIS", "nowhere"))
	case 5:
		return fmt.Sprintf(" WHERE %sscore IS NULL OR %sage < %d", p, p, g.r.IntN(40)+10)
	case 6:
		return fmt.Sprintf(" WHERE %sname LIKE '%s%%'", p, g.pick("a", "B", "e", "z"))
	case 7:
		return fmt.Sprintf(" WHERE %sid < %d AND %scity IS NOT NULL", p, id(), p)
	default:
		return ""
	}
}

var userColumns = []string{"id", "name", "city", "age", "score", "country_id", "born"}

// orderBy orders by 1-3 of the given keys, in random directions, ending on
// the tiebreak so that the order is complete.
func (g *queryGen) orderBy(keys []string, tiebreak string) string {
	n := g.r.IntN(3) + 1
	var parts []string
	for _, i := range g.r.Perm(len(keys))[:min(n, len(keys))] {
		parts = append(parts, keys[i]+g.pick("", " ASC", " DESC"))
	}
	if tiebreak != "" {
		parts = append(parts, tiebreak+g.pick("", " DESC"))
	}
	return " ORDER BY " + strings.Join(parts, ", ")
}

func (g *queryGen) limit() string {
	switch g.r.IntN(4) {
	case 0:
		return fmt.Sprintf(" LIMIT %d", g.r.IntN(30)+1)
	case 1:
		return fmt.Sprintf(" LIMIT %d, %d", g.r.IntN(50), g.r.IntN(30)+1)
	case 2:
		return fmt.Sprintf(" LIMIT %d OFFSET %d", g.r.IntN(30)+1, g.r.IntN(400))
	}
	return ""
}

func (g *queryGen) rowsQuery() oracleQuery {
	var fields, keys []string
	if g.chance(0.1) {
		fields = []string{"*"}
		keys = []string{"name", "city", "age", "score", "born", "4", "7"}
	} else {
		for _, i := range g.r.Perm(len(userColumns))[:g.r.IntN(4)+1] {
			col := userColumns[i]
			switch g.r.IntN(5) {
			case 0:
				alias := "c_" + col
				fields = append(fields, col+" AS "+alias)
				keys = append(keys, alias)
			case 1:
				if col == "age" || col == "score" {
					fields = append(fields, col+" * 2 + 1")
					keys = append(keys, col+" * 2 + 1")
					continue
				}
				fallthrough
			default:
				fields = append(fields, col)
				keys = append(keys, col, fmt.Sprint(len(fields)))
			}
		}
	}
	q := oracleQuery{sql: "SELECT " + strings.Join(fields, ", ") + " FROM users" + g.usersWhere("")}
	if g.chance(0.75) {
		// Sorting on columns not selected works too: the proxy hides them.
		keys = append(keys, "age", "name")
		q.sql += g.orderBy(keys, "id") + g.limit()
		q.ordered = true
	}
	return q
}

var aggregates = []string{
	"COUNT(*)", "COUNT(age)", "COUNT(city)", "SUM(age)", "SUM(score)", "MIN(name)", "MAX(name)",
	"MIN(born)", "MAX(score)", "AVG(age)", "AVG(score)", "MIN(age)", "MAX(id)",
	// Expressions over aggregates, as ORMs write them (Django's
	// Coalesce(Sum(...), 0)): evaluated over the combined groups.
	"COALESCE(SUM(score), 0)", "SUM(age) / COUNT(*)", "IFNULL(AVG(score), -1)", "COUNT(city) * 2 + 1",
	"MAX(age) - MIN(age)", "AVG(score) * 100 / SUM(score)", "ROUND(AVG(age), 2)",
	// Conditions, functions and casts over them, as reports write them.
	"IF(COUNT(*) > 3, SUM(score), 0)", "CASE WHEN AVG(age) > 40 THEN 1 WHEN AVG(age) > 30 THEN 2 ELSE 3 END",
	"ABS(SUM(score) - 100)", "CEIL(AVG(score))", "GREATEST(MAX(age), 30)", "CAST(AVG(score) AS DECIMAL(10,2))",
	"CAST(SUM(age) AS SIGNED)", "NULLIF(COUNT(city), 0)",
	// DISTINCT over the shard key: no two shards share a value.
	"COUNT(DISTINCT id)", "SUM(DISTINCT id)", "AVG(DISTINCT id)",
}

func (g *queryGen) aggregateQuery() oracleQuery {
	var aggs []string
	for _, i := range g.r.Perm(len(aggregates))[:g.r.IntN(3)+1] {
		aggs = append(aggs, aggregates[i])
	}
	where := g.usersWhere("")
	if g.chance(0.2) {
		return oracleQuery{sql: "SELECT " + strings.Join(aggs, ", ") + " FROM users" + where, ordered: true, fold: true}
	}
	groups := [][]string{{"city"}, {"country_id"}, {"city", "country_id"}, {"age DIV 10"}, {"name"}, {"born"}}[g.r.IntN(6)]
	fields := append(slices.Clone(groups), aggs...)
	if groups[0] == "age DIV 10" {
		fields[0] = "age DIV 10 AS decade"
		groups = []string{"decade"}
	}
	q := oracleQuery{sql: "SELECT " + strings.Join(fields, ", ") + " FROM users" + where + " GROUP BY " + strings.Join(groups, ", "), fold: true}
	// MariaDB rounds AVG inside expressions when it sorts groups it
	// grouped by sorting (for a DISTINCT aggregate): the proxy refuses.
	q.mayRefuse = slices.ContainsFunc(aggs, func(a string) bool { return strings.Contains(a, "(DISTINCT ") }) &&
		slices.ContainsFunc(aggs, func(a string) bool { return strings.Contains(a, "AVG(") && strings.Count(a, "(") > 1 })
	if g.chance(0.4) {
		q.sql += fmt.Sprintf(" HAVING %s %s %d", g.pick("COUNT(*)", aggs[0]), g.pick(">", "<", ">="), g.r.IntN(20))
		if strings.HasPrefix(aggs[0], "MIN(name)") || strings.HasPrefix(aggs[0], "MAX(name)") || strings.Contains(aggs[0], "born") {
			q.sql = strings.Replace(q.sql, "HAVING "+aggs[0], "HAVING COUNT(*)", 1)
		}
	}
	switch g.r.IntN(3) {
	case 0:
		// Groups in the server's order: grouped rows come sorted by their keys.
		q.sql += g.orderBy(groups, "") + ", " + strings.Join(groups, ", ")
		q.ordered = true
	case 1:
		q.sql += g.orderBy([]string{aggs[0], fmt.Sprint(len(groups) + 1)}, "") + ", " + strings.Join(groups, ", ")
		q.ordered = true
	}
	if q.ordered {
		q.sql += g.limit()
	}
	return q
}

// keyGroupedQuery groups by the shard key (per user), with aggregates no
// partial results combine: each group lies on one shard, whose row for it
// is final.
func (g *queryGen) keyGroupedQuery() oracleQuery {
	aggs := []string{
		"GROUP_CONCAT(o.status ORDER BY o.id)", "COUNT(DISTINCT o.status)", "BIT_OR(o.qty)", "BIT_AND(o.qty)",
		"GROUP_CONCAT(DISTINCT o.qty ORDER BY o.qty DESC SEPARATOR '|')", "SUM(o.amount)", "AVG(o.qty)", "COUNT(*)",
		"MAX(o.status)", "COUNT(DISTINCT o.qty) * 10 + MIN(o.qty)", "STDDEV_SAMP(o.qty)",
	}
	var fields []string
	for _, i := range g.r.Perm(len(aggs))[:g.r.IntN(3)+1] {
		fields = append(fields, aggs[i])
	}
	key, from := "o.user_id", " FROM orders o"
	nullable := false
	switch g.r.IntN(10) {
	case 0, 1, 2:
		key, from = "u.id", " FROM users u JOIN orders o ON o.user_id = u.id"
	case 3:
		// The users without orders group apart as NULL, on every shard.
		key, from = g.pick("u.id", "o.user_id"), " FROM users u LEFT JOIN orders o ON o.user_id = u.id"
		nullable = key == "o.user_id"
	}
	groups := []string{key}
	if key == "u.id" && g.chance(0.5) {
		groups = append(groups, "u.city")
	}
	q := oracleQuery{sql: "SELECT " + strings.Join(append(slices.Clone(groups), fields...), ", ") + from +
		g.pick("", fmt.Sprintf(" WHERE o.qty > %d", g.r.IntN(9)), " WHERE o.status <> 'void'") + " GROUP BY " + strings.Join(groups, ", "),
		mayRefuse: nullable}
	if g.chance(0.4) {
		q.sql += g.pick(fmt.Sprintf(" HAVING COUNT(*) > %d", g.r.IntN(5)), " HAVING COUNT(DISTINCT o.status) > 1", " HAVING MAX(o.qty) = 9")
	}
	switch g.r.IntN(4) {
	case 0:
		q.ordered = true // groups in key order
	case 1:
		// Not by a deviation: its last bits depend on the order the rows
		// are summed in, which may differ between a shard and the oracle.
		if !strings.HasPrefix(fields[0], "STDDEV") {
			q.sql += " ORDER BY " + fields[0] + g.pick("", " DESC") + ", " + key + g.limit()
			q.ordered = true
			break
		}
		fallthrough
	case 2:
		q.sql += " ORDER BY " + key + " DESC" + g.limit()
		q.ordered = true
	}
	return q
}

// windowQuery writes window functions partitioned by the shard key, as
// they are and under an outer query that filters, groups or limits them.
func (g *queryGen) windowQuery() oracleQuery {
	order := g.pick("o.qty", "o.amount DESC", "o.status") + ", o.id"
	fn := g.pick("ROW_NUMBER()", "RANK()", "DENSE_RANK()", "NTILE(3)", "SUM(o.qty)", "COUNT(*)", "LAG(o.status)",
		"LEAD(o.amount, 2)", "FIRST_VALUE(o.qty)", "MAX(o.amount)")
	key, from := "o.user_id", " FROM orders o"
	if g.chance(0.3) {
		key, from = "u.id", " FROM users u JOIN orders o ON o.user_id = u.id"
	}
	inner := "SELECT o.id, " + key + " AS k, o.qty, " + fn + " OVER (PARTITION BY " + key + " ORDER BY " + order + ") AS w" + from +
		g.pick("", fmt.Sprintf(" WHERE o.qty > %d", g.r.IntN(9)), " WHERE o.status <> 'void'")
	switch g.r.IntN(3) {
	case 0:
		return oracleQuery{sql: inner + " ORDER BY w" + g.pick("", " DESC") + ", o.id" + g.limit(), ordered: true}
	case 1:
		return oracleQuery{sql: "SELECT * FROM (" + inner + ") AS t WHERE w " + g.pick("=", "<=", ">") + fmt.Sprintf(" %d", g.r.IntN(3)+1) + " ORDER BY id" + g.limit(), ordered: true}
	default:
		return oracleQuery{sql: "SELECT w, COUNT(*), SUM(qty) FROM (" + inner + ") AS t GROUP BY w ORDER BY w", ordered: true}
	}
}

func (g *queryGen) joinQuery() oracleQuery {
	on := g.pick("", fmt.Sprintf(" AND o.qty > %d", g.r.IntN(9)), " AND o.status = 'void'")
	switch g.r.IntN(7) {
	case 4: // outer joins keeping the sharded rows
		return oracleQuery{sql: "SELECT u.id, o.id AS order_id, o.amount FROM users u LEFT JOIN orders o ON o.user_id = u.id" + on +
			g.usersWhere("u") + " ORDER BY u.id, order_id" + g.limit(), ordered: true}
	case 5:
		return oracleQuery{sql: "SELECT u.city, COUNT(o.id), SUM(o.amount), COUNT(*) FROM orders o RIGHT JOIN users u ON o.user_id = u.id" + on +
			g.usersWhere("u") + " GROUP BY u.city ORDER BY u.city", ordered: true, fold: true}
	case 6: // keeping a global table's rows: one shard, or refused
		return oracleQuery{sql: "SELECT c.name, u.id FROM countries c LEFT JOIN users u ON u.country_id = c.id" +
			g.pick("", fmt.Sprintf(" WHERE u.id = %d", g.r.IntN(420)+1)) + " ORDER BY c.id, u.id", ordered: true, mayRefuse: true}
	case 0: // with a global table
		return oracleQuery{sql: "SELECT u.id, u.name, c.name AS country FROM users u JOIN countries c ON u.country_id = c.id" +
			g.usersWhere("u") + g.orderBy([]string{"country", "u.name"}, "u.id") + g.limit(), ordered: true}
	case 1: // co-sharded on the shard key
		return oracleQuery{sql: "SELECT u.id, o.id AS order_id, o.amount, u.city FROM users u JOIN orders o ON o.user_id = u.id" +
			g.usersWhere("u") + g.orderBy([]string{"o.amount", "u.city", "u.id"}, "order_id") + g.limit(), ordered: true}
	case 2:
		return oracleQuery{sql: "SELECT u.city, COUNT(*), SUM(o.amount), " + g.pick("MAX(o.qty)", "COUNT(DISTINCT o.user_id)", "AVG(DISTINCT u.id)") + " FROM users u JOIN orders o ON o.user_id = u.id" +
			g.usersWhere("u") + " GROUP BY u.city ORDER BY u.city" + g.pick("", " DESC") + g.limit(), ordered: true, fold: true}
	default:
		return oracleQuery{sql: "SELECT o.status, c.name, COUNT(*) AS n, AVG(o.qty) FROM orders o JOIN users u ON u.id = o.user_id LEFT JOIN countries c ON c.id = u.country_id" +
			g.usersWhere("u") + " GROUP BY o.status, c.name ORDER BY n DESC, o.status, c.name" + g.limit(), ordered: true, fold: true}
	}
}

// subqueryQuery writes subqueries that each shard answers for its own
// rows: IN and EXISTS on the co-sharded orders, COUNT and SUM correlated on
// the shard keys (Django's Subquery(OuterRef(...))), a global table's; and
// IN subqueries on other columns, which the proxy runs first.
func (g *queryGen) subqueryQuery() oracleQuery {
	cond := func(alias string) string {
		return g.pick("", alias+"status = 'paid'", alias+"amount > 200", alias+"qty > 5 AND "+alias+"status <> 'void'")
	}
	and := func(c string) string {
		if c == "" {
			return ""
		}
		return " AND " + c
	}
	switch g.r.IntN(6) {
	case 4:
		// On other columns than the keys: the proxy reads the values first.
		return oracleQuery{sql: "SELECT id, name FROM users WHERE age " + g.pick("IN", "NOT IN") +
			" (SELECT qty FROM orders WHERE " + g.pick("status = 'paid'", fmt.Sprintf("qty > %d", g.r.IntN(9)), "amount > 400") + ")" +
			g.orderBy([]string{"name", "age"}, "id") + g.limit(), ordered: true}
	case 5:
		return oracleQuery{sql: "SELECT id, user_id, amount FROM orders WHERE user_id " + g.pick("IN", "NOT IN") +
			" (SELECT age FROM users WHERE " + g.pick("city = 'paris'", fmt.Sprintf("age > %d", g.r.IntN(80)+10), "name = 'nobody'") + ")" +
			g.pick("", fmt.Sprintf(" AND qty > %d", g.r.IntN(9))) + " ORDER BY id" + g.limit(), ordered: true}
	case 0:
		inner := "SELECT user_id FROM orders"
		if c := cond(""); c != "" {
			inner += " WHERE " + c
		}
		return oracleQuery{sql: "SELECT id, name FROM users WHERE id " + g.pick("IN", "NOT IN") + " (" + inner + ")" +
			g.orderBy([]string{"name", "age"}, "id") + g.limit(), ordered: true}
	case 1:
		return oracleQuery{sql: "SELECT u.id, u.city FROM users u WHERE " + g.pick("", "NOT ") +
			"EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id" + and(cond("o.")) + ")" +
			g.pick("", fmt.Sprintf(" AND u.age > %d", g.r.IntN(60)+10)) + " ORDER BY u.id" + g.limit(), ordered: true}
	case 2:
		return oracleQuery{sql: "SELECT u.id, (SELECT COUNT(*) FROM orders o WHERE o.user_id = u.id) AS n, " +
			"(SELECT SUM(o.amount) FROM orders o WHERE u.id = o.user_id" + and(cond("o.")) + ") AS s FROM users u" +
			g.usersWhere("u") + " ORDER BY n" + g.pick("", " DESC") + ", s, u.id" + g.limit(), ordered: true}
	default:
		return oracleQuery{sql: "SELECT u.id, (SELECT c.name FROM countries c WHERE c.id = u.country_id) AS cn FROM users u" +
			g.usersWhere("u") + " ORDER BY cn" + g.pick("", " DESC") + ", u.id" + g.limit(), ordered: true}
	}
}

// unionQuery writes UNION ALL of users and orders, as it is, sorted and
// limited, and read as a derived table by a sorting, grouping or DISTINCT
// query.
func (g *queryGen) unionQuery() oracleQuery {
	union := "SELECT id, name AS label, age AS n FROM users" + g.usersWhere("") +
		" UNION ALL SELECT user_id, status, qty FROM orders" + g.pick("", fmt.Sprintf(" WHERE qty > %d", g.r.IntN(9)), " WHERE status = 'paid'")
	top := union // as the statement itself, sometimes UNION (DISTINCT)
	if g.chance(0.3) {
		top = strings.Replace(union, " UNION ALL ", " UNION ", 1)
	}
	switch g.r.IntN(7) {
	case 4, 5:
		return g.groupedDerivedQuery()
	case 0:
		return oracleQuery{sql: top, fold: true}
	case 3:
		// The union's own ORDER BY and LIMIT, by names or positions.
		keys := [][]string{{"label", "n"}, {"2", "3"}}[g.r.IntN(2)]
		return oracleQuery{sql: top + g.orderBy(keys, g.pick("id", "1")) + ", " + strings.Join(keys, ", ") + g.limit(), ordered: true, fold: true}
	case 1:
		return oracleQuery{sql: "SELECT * FROM (" + union + ") AS u" + g.orderBy([]string{"label", "n"}, "id") + ", label, n" + g.limit(), ordered: true}
	case 2:
		return oracleQuery{sql: "SELECT label, COUNT(*), SUM(n), MAX(id) FROM (" + union + ") AS u GROUP BY label ORDER BY label", ordered: true, fold: true}
	default:
		return oracleQuery{sql: "SELECT DISTINCT label FROM (" + union + ") AS u", fold: true}
	}
}

// groupedDerivedQuery reads a derived table grouped by the shard key
// (per user): each group lies on one shard, so the outer query merges.
func (g *queryGen) groupedDerivedQuery() oracleQuery {
	inner := "SELECT user_id, COUNT(*) AS n, SUM(amount) AS total, MAX(qty) AS top FROM orders" +
		g.pick("", fmt.Sprintf(" WHERE qty > %d", g.r.IntN(9)), " WHERE status <> 'void'") + " GROUP BY user_id" +
		g.pick("", fmt.Sprintf(" HAVING COUNT(*) > %d", g.r.IntN(5)))
	if g.chance(0.25) {
		inner = "SELECT u.id, u.city, COUNT(o.id) AS n, SUM(o.amount) AS total, MAX(o.qty) AS top FROM users u JOIN orders o ON o.user_id = u.id GROUP BY u.id, u.city"
	}
	switch g.r.IntN(3) {
	case 0:
		return oracleQuery{sql: "SELECT * FROM (" + inner + ") AS g ORDER BY n DESC, total, top, 1" + g.limit(), ordered: true}
	case 1:
		return oracleQuery{sql: "SELECT n, COUNT(*), SUM(total), MAX(top) FROM (" + inner + ") AS g GROUP BY n ORDER BY n", ordered: true}
	default:
		return oracleQuery{sql: "SELECT COUNT(*), AVG(n), MAX(total), MIN(top) FROM (" + inner + ") AS g", ordered: true}
	}
}

func (g *queryGen) distinctQuery() oracleQuery {
	cols := [][]string{{"city"}, {"country_id"}, {"city", "country_id"}, {"name"}, {"age DIV 10"}}[g.r.IntN(5)]
	q := oracleQuery{sql: "SELECT DISTINCT " + strings.Join(cols, ", ") + " FROM users" + g.usersWhere(""), fold: true}
	if g.chance(0.6) {
		q.sql += g.orderBy(cols, "") + ", " + strings.Join(cols, ", ") + g.limit()
		q.ordered = true
	}
	return q
}

// refusedQuery writes what no merge can answer exactly: the proxy must
// refuse it, or (when it can run on one shard) answer it right.
func (g *queryGen) refusedQuery() oracleQuery {
	sql := g.pick(
		"SELECT COUNT(DISTINCT city) FROM users",
		"SELECT city, GROUP_CONCAT(name ORDER BY name) FROM users GROUP BY city",
		"SELECT c.name, u.id FROM countries c LEFT JOIN users u ON u.country_id = c.id",
		"SELECT u.id, o.id FROM users u JOIN orders o ON o.qty = u.age",
		"SELECT id FROM users WHERE age = (SELECT MAX(age) FROM users)",
		"SELECT id FROM users UNION SELECT user_id FROM orders UNION ALL SELECT id FROM users",
		"SELECT id, id FROM users UNION ALL SELECT user_id, qty FROM orders ORDER BY 1 LIMIT 5",
		"SELECT name FROM users UNION ALL SELECT name FROM countries",
		"SELECT * FROM users ORDER BY 2, id LIMIT 5", // a string column by position under *
		"SELECT * FROM (SELECT city, COUNT(*) AS n FROM users GROUP BY city) AS t ORDER BY n, city",
		// Each shard would count its own rows from the start.
		"SELECT @n := IFNULL(@n, 0) + 1 AS n, id FROM users",
		"SELECT RAND(3) AS r, id FROM users",
		"SELECT ROWNUM(), id FROM users",
	)
	return oracleQuery{sql: sql, mayRefuse: true}
}

// parameterize turns a query's first integer literal in WHERE into a `?`,
// so that it runs as a prepared statement with binary rows.
func (g *queryGen) parameterize(q oracleQuery) oracleQuery {
	if strings.Contains(q.sql, "STDDEV") {
		// A merge's binary rows show a DOUBLE with fixed decimals only to
		// those decimals (docs/behaviour.md): such a query stays text.
		return q
	}
	w := strings.Index(q.sql, " WHERE ")
	if w < 0 {
		q.args = []any{}
		return q
	}
	rest := q.sql[w:]
	end := len(rest)
	for _, clause := range []string{" GROUP BY ", " ORDER BY ", " LIMIT ", ") AS du", ") SELECT "} {
		if k := strings.Index(rest, clause); k >= 0 && k < end {
			end = k
		}
	}
	for i := 0; i < end; i++ {
		if rest[i] >= '0' && rest[i] <= '9' && rest[i-1] == ' ' {
			j := i
			for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
				j++
			}
			if j < len(rest) && rest[j] != ' ' && rest[j] != ',' && rest[j] != ')' {
				continue
			}
			var v int
			fmt.Sscan(rest[i:j], &v)
			q.sql = q.sql[:w] + rest[:i] + "?" + rest[j:]
			q.args = []any{v}
			return q
		}
	}
	q.args = []any{}
	return q
}
