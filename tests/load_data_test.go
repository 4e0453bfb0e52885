package tests

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/shardproxy/shardproxy/conf"
)

// loadReader registers data as a LOAD DATA LOCAL file and returns its name.
func loadReader(t *testing.T, data string) string {
	t.Helper()
	name := uniqueName("file")
	mysql.RegisterReaderHandler(name, func() io.Reader { return strings.NewReader(data) })
	t.Cleanup(func() { mysql.DeregisterReaderHandler(name) })
	return "Reader::" + name
}

// LOAD DATA LOCAL INFILE into a sharded table: the proxy reads the file,
// sends each record to its key's shard, and the table ends as MariaDB
// loads it, every row on its own shard. The files mix what MariaDB's
// reader does with escapes, enclosures, terminators of several bytes,
// line prefixes, short and long records and IGNORE n LINES.
func TestLoadDataIntoShardedTable(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("load")
	proxy := idShardedProxy(t, prefix, "items")
	oracle := newOracleDB(t, prefix+"_oracle")
	const create = "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40), note TEXT, qty INT)"
	formats := []struct {
		options string
		enc     fileEncoding
	}{
		{"", fileEncoding{field: "\t", line: "\n", escape: '\\'}},
		{"FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' IGNORE 1 LINES", fileEncoding{field: ",", line: "\n", enclose: '"', escape: '\\', header: true}},
		{"FIELDS TERMINATED BY '||' ENCLOSED BY '\\'' ESCAPED BY '' LINES TERMINATED BY '\\r\\n'", fileEncoding{field: "||", line: "\r\n", enclose: '\''}},
		{"FIELDS TERMINATED BY ';' ESCAPED BY '#' LINES STARTING BY 'row:' TERMINATED BY '\\n'", fileEncoding{field: ";", line: "\n", escape: '#', start: "row:"}},
		{"FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\"'", fileEncoding{field: ",", line: "\n", enclose: '"', escape: '"', alwaysEnclose: true}},
	}
	rng := rand.New(rand.NewPCG(6, 11))
	ctx := context.Background()
	conns := make([]*sql.Conn, 2)
	for i, db := range []*sql.DB{proxy, oracle} {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Short rows are warnings, not errors, so that a load goes through.
		mustExec(t, c, "SET SESSION sql_mode = ''")
		conns[i] = c
	}
	for i, format := range formats {
		for _, c := range conns {
			mustExec(t, c, "DROP TABLE IF EXISTS items")
			mustExec(t, c, create)
		}
		data := format.enc.file(rng, i*1000, 150)
		for _, columns := range []string{"(id, name, note, qty)", ""} {
			stmt := fmt.Sprintf("LOAD DATA LOCAL INFILE '%s' REPLACE INTO TABLE items %s %s", loadReader(t, data), format.options, columns)
			got, want := loadOutcome(t, conns[0], stmt), loadOutcome(t, conns[1], stmt)
			if got != want {
				t.Fatalf("%s\nfile %q\nthrough the proxy: %s\non MariaDB:        %s", stmt, data, got, want)
			}
		}
		// Every row is on its key's shard: a point select, which reaches
		// that shard alone, finds it.
		for _, row := range queryStrings(t, oracle, "SELECT id FROM items") {
			if n := queryOne(t, proxy, "SELECT COUNT(*) FROM items WHERE id = ?", row[0]); n != "1" {
				t.Fatalf("%s: id %s found %s times on its shard", format.options, row[0], n)
			}
		}
	}
	// In strict mode a short row fails a load with REPLACE (LOCAL without
	// it takes IGNORE's warnings), named by its row in the file (not in its
	// shard's part of it), and nothing is loaded.
	for _, c := range conns {
		mustExec(t, c, "SET SESSION sql_mode = DEFAULT")
		mustExec(t, c, "TRUNCATE TABLE items")
	}
	short := loadReader(t, "1,a,x,1\n2,b,x,2\n3,c,x,3\n4,d,x,4\n5,e,x,5\n6,f\n7,g,x,7\n")
	stmt := "LOAD DATA LOCAL INFILE '" + short + "' REPLACE INTO TABLE items FIELDS TERMINATED BY ','"
	got, want := loadOutcome(t, conns[0], stmt), loadOutcome(t, conns[1], stmt)
	if got != want || !strings.HasPrefix(got, "error") {
		t.Errorf("%s\nthrough the proxy: %s\non MariaDB:        %s", stmt, got, want)
	}
	// Inside a transaction the failed load is undone on every shard, and
	// the transaction goes on to commit what came before it.
	first := "LOAD DATA LOCAL INFILE '" + loadReader(t, "11,k,x,1\n12,l,x,2\n") + "' INTO TABLE items FIELDS TERMINATED BY ','"
	for _, c := range conns {
		mustExec(t, c, "BEGIN")
	}
	for _, st := range []string{first, stmt, "COMMIT"} {
		if got, want := loadOutcome(t, conns[0], st), loadOutcome(t, conns[1], st); got != want {
			t.Errorf("in a transaction: %s\nthrough the proxy: %s\non MariaDB:        %s", st, got, want)
		}
	}
}

