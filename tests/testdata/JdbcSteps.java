import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

// Prints what a JDBC client (MariaDB Connector/J) sees for a series of
// steps, in three connection modes, so that the output through the proxy
// can be compared with MariaDB's (tests/jdbc_test.go). Run it as
// java -cp mariadb-java-client.jar JdbcSteps.java 'jdbc:mariadb://host:port/db?user=u&password=p'.
public class JdbcSteps {
    static void p(String s) { System.out.println(s); }

    static String rs(ResultSet r) throws SQLException {
        StringBuilder b = new StringBuilder();
        ResultSetMetaData m = r.getMetaData();
        int n = m.getColumnCount();
        b.append("[");
        for (int i = 1; i <= n; i++) {
            b.append(m.getColumnLabel(i)).append(":").append(m.getColumnTypeName(i)).append("/").append(m.getColumnType(i))
             .append("/").append(m.getPrecision(i)).append("/").append(m.getScale(i)).append("/").append(m.isNullable(i))
             .append("/").append(m.isAutoIncrement(i) ? "ai" : "").append("/").append(m.getTableName(i)).append(" ");
        }
        b.append("]");
        while (r.next()) {
            b.append(" (");
            for (int i = 1; i <= n; i++) {
                Object o = r.getObject(i);
                if (o instanceof byte[]) o = "bytes" + Arrays.toString((byte[]) o);
                b.append(o == null ? "NULL" : o.getClass().getSimpleName() + "=" + o).append(i < n ? "," : "");
            }
            b.append(")");
        }
        return b.toString();
    }

