package tests

import (
	"bytes"
	"net"
	"os/exec"
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
// affected rows, errors, warnings, transactions, unbuffered reads, rows
// merged from several shards.
func TestPHPMatchesMariaDB(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	compareClientPrograms(t, runPHP)
}
