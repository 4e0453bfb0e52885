package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// driverSkips are go-sql-driver tests that cannot pass on this machine in
// either setup: a connect timeout to an unroutable address (no network here).
const driverSkips = "TestConnectorReturnsTimeout"

var resultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// runDriverSuite runs go-sql-driver/mysql's own tests against addr and
// returns the names of failed and passed tests.
func runDriverSuite(t *testing.T, user, password, addr, dbname string) (failed, passed []string) {
	t.Helper()
	cmd := exec.Command("go", "test", "-count=1", "-v", "-timeout=10m", "-skip", driverSkips, "github.com/go-sql-driver/mysql")
	cmd.Env = append(os.Environ(),
		"MYSQL_TEST_USER="+user, "MYSQL_TEST_PASS="+password, "MYSQL_TEST_PROT=tcp",
		"MYSQL_TEST_ADDR="+addr, "MYSQL_TEST_DBNAME="+dbname, "MYSQL_TEST_CONCURRENT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	_ = cmd.Run() // failures are counted from the output
	if dir := os.Getenv("SHARDPROXY_COMPAT_OUT"); dir != "" {
		_ = os.WriteFile(fmt.Sprintf("%s/%s.txt", dir, strings.ReplaceAll(user, "/", "_")), out.Bytes(), 0o644)
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		m := resultLine.FindStringSubmatch(sc.Text())
		if m == nil || strings.Contains(m[2], "/") {
			continue
		}
		switch m[1] {
		case "FAIL":
			failed = append(failed, m[2])
		case "PASS":
			passed = append(passed, m[2])
		}
	}
	if len(passed) == 0 {
		t.Fatalf("driver suite against %s ran no test:\n%s", addr, out.String())
	}
	t.Logf("driver suite against %s: %d passed, %d failed in %s", addr, len(passed), len(failed), time.Since(start).Round(time.Second))
	sort.Strings(failed)
	return failed, passed
}

// TestDriverCompat: go-sql-driver's test suite passes through the proxy with
// no more failures than against MariaDB directly.
func TestDriverCompat(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	cfg := baseConfig()
	physical := passThroughSchema(cfg, "gotest")
	p := startProxy(t, cfg)
	if _, err := p.open(t, "gotest").Exec("SELECT 1"); err != nil {
		t.Fatal(err)
	}
	directFailed, _ := runDriverSuite(t, "root", "", nodes[0].Primary.Addr, physical)
	compareDriverRuns(t, directFailed, p.addr, "gotest", nil)
}

// shardedRefusals are driver tests that use what a sharded schema refuses
// with 1235 (docs/behaviour.md), each with the reason.
var shardedRefusals = map[string]string{
	"TestInsertRetrieveEscapedData": "sql_mode NO_BACKSLASH_ESCAPES",
	"TestSQLInjection":              "sql_mode NO_BACKSLASH_ESCAPES",
	"TestMultiResultSet":            "CREATE PROCEDURE the SQL parser does not know, after DROP PROCEDURE in one text",
	"TestErrorInMultiResult":        "CREATE PROCEDURE with SIGNAL, which the SQL parser does not know",
	"TestInterruptBySignal":         "CREATE PROCEDURE the SQL parser does not know, after DROP PROCEDURE in one text",
}

// TestDriverCompatSharded: the same suite on a sharded schema, where its
// tables live on the default shard: every statement is parsed, routed and
// restored by the proxy rather than passed through.
func TestDriverCompatSharded(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	c := newOracleCluster(t)
	directFailed, _ := runDriverSuite(t, "root", "", nodes[0].Primary.Addr, c.oracleName)
	compareDriverRuns(t, directFailed, c.proxyAddr, "scat", shardedRefusals)
}

// compareDriverRuns runs the suite through the proxy at addr and reports
// the tests that fail there but not directly, beyond the refusals expected.
func compareDriverRuns(t *testing.T, directFailed []string, addr, schema string, refused map[string]string) {
	t.Helper()
	proxyFailed, _ := runDriverSuite(t, appUser, appPassword, addr, schema)
	direct := map[string]bool{}
	for _, name := range directFailed {
		direct[name] = true
	}
	var extra []string
	for _, name := range proxyFailed {
		if !direct[name] && refused[name] == "" {
			extra = append(extra, name)
		}
	}
	t.Logf("failed directly: %v", directFailed)
	t.Logf("failed through the proxy: %v", proxyFailed)
	if len(extra) > 0 {
		t.Errorf("%d driver tests fail only through the proxy: %s", len(extra), fmt.Sprint(extra))
	}
}