    static void q(Connection c, String sql) {
        try (Statement s = c.createStatement()) {
            boolean isRs = s.execute(sql);
            StringBuilder b = new StringBuilder(sql + " ->");
            while (true) {
                if (isRs) {
                    try (ResultSet r = s.getResultSet()) { b.append(" rs").append(rs(r)); }
                } else {
                    int uc = s.getUpdateCount();
                    if (uc == -1) break;
                    b.append(" uc=").append(uc);
                }
                isRs = s.getMoreResults();
            }
            SQLWarning w = s.getWarnings();
            for (; w != null; w = w.getNextWarning()) b.append(" warn ").append(w.getErrorCode()).append(" ").append(w.getMessage());
            p(b.toString());
        } catch (SQLException e) {
            p(sql + " -> error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage());
        }
    }

    interface Step { void run() throws Exception; }

    static void step(String name, Step s) {
        try { s.run(); } catch (Exception e) {
            String msg = e.getMessage();
            if (e instanceof SQLException) msg = ((SQLException) e).getErrorCode() + " " + ((SQLException) e).getSQLState() + " " + msg;
            p(name + " -> exception " + e.getClass().getSimpleName() + " " + msg);
        }
    }

    public static void main(String[] a) throws Exception {
        String base = a[0]; // jdbc:mariadb://host:port/db?user=..&password=..
        String[] modes = {"", "&useServerPrepStmts=true", "&rewriteBatchedStatements=true&allowMultiQueries=true"};
        for (String mode : modes) {
            p("=== mode " + mode);
            try (Connection c = DriverManager.getConnection(base + mode)) {
                run(c);
            }
        }
    }

    static void run(Connection c) throws Exception {
        p("catalog " + c.getCatalog() + " autocommit " + c.getAutoCommit() + " isolation " + c.getTransactionIsolation() + " valid " + c.isValid(2));
        q(c, "DROP TABLE IF EXISTS jt");
        q(c, "DROP PROCEDURE IF EXISTS jp");
        q(c, "CREATE TABLE jt (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL, amount DECIMAL(10,2), born DATE, at DATETIME(3), flag BOOLEAN, data BLOB, f DOUBLE, UNIQUE KEY (name))");
        q(c, "CREATE PROCEDURE jp(IN x INT, OUT y INT) BEGIN SET y = x * 2; SELECT x AS echoed; END");
        DatabaseMetaData md = c.getMetaData();
        step("meta", () -> {
            p("product " + md.getDatabaseProductName() + " major " + md.getDatabaseMajorVersion());
            try (ResultSet r = md.getTables(c.getCatalog(), null, "jt", null)) { p("getTables " + rs(r)); }
            try (ResultSet r = md.getColumns(c.getCatalog(), null, "jt", "%")) { p("getColumns " + rs(r)); }
            try (ResultSet r = md.getPrimaryKeys(c.getCatalog(), null, "jt")) { p("getPrimaryKeys " + rs(r)); }
            try (ResultSet r = md.getIndexInfo(c.getCatalog(), null, "jt", false, false)) { p("getIndexInfo " + rs(r)); }
            try (ResultSet r = md.getProcedures(c.getCatalog(), null, "jp")) { p("getProcedures " + rs(r)); }
        });
        step("insert keys", () -> {
            try (Statement s = c.createStatement()) {
                int n = s.executeUpdate("INSERT INTO jt (name, amount) VALUES ('a', 1.5), ('b', 2.25)", Statement.RETURN_GENERATED_KEYS);
                try (ResultSet r = s.getGeneratedKeys()) { p("insert " + n + " keys " + rs(r)); }
            }
        });
        step("prepared types", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jt (name, amount, born, at, flag, data, f) VALUES (?, ?, ?, ?, ?, ?, ?)", Statement.RETURN_GENERATED_KEYS)) {
                ps.setString(1, "c\u00e9");
                ps.setBigDecimal(2, new BigDecimal("12345678.91"));
                ps.setDate(3, java.sql.Date.valueOf("2020-02-29"));
                ps.setTimestamp(4, Timestamp.valueOf("2021-03-04 05:06:07.891"));
                ps.setBoolean(5, true);
                ps.setBytes(6, new byte[]{0, 1, 2, (byte) 255});
                ps.setDouble(7, 3.25);
                p("prepared insert " + ps.executeUpdate());
                try (ResultSet r = ps.getGeneratedKeys()) { p("keys " + rs(r)); }
                ps.setString(1, "d");
                ps.setNull(2, Types.DECIMAL);
                ps.setNull(3, Types.DATE);
                ps.setNull(4, Types.TIMESTAMP);
                ps.setNull(5, Types.BOOLEAN);
                ps.setNull(6, Types.BLOB);
                ps.setNull(7, Types.DOUBLE);
                p("prepared insert nulls " + ps.executeUpdate());
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM jt WHERE id >= ? ORDER BY id")) {
                ps.setInt(1, 1);
                try (ResultSet r = ps.executeQuery()) { p("select " + rs(r)); }
                ParameterMetaData pm = ps.getParameterMetaData();
                p("param count " + pm.getParameterCount());
            }
        });
        step("batch", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jt (name) VALUES (?)", Statement.RETURN_GENERATED_KEYS)) {
                for (String n : new String[]{"e", "f", "g"}) { ps.setString(1, n); ps.addBatch(); }
                p("batch " + Arrays.toString(ps.executeBatch()));
                try (ResultSet r = ps.getGeneratedKeys()) { p("batch keys " + rs(r)); }
            }
            try (Statement s = c.createStatement()) {
                s.addBatch("UPDATE jt SET f = 1 WHERE name = 'e'");
                s.addBatch("DELETE FROM jt WHERE name = 'zzz'");
                p("stmt batch " + Arrays.toString(s.executeBatch()));
            }
        });
        step("batch error", () -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jt (name) VALUES (?)")) {
                for (String n : new String[]{"h", "a", "i"}) { ps.setString(1, n); ps.addBatch(); }
                ps.executeBatch();
            } catch (BatchUpdateException e) {
                p("batch error " + e.getErrorCode() + " " + e.getSQLState() + " counts " + Arrays.toString(e.getUpdateCounts()));
            }
        });
        q(c, "SELECT id, name FROM jt ORDER BY id");
        step("transaction", () -> {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO jt (name) VALUES ('tx1')");
                c.rollback();
                s.executeUpdate("INSERT INTO jt (name) VALUES ('tx2')");
                c.commit();
            }
            c.setAutoCommit(true);
            q(c, "SELECT name FROM jt WHERE name LIKE 'tx%'");
            c.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            p("isolation " + c.getTransactionIsolation());
            q(c, "SELECT @@tx_isolation");
            c.setReadOnly(true);
            q(c, "SELECT @@session.tx_read_only");
            c.setReadOnly(false);
            Savepoint sp;
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO jt (name) VALUES ('sp1')");
                sp = c.setSavepoint("s1");
                s.executeUpdate("INSERT INTO jt (name) VALUES ('sp2')");
                c.rollback(sp);
                c.commit();
            }
            c.setAutoCommit(true);
            q(c, "SELECT name FROM jt WHERE name LIKE 'sp%'");
        });
        step("errors", () -> {
            q(c, "INSERT INTO jt (name) VALUES ('a')");
            q(c, "SELEC 1");
            q(c, "SELECT * FROM nosuch");
            try (PreparedStatement ps = c.prepareStatement("SELECT * FROM nosuch WHERE id = ?")) {
                ps.setInt(1, 1);
                ps.executeQuery();
            } catch (SQLException e) { p("prepared error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getMessage()); }
        });
        step("warnings", () -> {
            q(c, "INSERT INTO jt (name, amount) VALUES ('w', 1.234)");
            q(c, "SHOW WARNINGS");
        });
        step("callable", () -> {
            try (CallableStatement cs = c.prepareCall("{call jp(?, ?)}")) {
                cs.setInt(1, 21);
                cs.registerOutParameter(2, Types.INTEGER);
                boolean isRs = cs.execute();
                if (isRs) try (ResultSet r = cs.getResultSet()) { p("call rs " + rs(r)); }
                p("out " + cs.getInt(2));
            }
        });
        step("streaming", () -> {
            try (Statement s = c.createStatement()) {
                s.setFetchSize(Integer.MIN_VALUE);
                try (ResultSet r = s.executeQuery("SELECT seq FROM seq_1_to_5000")) {
                    long sum = 0; int n = 0;
                    while (r.next() && n < 10) { sum += r.getLong(1); n++; }
                    p("streamed first " + n + " sum " + sum);
                    q(c, "SELECT COUNT(*) FROM jt");
                }
            }
            try (Statement s = c.createStatement()) {
                s.setFetchSize(100);
                try (ResultSet r = s.executeQuery("SELECT seq FROM seq_1_to_5000")) {
                    long sum = 0;
                    while (r.next()) sum += r.getLong(1);
                    p("fetch 100 sum " + sum);
                }
            }
        });
        step("timeout", () -> {
            try (Statement s = c.createStatement()) {
                s.setQueryTimeout(1);
                try (ResultSet r = s.executeQuery("SELECT SLEEP(3)")) { p("timeout " + rs(r)); }
            } catch (SQLException e) { p("timeout error " + e.getErrorCode() + " " + e.getSQLState() + " " + e.getClass().getSimpleName()); }
            q(c, "SELECT 1");
        });
        step("max rows", () -> {
            try (Statement s = c.createStatement()) {
                s.setMaxRows(2);
                try (ResultSet r = s.executeQuery("SELECT id FROM jt ORDER BY id")) { p("maxrows " + rs(r)); }
            }
            q(c, "SELECT COUNT(*) FROM jt");
        });
        step("scroll", () -> {
            try (Statement s = c.createStatement(ResultSet.TYPE_SCROLL_INSENSITIVE, ResultSet.CONCUR_READ_ONLY)) {
                try (ResultSet r = s.executeQuery("SELECT name FROM jt ORDER BY id")) {
                    r.last(); p("last row " + r.getRow() + " " + r.getString(1));
                }
            }
        });
        step("schema switch", () -> {
            String cat = c.getCatalog();
            q(c, "SELECT DATABASE()");
            c.setCatalog(cat);
            p("catalog " + c.getCatalog());
        });
        step("client info", () -> {
            p("network timeout " + c.getNetworkTimeout());
            c.setClientInfo("ApplicationName", "x");
            q(c, "SELECT @@character_set_client, @@character_set_results, @@collation_connection, @@time_zone, @@sql_mode");
        });
        step("users", () -> {
            // The sharded test's users table, when there is one: statements
            // merged from several shards, in both protocols.
            try (ResultSet r = md.getTables(c.getCatalog(), null, "users", null)) {
                if (!r.next()) return;
            }
            q(c, "SELECT id, name, score, born FROM users WHERE id <= 8 ORDER BY id");
            q(c, "SELECT country_id, COUNT(*), SUM(score), AVG(age), MAX(born) FROM users GROUP BY country_id ORDER BY 1");
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, score, born, ? AS tag FROM users WHERE id BETWEEN ? AND ? ORDER BY score DESC, id LIMIT 5")) {
                ps.setString(1, "t");
                ps.setInt(2, 10);
                ps.setLong(3, 60);
                try (ResultSet r = ps.executeQuery()) { p("prepared scatter " + rs(r)); }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT country_id, COUNT(*) AS n, SUM(age) FROM users WHERE name LIKE ? GROUP BY country_id ORDER BY n DESC, country_id")) {
                ps.setString(1, "a%");
                try (ResultSet r = ps.executeQuery()) { p("prepared group " + rs(r)); }
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE users SET age = age WHERE id IN (?, ?, ?)")) {
                ps.setInt(1, 1); ps.setInt(2, 2); ps.setInt(3, 3);
                p("prepared scatter update " + ps.executeUpdate());
            }
            // Rows of several shards come back in VALUES order (Hibernate
            // 6 inserts so on MariaDB 10.5+).
            q(c, "INSERT INTO users (id, name, score) VALUES (3003, 'r3', 1.5), (3001, 'r1', NULL), (3002, 'r2', 2) RETURNING id, name, score * 2 AS s");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO users (id, name) VALUES (?, ?), (?, ?) RETURNING id, name")) {
                ps.setInt(1, 3012); ps.setString(2, "p2"); ps.setInt(3, 3011); ps.setString(4, "p1");
                try (ResultSet r = ps.executeQuery()) { p("prepared returning " + rs(r)); }
            }
            q(c, "DELETE FROM users WHERE id = 3011 RETURNING id, name");
            q(c, "DELETE FROM users WHERE id > 3000");
        });
        q(c, "DROP PROCEDURE jp");
        q(c, "DROP TABLE jt");
    }
}
