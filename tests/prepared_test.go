package tests

import (
	"database/sql"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/go-mysql-org/go-mysql/mysql"
)

const allTypesTable = `CREATE TABLE alltypes (
	id INT PRIMARY KEY,
	ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT, i INT, bi BIGINT, ubi BIGINT UNSIGNED,
	f FLOAT, d DOUBLE, dec1 DECIMAL(20,6),
	dt DATE, tm TIME(6), dtm DATETIME(6), ts TIMESTAMP NULL, y YEAR,
	c CHAR(5), vc VARCHAR(50), tx TEXT, bl MEDIUMBLOB, vb VARBINARY(10), bt BIT(8),
	e ENUM('a','b'), st SET('x','y'), j JSON)`

// TestPreparedStatementTypes writes and reads every column type through the
// binary protocol and compares with what the backend holds.
func TestPreparedStatementTypes(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, db, allTypesTable)
	ins, err := db.Prepare("INSERT INTO alltypes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
	if err != nil {
		t.Fatal(err)
	}
	defer ins.Close()
	rows := [][]any{
		{1, -128, 65535, -8388608, -2147483648, int64(-9223372036854775808), uint64(18446744073709551615),
			float32(1.5), 3.141592653589793, "-12345678901234.123456",
			"2024-02-29", "-838:59:59.000000", "2024-02-29 23:59:59.999999", "2038-01-19 03:14:07", 2155,
			"abc", "vär'char\\", "long text", []byte{0, 1, 2, 255}, []byte("vb"), []byte{0x81},
			"b", "x,y", `{"k": [1, 2]}`},
		{2, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{3, 0, 0, 0, 0, 0, 0, 0, 0, "0", "0000-00-00", "00:00:00", "1000-01-01 00:00:00", nil, 1901,
			"", "", "", []byte{}, []byte{}, []byte{0}, "a", "", `[]`},
	}
	for _, r := range rows {
		if _, err := ins.Exec(r...); err != nil {
			t.Fatalf("insert %v: %v", r[0], err)
		}
	}
	for _, id := range []int{1, 2, 3} {
		q := "SELECT * FROM alltypes WHERE id = ?"
		viaProxy := preparedStrings(t, db, q, id)
		viaBackend := preparedStrings(t, direct, q, id)
		if fmt.Sprint(viaProxy) != fmt.Sprint(viaBackend) || len(viaProxy) != 1 {
			t.Errorf("row %d, binary protocol:\nproxy   %v\nbackend %v", id, viaProxy, viaBackend)
		}
		textProxy := queryStrings(t, db, fmt.Sprintf("SELECT * FROM alltypes WHERE id = %d", id))
		textBackend := queryStrings(t, direct, fmt.Sprintf("SELECT * FROM alltypes WHERE id = %d", id))
		if fmt.Sprint(textProxy) != fmt.Sprint(textBackend) {
			t.Errorf("row %d, text protocol:\nproxy   %v\nbackend %v", id, textProxy, textBackend)
		}
	}
	// Long data (COM_STMT_SEND_LONG_DATA) for a big blob.
	big := make([]byte, 3<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	mustExec(t, db, "UPDATE alltypes SET bl = ? WHERE id = ?", big, 2)
	if got := queryOne(t, direct, "SELECT MD5(bl) = MD5(?) FROM alltypes WHERE id = 2", big); got != "1" {
		t.Fatal("big blob changed on its way through the proxy")
	}
}

// preparedStrings runs a prepared query and returns its rows as strings.
func preparedStrings(t *testing.T, db *sql.DB, query string, args ...any) [][]string {
	t.Helper()
	st, err := db.Prepare(query)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Query(args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return rowsToStrings(t, rows, query)
}

// TestReexecuteWithoutTypes sends COM_STMT_EXECUTE twice, the second time
// without parameter types (new-params-bound-flag 0), which the protocol
// allows; the second execute must use the first one's types, not NULLs.
func TestReexecuteWithoutTypes(t *testing.T) {
	p, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE re (id BIGINT PRIMARY KEY, v VARCHAR(10))")
	mustExec(t, db, "INSERT INTO re VALUES (7, 'seven'), (8, 'eight')")
	c, err := client.Connect(p.addr, appUser, appPassword, "ptdb")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Prepare("SELECT v FROM re WHERE id = ?")
	if err != nil {
		t.Fatal(err)
	}
	execute := func(withTypes bool, id int64) string {
		pkt := []byte{0x17}
		pkt = binary.LittleEndian.AppendUint32(pkt, st.ID)
		pkt = append(pkt, 0, 1, 0, 0, 0, 0) // flags, iterations, null bitmap
		if withTypes {
			pkt = append(pkt, 1, mysql.MYSQL_TYPE_LONGLONG, 0)
		} else {
			pkt = append(pkt, 0)
		}
		pkt = binary.LittleEndian.AppendUint64(pkt, uint64(id))
		c.ResetSequence()
		if err := c.WritePacket(append(make([]byte, 4), pkt...)); err != nil {
			t.Fatal(err)
		}
		// column count, one definition, EOF, one binary row, EOF
		var packets [][]byte
		for len(packets) < 5 {
			p, err := c.ReadPacket()
			if err != nil {
				t.Fatal(err)
			}
			if p[0] == 0xff {
				t.Fatalf("execute failed: %s", p[9:])
			}
			packets = append(packets, p)
		}
		row := packets[3] // 0x00, NULL bitmap (1 byte), length-encoded value
		if row[0] != 0 || row[1] != 0 {
			return "NULL"
		}
		return string(row[3 : 3+int(row[2])])
	}
	if got := execute(true, 7); got != "seven" {
		t.Fatalf("first execute = %q", got)
	}
	if got := execute(false, 8); got != "eight" {
		t.Fatalf("re-execute without types = %q, want eight", got)
	}
}

// On a pass-through schema too, a prepared SELECT LAST_INSERT_ID() reads
// the session's last id at each execution.
func TestPreparedLastInsertID(t *testing.T) {
	_, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	preparedLastInsertID(t, conn, "INSERT INTO ai (v) VALUES (1)")
}

// A prepared SELECT SQL_CALC_FOUND_ROWS leaves its count for FOUND_ROWS().
func TestPreparedCalcFoundRows(t *testing.T) {
	_, db, _ := passThrough(t)
	mustExec(t, db, "CREATE TABLE cf (id INT PRIMARY KEY)")
	mustExec(t, db, "INSERT INTO cf VALUES (1), (2), (3), (4)")
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.QueryContext(t.Context(), "SELECT SQL_CALC_FOUND_ROWS id FROM cf WHERE id > ? LIMIT 1", 0)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	var found int
	if err := conn.QueryRowContext(t.Context(), "SELECT FOUND_ROWS()").Scan(&found); err != nil || found != 4 {
		t.Fatalf("FOUND_ROWS() after a prepared SQL_CALC_FOUND_ROWS of 4 rows: %d (%v)", found, err)
	}
}

// TestPreparedSessionStatements: SET, transaction brackets, SHOW and their
// kin prepared (COM_STMT_PREPARE, as connectors send them with arguments,
// PDO always) run as they do on MariaDB, which prepares them too; SHOW's
// rows come in the binary protocol.
func TestPreparedSessionStatements(t *testing.T) {
	_, db, direct := passThrough(t)
	mustExec(t, direct, "CREATE TABLE prep (id INT PRIMARY KEY)")
	steps := []sessionStep{
		{"DELETE FROM prep", nil},
		{"SET @a = ?, @b = ?, @c = ?", []any{5, "x'y\\z", nil}},
		{"SELECT @a, @b, @c", nil},
		{"SET time_zone = ?", []any{"+03:00"}},
		{"SELECT @@time_zone", nil},
		{"SET SESSION max_error_count = ?", []any{int64(7)}},
		{"SELECT @@max_error_count", nil},
		{"START TRANSACTION", nil},
		{"INSERT INTO prep VALUES (1)", nil},
		{"SAVEPOINT before_two", nil},
		{"INSERT INTO prep VALUES (2)", nil},
		{"ROLLBACK TO SAVEPOINT before_two", nil},
		{"SELECT @@in_transaction", nil},
		{"COMMIT", nil},
		{"BEGIN", nil},
		{"INSERT INTO prep VALUES (3)", nil},
		{"ROLLBACK", nil},
		{"SELECT id FROM prep ORDER BY id", nil},
		{"SET autocommit = ?", []any{0}},
		{"INSERT INTO prep VALUES (4)", nil},
		{"SET autocommit = 1", nil},
		{"SELECT id, @@autocommit FROM prep ORDER BY id", nil},
		{"SET @a = ?", []any{"one", "two"}}, // too many arguments
		{"SET nosuch = ?", []any{1}},
		{"SELECT CAST('x' AS SIGNED), CAST('y' AS SIGNED) FROM prep WHERE id = 1", nil},
		{"SHOW WARNINGS", nil},
		{"SHOW COUNT(*) WARNINGS", nil},
		{"SHOW WARNINGS LIMIT 1", nil},
		{"SELECT nosuch FROM prep", nil},
		{"SHOW ERRORS", nil},
		{"SHOW COLUMNS FROM prep", nil},
		{"SHOW CREATE TABLE prep", nil},
		{"SHOW VARIABLES LIKE 'max_error_count'", nil},
		{"SHOW CREATE TABLE nosuch", nil},
	}
	clientSteps := make([]clientStep, len(steps))
	for i, st := range steps {
		clientSteps[i] = clientStep{0, st}
	}
	compareClientsBy(t, db, direct, clientSteps, answerPrepared)
	// Named by the logical schema, which MariaDB does not know.
	c, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got, err := answerPrepared(t, c, sessionStep{"SHOW TABLES", nil}); err != nil || got != `SHOW TABLES ["Tables_in_ptdb"]: [[prep]]` {
		t.Errorf("prepared SHOW TABLES: %s %v", got, err)
	}
}

// TestPreparedStringParamsAreCharacters: a string parameter is a character
// string in the connection's character set, as MariaDB takes it, also where
// the proxy inlines it into text (a statement merged from several shards, a
// prepared SET); a BLOB-typed one stays binary.
func TestPreparedStringParamsAreCharacters(t *testing.T) {
	c := newOracleCluster(t)
	s := func(sql string, args ...any) sessionStep { return sessionStep{sql, args} }
	compareSessions(t, c.proxy, c.oracle, []sessionStep{
		s("SELECT CHARSET(?), COLLATION(?), ? AS label, COUNT(*) FROM users", "x", "y", "z"),
		s("SELECT COUNT(*) FROM users WHERE name LIKE ?", "ali%"),
		s("SELECT id FROM users WHERE name = ? AND id < 100 ORDER BY id", "ALICE"),
		s("SET @v = ?", "val"),
		s("SELECT @v, CHARSET(@v)"),
		s("SELECT CHARSET(?), COUNT(*) FROM users", []byte("bytes")), // go-sql-driver sends []byte as a string too
	})
}
