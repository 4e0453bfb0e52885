package tests

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// connectorJ is Debian's MariaDB Connector/J (libmariadb-java, installed by
// scripts/ensure-deps.sh).
const connectorJ = "/usr/share/java/mariadb-java-client.jar"

// connIDs are the connection ids Connector/J puts in its error messages.
var connIDs = regexp.MustCompile(`\(conn=\d+\)`)

// runJDBC runs testdata/JdbcSteps.java against database at addr and
// returns what the client saw, connection ids masked.
func runJDBC(t *testing.T, addr, user, password, database string) string {
	t.Helper()
	if _, err := os.Stat(connectorJ); err != nil {
		t.Fatalf("MariaDB Connector/J is missing (run scripts/ensure-deps.sh): %v", err)
	}
	url := "jdbc:mariadb://" + addr + "/" + database + "?user=" + user + "&password=" + password
	var out bytes.Buffer
	cmd := exec.CommandContext(t.Context(), "java", "-cp", connectorJ, "testdata/JdbcSteps.java", url)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("java against %s: %v\n%s", url, err, out.String())
	}
	return connIDs.ReplaceAllString(out.String(), "(conn=N)")
}

// TestJDBCMatchesMariaDB: a JDBC client (MariaDB Connector/J, in its
// default mode, with server-side prepares, and with rewritten batches and
// multi-queries) sees through the proxy what it sees on MariaDB: metadata,
// generated keys, batches, typed values, transactions and savepoints,
// errors, warnings, OUT parameters, streamed results, query timeouts.
func TestJDBCMatchesMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	compareClientPrograms(t, runJDBC)
}

// compareClientPrograms runs a client program (run prints what it saw)
// through the proxy and on MariaDB, on a pass-through schema and on a
// sharded one (tables of its default shard and the sharded users table),
// and compares the transcripts. Backend messages keep the physical names
// (docs/behaviour.md); both transcripts then name the schema logically.
func compareClientPrograms(t *testing.T, run clientProgram) {
	t.Run("pass-through", func(t *testing.T) { compareOnPassThrough(t, run) })
	t.Run("sharded", func(t *testing.T) {
		c := newOracleCluster(t)
		got := run(t, c.proxyAddr, appUser, appPassword, "scat")
		want := run(t, nodes[0].Primary.Addr, "root", "", c.oracleName)
		defaultShard := strings.TrimSuffix(c.oracleName, "oracle") + "0" // shardsOn names shard 0 so
		compareTranscripts(t, strings.ReplaceAll(got, defaultShard, "scat"), strings.ReplaceAll(want, c.oracleName, "scat"))
	})
}

// clientProgram runs a client program against database at addr and
// returns what it printed.
type clientProgram func(t *testing.T, addr, user, password, database string) string

// compareOnPassThrough compares a client program's transcripts through
// the proxy on a pass-through schema and on MariaDB.
func compareOnPassThrough(t *testing.T, run clientProgram) {
	p, _, direct := passThrough(t)
	physical := queryOne(t, direct, "SELECT DATABASE()")
	got := run(t, p.addr, appUser, appPassword, "ptdb")
	want := run(t, nodes[0].Primary.Addr, "root", "", physical)
	compareTranscripts(t, strings.ReplaceAll(got, physical, "ptdb"), strings.ReplaceAll(want, physical, "ptdb"))
}

// compareTranscripts reports the lines where two clients' views differ.
func compareTranscripts(t *testing.T, got, want string) {
	t.Helper()
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	if len(g) != len(w) {
		t.Errorf("through the proxy %d lines, on MariaDB %d:\n%s\n---\n%s", len(g), len(w), got, want)
		return
	}
	for i := range g {
		if g[i] != w[i] {
			t.Errorf("line %d\nthrough the proxy: %s\non MariaDB:        %s", i+1, g[i], w[i])
		}
	}
}
