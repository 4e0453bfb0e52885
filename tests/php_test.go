package tests

import (
	"bytes"
	"net"
	"os/exec"
	"strings"
	"testing"
)

// runPHP runs testdata/php_steps.php against addr and database and returns
// what PDO and mysqli saw.
func runPHP(t *testing.T, addr, user, password, database string) string {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.CommandContext(t.Context(), "php", "testdata/php_steps.php", host, port, user, password, database)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("php against %s (scripts/ensure-deps.sh installs php-cli and php-mysql): %v\n%s", addr, err, out.String())
	}
	return out.String()
}

// TestPHPMatchesMariaDB: PHP's mysqlnd clients (PDO with prepares emulated
// and not, mysqli with multi-queries and change_user) see through the proxy
// what they see on MariaDB: column metadata, values by type, insert ids,
// affected rows, errors, warnings, transactions, unbuffered reads. On a
// pass-through schema, and on a sharded one for tables of its default shard.
func TestPHPMatchesMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	t.Run("pass-through", func(t *testing.T) {
		p, _, direct := passThrough(t)
		physical := queryOne(t, direct, "SELECT DATABASE()")
		got := runPHP(t, p.addr, appUser, appPassword, "ptdb")
		want := runPHP(t, nodes[0].Primary.Addr, "root", "", physical)
		// Backend messages keep the physical names (docs/behaviour.md).
		compareTranscripts(t, strings.ReplaceAll(got, physical, "ptdb"), strings.ReplaceAll(want, physical, "ptdb"))
	})
	t.Run("sharded", func(t *testing.T) {
		c := newOracleCluster(t)
		got := runPHP(t, c.proxyAddr, appUser, appPassword, "scat")
		want := runPHP(t, nodes[0].Primary.Addr, "root", "", c.oracleName)
		defaultShard := strings.TrimSuffix(c.oracleName, "oracle") + "0" // shardsOn names shard 0 so
		compareTranscripts(t, strings.ReplaceAll(got, defaultShard, "scat"), strings.ReplaceAll(want, c.oracleName, "scat"))
	})
}
