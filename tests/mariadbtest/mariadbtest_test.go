package mariadbtest

import (
	"database/sql"
	"os"
	"testing"
	"time"
)

func startNodes(t *testing.T, n int) []Node {
	t.Helper()
	begin := time.Now()
	nodes, err := StartNodes(n)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := StopNodes(nodes); err != nil {
			t.Error(err)
		}
	})
	t.Logf("StartNodes(%d) took %v", n, time.Since(begin))
	return nodes
}

func openDB(t *testing.T, s *Server, database string) *sql.DB {
	t.Helper()
	db, err := s.DB(database)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustExec(t *testing.T, db *sql.DB, query string, args ...any) {
	t.Helper()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// count returns the rows of t.kv on s.
func count(t *testing.T, s *Server) int {
	t.Helper()
	var n int
	if err := openDB(t, s, "t").QueryRow("SELECT COUNT(*) FROM kv").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitCaughtUp(t *testing.T, n Node) {
	t.Helper()
	if err := n.Replica.WaitCaughtUp(n.Primary, 10*time.Second); err != nil {
		t.Fatal(err)
	}
}

func TestStartStop(t *testing.T) {
	begin := time.Now()
	s, err := Start(Options{Args: []string{"--max-allowed-packet=32M"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Start took %v", time.Since(begin))
	var packet int
	var binlog, format, charset string
	err = openDB(t, s, "").QueryRow("SELECT @@max_allowed_packet, @@log_bin, @@binlog_format, @@character_set_server").
		Scan(&packet, &binlog, &format, &charset)
	if err != nil {
		t.Fatal(err)
	}
	if packet != 32<<20 || binlog != "1" || format != "ROW" || charset != "utf8mb4" {
		t.Errorf("got max_allowed_packet=%d log_bin=%s binlog_format=%s charset=%s", packet, binlog, format, charset)
	}
	begin = time.Now()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Stop took %v", time.Since(begin))
	if err := s.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("dir %s still there: %v", s.Dir, err)
	}
	if err := s.Restart(); err == nil {
		t.Error("Restart after Stop succeeded")
	}
}

func TestReplicationAndFaults(t *testing.T) {
	nodes := startNodes(t, 2)
	if nodes[0].Primary.ServerID == nodes[1].Primary.ServerID {
		t.Fatal("duplicate server_id")
	}
	n := nodes[0]
	primary := openDB(t, n.Primary, "")
	mustExec(t, primary, "CREATE DATABASE t; CREATE TABLE t.kv (k INT PRIMARY KEY, v VARCHAR(20))")
	mustExec(t, primary, "INSERT INTO t.kv VALUES (1, 'one')")
	waitCaughtUp(t, n)
	var v string
	if err := openDB(t, n.Replica, "t").QueryRow("SELECT v FROM kv WHERE k = 1").Scan(&v); err != nil || v != "one" {
		t.Fatalf("replica read: %q, %v", v, err)
	}

	t.Run("KillRestartPrimary", func(t *testing.T) {
		if err := n.Primary.Kill(); err != nil {
			t.Fatal(err)
		}
		begin := time.Now()
		if err := n.Primary.Restart(); err != nil {
			t.Fatal(err)
		}
		t.Logf("Restart after Kill took %v", time.Since(begin))
		mustExec(t, openDB(t, n.Primary, "t"), "INSERT INTO kv VALUES (2, 'two')")
		waitCaughtUp(t, n) // the replica reconnects by itself
		if got := count(t, n.Replica); got != 2 {
			t.Fatalf("replica has %d rows, want 2", got)
		}
	})

	t.Run("ShutdownRestartReplica", func(t *testing.T) {
		if err := n.Replica.Shutdown(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, openDB(t, n.Primary, "t"), "INSERT INTO kv VALUES (3, 'three')")
		if err := n.Replica.Restart(); err != nil {
			t.Fatal(err)
		}
		waitCaughtUp(t, n)
		if got := count(t, n.Replica); got != 3 {
			t.Fatalf("replica has %d rows, want 3", got)
		}
	})

	t.Run("StopStartReplication", func(t *testing.T) {
		if err := n.Replica.StopReplication(); err != nil {
			t.Fatal(err)
		}
		mustExec(t, openDB(t, n.Primary, "t"), "INSERT INTO kv VALUES (4, 'four')")
		if err := n.Replica.WaitCaughtUp(n.Primary, 200*time.Millisecond); err == nil {
			t.Fatal("caught up with replication stopped")
		}
		if err := n.Replica.StartReplication(); err != nil {
			t.Fatal(err)
		}
		waitCaughtUp(t, n)
		if got := count(t, n.Replica); got != 4 {
			t.Fatalf("replica has %d rows, want 4", got)
		}
	})
}