func loadOutcome(t *testing.T, c *sql.Conn, stmt string) string {
	res, err := c.ExecContext(context.Background(), stmt)
	if err != nil {
		return fmt.Sprintf("error %v; table %q", err, queryStrings(t, c, "SELECT * FROM items ORDER BY id"))
	}
	n, _ := res.RowsAffected()
	warnings := queryStrings(t, c, "SHOW WARNINGS")
	return fmt.Sprintf("%d rows; warnings %q; table %q", n, warnings, queryStrings(t, c, "SELECT * FROM items ORDER BY id"))
}

// fileEncoding writes LOAD DATA files for one set of FIELDS and LINES
// options, with fields that hold the terminators, enclosures and escapes.
type fileEncoding struct {
	field, line   string
	enclose       byte // 0: none
	escape        byte // 0: none
	start         string
	header        bool
	alwaysEnclose bool
}

func (e fileEncoding) file(rng *rand.Rand, firstID, rows int) string {
	var b strings.Builder
	if e.header {
		b.WriteString("id" + e.field + "name" + e.field + "note" + e.field + "qty" + e.line)
	}
	alphabet := []string{"a", "Z", " ", "é", ",", ";", "|", "'", "\"", "\\", "#", "\n", "\r", "\t", "N", "NULL", "row:", "0"}
	text := func() string {
		var s strings.Builder
		for range rng.IntN(8) {
			s.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return s.String()
	}
	for r := range rows {
		if e.start != "" {
			if rng.IntN(4) == 0 {
				b.WriteString("junk" + e.line) // no prefix: skipped
			}
			b.WriteString(e.start)
		}
		id := firstID + r
		if rng.IntN(10) == 0 {
			id = firstID + rng.IntN(rows) // a duplicate: REPLACE keeps the last
		}
		fields := []string{fmt.Sprint(id), e.quote(text()), e.quote(text()), fmt.Sprint(rng.IntN(100))}
		switch rng.IntN(12) {
		case 0:
			fields = fields[:2] // short: the rest get defaults
		case 1:
			fields = append(fields, "extra") // long: the rest is skipped
			if e.escape != 0 && e.escape != e.enclose {
				// to the end of the line, where an escaped terminator is none
				fields = append(fields, "x"+string(e.escape)+e.line+"y")
			}
		case 2:
			if e.escape != 0 && !e.alwaysEnclose {
				fields[1] = string(e.escape) + "N" // NULL
			}
		}
		if e.alwaysEnclose {
			fields[0] = e.quote(fields[0])
		}
		b.WriteString(strings.Join(fields, e.field))
		if r < rows-1 || rng.IntN(2) == 0 {
			b.WriteString(e.line) // the last line may end without one
		}
	}
	return b.String()
}

// quote writes a value so that MariaDB reads it back: escaped, or
// enclosed with enclosures doubled, terminators only inside enclosures.
func (e fileEncoding) quote(v string) string {
	if e.enclose != 0 && (e.alwaysEnclose || e.escape == 0 || strings.ContainsAny(v, e.field+e.line)) {
		q := string(e.enclose)
		if e.escape != 0 && e.escape != e.enclose {
			v = strings.ReplaceAll(v, string(e.escape), string(e.escape)+string(e.escape))
		}
		return q + strings.ReplaceAll(v, q, q+q) + q
	}
	if e.escape == 0 {
		// Nothing to escape with: leave out what would end the field.
		for _, s := range []string{e.field, e.line, "\n"} {
			v = strings.ReplaceAll(v, s, "")
		}
		return v
	}
	var out strings.Builder
	esc := string(e.escape)
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == e.escape:
			out.WriteString(esc + esc)
		case c == '\n':
			out.WriteString(esc + "n")
		case c == '\t':
			out.WriteString(esc + "t")
		case c == '\r':
			out.WriteString(esc + "r")
		case strings.HasPrefix(e.field, string(c)) || strings.HasPrefix(e.line, string(c)) || c == e.enclose:
			out.WriteString(esc + string(c))
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// What LOAD DATA into sharded tables refuses, each with a message that
// says what to change, and after which the session goes on (the proxy
// reads the whole file even when a record fails); a load inside a
// transaction rolls back with it; ids loaded into a table whose ids come
// from the proxy's sequence are never generated again; LOAD DATA on a
// pass-through schema reaches MariaDB as it is.
func TestLoadDataEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	prefix := uniqueName("loadx")
	cfg := baseConfig()
	cfg.Schemas = append(cfg.Schemas, fourShards("shop", prefix, []conf.Table{
		{Name: "items", ShardKey: "id", Algorithm: "mod"},
		{Name: "orders", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"},
		{Name: "countries", Type: "global"},
	}))
	passThroughSchema(cfg, "plain")
	p := startProxy(t, cfg)
	db := p.open(t, "shop")
	db.SetMaxOpenConns(1) // one session throughout
	mustExec(t, db, "CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(10))")
	mustExec(t, db, "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(10))")
	mustExec(t, db, "CREATE TABLE countries (code CHAR(2) PRIMARY KEY)")
	refused := []struct {
		stmt, data string
		code       int
		says       string
	}{
		{"LOAD DATA INFILE '/tmp/x' INTO TABLE items", "", 1235, "use LOAD DATA LOCAL INFILE"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items (name)", "a\n", 1105, "must read the shard key id"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items (@i, name) SET id = @i", "1\ta\n", 1105, "must read the shard key id"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items (id, name)", "1\ta\n\\N\tb\n3\tc\n", 1105, "record 2 gives the shard key id as NULL"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items (id, name)", "1\ta\nx7\tb\n", 1105, "record 2"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items (name, id)", "a\t1\nb\n", 1105, "record 2 has no field for the shard key id"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE items FIELDS TERMINATED BY ''", "1a\n", 1235, "fixed-width"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE countries", "FR\n", 1235, "global table countries"},
		{"LOAD DATA LOCAL INFILE '%s' INTO TABLE orders (id, what)", "5\ta\n0\tb\n", 1105, "must give every row its id"},
	}
	for _, r := range refused {
		stmt := r.stmt
		if strings.Contains(stmt, "%s") {
			stmt = fmt.Sprintf(stmt, loadReader(t, r.data))
		}
		_, err := db.Exec(stmt)
		if mysqlCode(err) != r.code || !strings.Contains(fmt.Sprint(err), r.says) {
			t.Errorf("%s: %v, want %d saying %q", stmt, err, r.code, r.says)
		}
		if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "0" {
			t.Fatalf("after %s: %s rows in items, want none", stmt, got)
		}
	}

	// Inside a transaction, the load is the transaction's.
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("LOAD DATA LOCAL INFILE '" + loadReader(t, "1\ta\n2\tb\n3\tc\n") + "' INTO TABLE items"); err != nil {
		t.Fatal(err)
	}
	if got := queryOne(t, tx, "SELECT COUNT(*) FROM items"); got != "3" {
		t.Errorf("%s rows inside the transaction, want 3", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := queryOne(t, db, "SELECT COUNT(*) FROM items"); got != "0" {
		t.Errorf("%s rows after the rollback, want none", got)
	}

	// Loaded ids move the proxy's sequence past them.
	mustExec(t, db, "LOAD DATA LOCAL INFILE '"+loadReader(t, "5\ta\n900\tb\n17\tc\n")+"' INTO TABLE orders (id, what)")
	res := mustExec(t, db, "INSERT INTO orders (what) VALUES ('new')")
	if id, _ := res.LastInsertId(); id <= 900 {
		t.Errorf("generated id %d after a load of ids up to 900", id)
	}

	// A pass-through schema relays the statement and the file.
	plain := p.open(t, "plain")
	mustExec(t, plain, "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(10))")
	mustExec(t, plain, "LOAD DATA LOCAL INFILE '"+loadReader(t, "1,x\n2,y\n")+"' INTO TABLE notes FIELDS TERMINATED BY ','")
	if got := queryStrings(t, plain, "SELECT * FROM notes ORDER BY id"); fmt.Sprint(got) != "[[1 x] [2 y]]" {
		t.Errorf("pass-through load: %v", got)
	}
}
