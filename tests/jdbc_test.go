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

// runJDBC runs testdata/JdbcSteps.java against url and returns what the
// client saw, connection ids masked.
func runJDBC(t *testing.T, url string) string {
	t.Helper()
	if _, err := os.Stat(connectorJ); err != nil {
		t.Fatalf("MariaDB Connector/J is missing (run scripts/ensure-deps.sh): %v", err)
	}
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
// errors, warnings, OUT parameters, streamed results, query timeouts. On a
// pass-through schema, and on a sharded one for tables of its default shard.
func TestJDBCMatchesMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Run("pass-through", func(t *testing.T) {
		p, _, direct := passThrough(t)
		physical := queryOne(t, direct, "SELECT DATABASE()")
		got := runJDBC(t, "jdbc:mariadb://"+p.addr+"/ptdb?user="+appUser+"&password="+appPassword)
		want := runJDBC(t, "jdbc:mariadb://"+nodes[0].Primary.Addr+"/"+physical+"?user=root&password=")
		// Backend messages keep the physical names (docs/behaviour.md).
		compareTranscripts(t, strings.ReplaceAll(got, physical, "ptdb"), strings.ReplaceAll(want, physical, "ptdb"))
	})
	t.Run("sharded", func(t *testing.T) {
		c := newOracleCluster(t)
		got := runJDBC(t, "jdbc:mariadb://"+c.proxyAddr+"/scat?user="+appUser+"&password="+appPassword)
		want := runJDBC(t, "jdbc:mariadb://"+nodes[0].Primary.Addr+"/"+c.oracleName+"?user=root&password=")
		defaultShard := strings.TrimSuffix(c.oracleName, "oracle") + "0" // shardsOn names shard 0 so
		compareTranscripts(t, strings.ReplaceAll(got, defaultShard, "scat"), strings.ReplaceAll(want, c.oracleName, "scat"))
	})
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
