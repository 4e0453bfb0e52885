package tests

import "testing"

// runPHP runs testdata/php_steps.php (php-cli with php-mysql) and returns
// what PDO and mysqli saw.
var runPHP = scriptProgram("php", "php_steps.php")

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
