package proxy

import (
	"strings"
	"testing"
	"time"

	"github.com/shardproxy/shardproxy/metrics"
)

func TestStatementKind(t *testing.T) {
	cases := []struct{ text, kind string }{
		{"SELECT 1", metrics.KindSelect},
		{"  select * from t", metrics.KindSelect},
		{"/* shardproxy:primary */ SELECT v FROM kv", metrics.KindSelect},
		{"-- note\nSELECT 1", metrics.KindSelect},
		{"# note\n\tUPDATE t SET a = 1", metrics.KindUpdate},
		{"(SELECT 1) UNION (SELECT 2)", metrics.KindSelect},
		{"WITH x AS (SELECT 1) SELECT * FROM x", metrics.KindSelect},
		{"/*!40101 SET NAMES utf8mb4 */", metrics.KindSet},
		{"insert into t values (1)", metrics.KindInsert},
		{"REPLACE INTO t VALUES (1)", metrics.KindInsert},
		{"LOAD DATA LOCAL INFILE 'x' INTO TABLE t", metrics.KindInsert},
		{"DELETE FROM t", metrics.KindDelete},
		{"CREATE TABLE t (id INT)", metrics.KindDDL},
		{"ALTER TABLE t ADD c INT", metrics.KindDDL},
		{"truncate t", metrics.KindDDL},
		{"SET autocommit = 0", metrics.KindSet},
		{"BEGIN", metrics.KindTx},
		{"START TRANSACTION", metrics.KindTx},
		{"COMMIT", metrics.KindTx},
		{"rollback", metrics.KindTx},
		{"SHOW TABLES", metrics.KindShow},
		{"DESCRIBE t", metrics.KindShow},
		{"USE shop", metrics.KindOther},
		{"KILL 5", metrics.KindOther},
		{"", metrics.KindOther},
		{"/* never closed", metrics.KindOther},
		{"-- only a comment", metrics.KindOther},
		{"SELECTED", metrics.KindOther},
	}
	for _, c := range cases {
		if got := statementKind(c.text); got != c.kind {
			t.Errorf("statementKind(%q) = %s, want %s", c.text, got, c.kind)
		}
		if got := statementKind([]byte(c.text)); got != c.kind {
			t.Errorf("statementKind([]byte %q) = %s, want %s", c.text, got, c.kind)
		}
	}
}

func TestLoggableStatementRedactsSecrets(t *testing.T) {
	cases := []struct{ text, want string }{
		{"SELECT 1", "SELECT 1"},
		{"CREATE USER 'bob'@'%' IDENTIFIED BY 'hunter2'", "CREATE USER 'bob'@'%' IDENTIFIED <redacted>"},
		{"ALTER USER bob IDENTIFIED VIA mysql_native_password USING PASSWORD('hunter2')", "ALTER USER bob IDENTIFIED <redacted>"},
		{"SET PASSWORD FOR bob = PASSWORD('hunter2')", "SET PASSWORD <redacted>"},
		{"GRANT ALL ON *.* TO bob IDENTIFIED BY 'hunter2'", "GRANT ALL ON *.* TO bob IDENTIFIED <redacted>"},
		{"CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD='hunter2'", "CHANGE MASTER TO MASTER_HOST='h', MASTER_PASSWORD <redacted>"},
		{"SELECT AES_ENCRYPT('data', 'hunter2')", "SELECT AES_ENCRYPT <redacted>"},
	}
	for _, c := range cases {
		got := loggableStatement(c.text)
		if got != c.want {
			t.Errorf("loggableStatement(%q) = %q, want %q", c.text, got, c.want)
		}
		if strings.Contains(got, "hunter2") {
			t.Errorf("loggableStatement(%q) keeps the secret", c.text)
		}
	}
}

func TestLoggableStatementTruncates(t *testing.T) {
	long := "SELECT '" + strings.Repeat("é", 2000) + "'"
	got := loggableStatement(long)
	if len(got) > maxLoggedStatement+40 {
		t.Fatalf("logged %d bytes of a %d-byte statement", len(got), len(long))
	}
	if !strings.HasPrefix(got, "SELECT 'é") || !strings.Contains(got, "(4009 bytes)") {
		t.Fatalf("truncated statement %q", got[len(got)-40:])
	}
	if !strings.Contains(got, "é...") {
		t.Fatalf("cut inside a character: %q", got[len(got)-40:])
	}
	secret := strings.Repeat("x", 2000) + " IDENTIFIED BY 'hunter2'"
	if got := loggableStatement(secret); strings.Contains(got, "hunter2") || !strings.HasSuffix(got, "<redacted>") {
		t.Fatalf("long statement with a secret logged as %q", got[len(got)-60:])
	}
}

func TestIdleTimeoutFollowsWaitTimeout(t *testing.T) {
	s := &Session{}
	if got := s.idleTimeout(); got != defaultWaitTimeout {
		t.Fatalf("default idle timeout %s", got)
	}
	s.state.Set("@@wait_timeout", "3")
	if got := s.idleTimeout(); got.Seconds() != 3 {
		t.Fatalf("wait_timeout 3: idle timeout %s", got)
	}
	s.state.Set("@@wait_timeout", "0")
	if got := s.idleTimeout(); got != defaultWaitTimeout {
		t.Fatalf("wait_timeout 0: idle timeout %s", got)
	}
}

// BenchmarkStatementAccounting is what every statement pays for metrics:
// classification, the collectors' lookup and one observation.
func BenchmarkStatementAccounting(b *testing.B) {
	m := metrics.New()
	q := []byte("/* app */ SELECT name FROM users WHERE id = 42")
	b.ReportAllocs()
	for b.Loop() {
		m.Statement(statementKind(q), routeLabel(routeSingle)).Observe(150 * time.Microsecond)
	}
}
