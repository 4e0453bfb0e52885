package main

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
)

// A report as sysbench 1.0.20 prints it (oltp_read_write, 8 threads).
const okReport = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Running the test with following options:
Number of threads: 8
Initializing random number generator from current time

Initializing worker threads...

Threads started!

SQL statistics:
    queries performed:
        read:                            35420
        write:                           10120
        other:                           5060
        total:                           50600
    transactions:                        2530   (842.64 per sec.)
    queries:                             50600  (16852.80 per sec.)
    ignored errors:                      3      (1.00 per sec.)
    reconnects:                          0      (0.00 per sec.)

General statistics:
    total time:                          3.0021s
    total number of events:              2530

Latency (ms):
         min:                                    2.31
         avg:                                    9.48
         max:                                   40.12
         95th percentile:                       17.32
         sum:                                23987.21
`

const refusedReport = `sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

Threads started!

FATAL: mysql_stmt_execute() returned error 1235 (this SELECT reaches 4 shards and merging their rows is not supported yet; add the shard key to the WHERE clause) for query 'SELECT c FROM sbtest3 WHERE id BETWEEN ? AND ?'
FATAL: ` + "`thread_run'" + ` function failed: /usr/share/sysbench/oltp_common.lua:432: SQL error, errno = 1235, state = '42000': this SELECT reaches 4 shards
`

func TestParseReport(t *testing.T) {
	st, err := parseReport(okReport)
	if err != nil {
		t.Fatal(err)
	}
	want := sbStats{queries: 50600, qps: 16852.80, p95ms: 17.32, ignored: 3}
	if st != want {
		t.Errorf("got %+v, want %+v", st, want)
	}
	if f := findFailure(okReport); f != nil {
		t.Errorf("failure in a good report: %v", f)
	}
}

func TestParseReportIncomplete(t *testing.T) {
	cut := okReport[:strings.Index(okReport, "Latency")]
	if _, err := parseReport(cut); err == nil || !strings.Contains(err.Error(), "95th percentile") {
		t.Errorf("no latency section: err = %v", err)
	}
	if _, err := parseReport("Threads started!\n"); err == nil {
		t.Error("empty report parsed")
	}
	zero := strings.Replace(okReport, "50600  (16852.80", "0  (0.00", 1)
	if _, err := parseReport(zero); err == nil {
		t.Error("a run of no statements parsed")
	}
}

func TestFindFailure(t *testing.T) {
	f := findFailure(refusedReport)
	if f == nil || f.errno != 1235 || !f.refused() {
		t.Fatalf("got %+v, want a 1235 refusal", f)
	}
	if !strings.HasPrefix(f.msg, "FATAL: mysql_stmt_execute() returned error 1235") {
		t.Errorf("msg = %q, want the first FATAL line", f.msg)
	}
	dup := findFailure("FATAL: mysql_drv_query() returned error 1062 (Duplicate entry '5' for key 'PRIMARY') for query 'INSERT ...'\n")
	if dup == nil || dup.errno != 1062 || dup.refused() {
		t.Errorf("got %+v, want a 1062 failure", dup)
	}
	lost := findFailure("FATAL: unable to connect to MySQL server on host '127.0.0.1', port 1, aborting...\n")
	if lost == nil || lost.errno != 0 {
		t.Errorf("got %+v, want a failure without errno", lost)
	}
}

func TestRunArgs(t *testing.T) {
	s := testSettings(t, nil)
	ep := endpoint{port: 3306, user: "u", password: "p", db: "d"}
	has := func(args []string, want string) bool {
		return strings.Contains(" "+strings.Join(args, " ")+" ", " "+want+" ")
	}

	point := runArgs(s, ep, job{workload: "oltp_point_select", threads: 8, ps: true, seconds: 10})
	for _, want := range []string{"oltp_point_select", "--threads=8", "--time=10", "--db-ps-mode=auto", "--auto_inc=off", "--mysql-port=3306", "run"} {
		if !has(point, want) {
			t.Errorf("point select args %v lack %s", point, want)
		}
	}
	if has(point, "--skip_trx=on") {
		t.Error("point selects have no transactions to skip")
	}
	rw := runArgs(s, ep, job{workload: "oltp_read_write", threads: 32, ps: false, seconds: 3})
	for _, want := range []string{"--db-ps-mode=disable", "--skip_trx=on", "--mysql-ignore-errors=1213,1020,1205,1062"} {
		if !has(rw, want) {
			t.Errorf("read_write args %v lack %s", rw, want)
		}
	}
	s.skipTrx = false
	if rw := runArgs(s, ep, job{workload: "oltp_read_write", threads: 8, seconds: 3}); has(rw, "--skip_trx=on") || strings.Contains(strings.Join(rw, " "), "ignore-errors") {
		t.Errorf("skip_trx off: %v", rw)
	}
}

func TestParseStatTicks(t *testing.T) {
	// The command name may contain spaces and parentheses.
	stat := "4242 (odd) name) S 1 4242 4242 0 -1 4194560 1234 0 0 0 1500 250 0 0 20 0 37 0 12345 1000000 2000 18446744073709551615"
	ticks, err := parseStatTicks(stat)
	if err != nil {
		t.Fatal(err)
	}
	if ticks != 1750 {
		t.Errorf("ticks = %d, want 1500+250", ticks)
	}
	if _, err := parseStatTicks("4242 (x) S 1 2"); err == nil {
		t.Error("short stat line parsed")
	}
	if _, err := cpuSeconds(os.Getpid()); err != nil {
		t.Errorf("own process: %v", err)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{9, 1, 5}, 5}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// Ratios pair the runs of one round: a slow round slows both targets and
// must not move the ratio, which a ratio of medians would let it do.
func TestRoundRatios(t *testing.T) {
	run := func(round int, qps float64) runResult { return runResult{round: round, stats: sbStats{qps: qps}} }
	proxy := &cell{runs: []runResult{run(1, 900), run(2, 450), run(3, 1000)}}
	relay := &cell{runs: []runResult{run(1, 1000), run(2, 500), run(3, 1000)}}
	rs := roundRatios(proxy, relay)
	if !slices.Equal(rs, []float64{0.9, 0.9, 1}) {
		t.Fatalf("roundRatios = %v", rs)
	}
	if got := medianRatio(rs); got != "0.90" {
		t.Errorf("medianRatio = %s, want 0.90 (a ratio of medians says %.2f)", got, median([]float64{900, 450, 1000})/median([]float64{1000, 500, 1000}))
	}
	if got := ratioRange(rs); got != "0.90-1.00" {
		t.Errorf("ratioRange = %s", got)
	}
	// A round one target missed pairs with nothing.
	partial := &cell{runs: []runResult{run(2, 400)}}
	if rs := roundRatios(partial, relay); !slices.Equal(rs, []float64{0.8}) {
		t.Errorf("partial: %v", rs)
	}
	if rs := roundRatios(&cell{fail: &sbFailure{errno: 1235}}, relay); rs != nil || medianRatio(rs) != "-" || ratioRange(rs) != "-" {
		t.Errorf("failed target: %v", rs)
	}
}

func TestSettings(t *testing.T) {
	s := testSettings(t, nil)
	if s.seconds != 10 || s.rounds != 3 || len(s.workloads) != 3 || len(s.threads) != 2 || len(s.ps) != 2 || !s.skipTrx || !s.sharded {
		t.Errorf("defaults: %+v", s)
	}
	// The defaults must fit in well under 30 minutes, set-up included.
	if est := s.estimatedSeconds(); est > 25*60 {
		t.Errorf("defaults measure for %d s", est)
	}
	q := testSettings(t, map[string]string{"BENCH_QUICK": "1", "BENCH_THREADS": "4,16"})
	if q.seconds != 3 || q.rounds != 1 || len(q.workloads) != 1 || q.workloads[0] != "oltp_point_select" {
		t.Errorf("quick: %+v", q)
	}
	if len(q.threads) != 2 || q.threads[1] != 16 {
		t.Errorf("explicit BENCH_THREADS lost in quick mode: %v", q.threads)
	}
	w := testSettings(t, map[string]string{"BENCH_WORKLOADS": "read_only", "BENCH_PS": "off"})
	if w.workloads[0] != "oltp_read_only" || len(w.ps) != 1 || w.ps[0] {
		t.Errorf("short workload name / ps off: %+v", w)
	}
	for key, bad := range map[string]string{
		"BENCH_TIME": "0", "BENCH_THREADS": "8 x", "BENCH_WORKLOADS": "oltp_insert",
		"BENCH_PS": "maybe", "BENCH_SKIP_TRX": "sometimes", "BENCH_WARMUP": "-1",
	} {
		if _, err := loadSettings(envOf(map[string]string{key: bad})); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%q: err = %v, want one naming the variable", key, bad, err)
		}
	}
}

// The generated proxy configuration must pass the proxy's own validation.
func TestProxyConfigValidates(t *testing.T) {
	for _, nodes := range [][]string{nil, {"127.0.0.1:3309", "127.0.0.1:3310"}} {
		path := filepath.Join(t.TempDir(), "shardproxy.yaml")
		yaml := proxyConfig(6033, 6034, "127.0.0.1:3307", nodes, 4, 64)
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := conf.Load(path)
		if err != nil {
			t.Fatalf("%v\n%s", err, yaml)
		}
		wantSchemas := 1 + min(1, len(nodes))
		if len(cfg.Schemas) != wantSchemas || cfg.Schemas[0].Name != plainSchema {
			t.Fatalf("schemas %+v", cfg.Schemas)
		}
		if len(nodes) > 0 {
			sh := cfg.Schemas[1]
			if len(sh.Shards) != 4 || sh.Shards[1].Node != "n0" || sh.Shards[2].Node != "n1" || len(sh.Tables) != 4 {
				t.Errorf("sharded schema %+v", sh)
			}
			if tb := sh.Tables[3]; tb.Name != "sbtest4" || tb.ShardKey != "id" || tb.Algorithm != conf.AlgorithmMod {
				t.Errorf("table %+v", tb)
			}
		}
		if p := cfg.Nodes[0].Pool; p.MaxOpen != 64 || p.MaxIdle != 64 {
			t.Errorf("pool %+v, want max_idle = max_open", p)
		}
	}
}

func TestHaproxyConfig(t *testing.T) {
	cfg := haproxyConfig(4000, "127.0.0.1:3307", 228)
	for _, want := range []string{"mode tcp", "nbthread 1", "bind 127.0.0.1:4000", "server db 127.0.0.1:3307 maxconn 228"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestRenderTable(t *testing.T) {
	cols := []column{{"", "name", false}, {"QPS (a long group label)", "a", true}, {"QPS (a long group label)", "b", true}}
	got := renderTable(cols, [][]string{{"x", "1", "22"}, {"longer", "333", "refused"}})
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != 5 {
		t.Fatalf("got %d lines:\n%s", len(lines), got)
	}
	// Every line puts the group separator at the same column.
	bar := strings.Index(lines[1], "|")
	for _, l := range lines {
		if strings.Index(l, "|") != bar {
			t.Errorf("misaligned:\n%s", got)
			break
		}
	}
	if !strings.HasSuffix(lines[4], " refused") || !strings.Contains(lines[4], "| ") ||
		!strings.Contains(lines[0], "QPS (a long group label)") || len(lines[0]) != len(lines[2]) {
		t.Errorf("unexpected layout:\n%s", got)
	}
}

func TestExpectedFailure(t *testing.T) {
	refused := &sbFailure{errno: 1235}
	broke := &sbFailure{errno: 2013}
	ro := configKey{workload: "oltp_read_only", threads: 8}
	point := configKey{workload: "oltp_point_select", threads: 8}
	if !expectedFailure(ro, targetSharded, refused) {
		t.Error("sharded range queries refused: expected for now")
	}
	for _, c := range []struct {
		k      configKey
		target string
		f      *sbFailure
	}{{point, targetSharded, refused}, {ro, targetSharded, broke}, {ro, targetProxy, refused}, {ro, targetDirect, broke}} {
		if expectedFailure(c.k, c.target, c.f) {
			t.Errorf("%s %s errno %d passed as expected", c.k.workload, c.target, c.f.errno)
		}
	}
}

func testSettings(t *testing.T, env map[string]string) settings {
	t.Helper()
	s, err := loadSettings(envOf(env))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestParseMachineCPU(t *testing.T) {
	before, err := parseMachineCPU("cpu  100 0 50 800 50 0 0 0 0 0")
	if err != nil {
		t.Fatal(err)
	}
	after, err := parseMachineCPU("cpu  400 0 150 900 50 10 0 90 7 0")
	if err != nil {
		t.Fatal(err)
	}
	// 600 ticks passed: 100 idle, 90 stolen, 410 busy; guest (7) is in user.
	busy, steal := after.since(before)
	if math.Abs(busy-410.0/600) > 1e-9 || math.Abs(steal-90.0/600) > 1e-9 {
		t.Errorf("busy %v steal %v, want %v %v", busy, steal, 410.0/600, 90.0/600)
	}
	for _, bad := range []string{"", "intr 1 2 3", "cpu 1 2 x 4 5 6 7 8"} {
		if _, err := parseMachineCPU(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
