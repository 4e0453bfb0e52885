package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// endpoint is where sysbench connects and as whom.
type endpoint struct {
	port     int
	user     string
	password string
	db       string
}

// job is one sysbench invocation.
type job struct {
	workload string
	threads  int
	ps       bool
	seconds  int
}

// sbStats are the numbers read from a sysbench report.
type sbStats struct {
	queries int64   // statements executed, all threads
	qps     float64 // queries per second
	p95ms   float64 // 95th percentile latency of an event (a transaction)
	ignored int64   // errors sysbench ignored and retried (--mysql-ignore-errors)
}

// sbFailure is a run sysbench did not complete.
type sbFailure struct {
	errno int    // MySQL error number when sysbench reported one, else 0
	msg   string // the first FATAL line, or what went wrong
}

func (f *sbFailure) Error() string { return f.msg }

// refused reports whether the server turned the statements down as not
// supported (1235), as opposed to breaking.
func (f *sbFailure) refused() bool { return f.errno == 1235 }

// commonArgs are the options every sysbench call shares. auto_inc=off makes
// prepare insert ids 1..table_size itself: the sharded proxy needs the shard
// key in every row, and every target then holds the same ids.
func commonArgs(s settings, ep endpoint) []string {
	return []string{
		"--db-driver=mysql",
		"--mysql-host=127.0.0.1",
		"--mysql-port=" + strconv.Itoa(ep.port),
		"--mysql-user=" + ep.user,
		"--mysql-password=" + ep.password,
		"--mysql-db=" + ep.db,
		"--tables=" + strconv.Itoa(s.tables),
		"--table_size=" + strconv.Itoa(s.tableSize),
		"--auto_inc=off",
	}
}

func runArgs(s settings, ep endpoint, j job) []string {
	psMode := "disable"
	if j.ps {
		psMode = "auto" // sysbench's default
	}
	args := append([]string{j.workload}, commonArgs(s, ep)...)
	args = append(args,
		"--threads="+strconv.Itoa(j.threads),
		"--time="+strconv.Itoa(j.seconds),
		"--events=0",
		"--report-interval=0",
		"--percentile=95",
		"--db-ps-mode="+psMode,
	)
	if s.skipTrx && j.workload != "oltp_point_select" {
		args = append(args, "--skip_trx=on")
	}
	if s.skipTrx && j.workload == "oltp_read_write" {
		// Outside a transaction, two threads' DELETE+INSERT of the same id
		// can interleave: the second INSERT then hits a duplicate key, on
		// MySQL as on the proxy. sysbench retries the event, as it does for
		// its default list (deadlocks, lock wait timeouts).
		args = append(args, "--mysql-ignore-errors=1213,1020,1205,1062")
	}
	return append(args, "run")
}

// prepareArgs creates and loads the tables, one sysbench thread per table.
func prepareArgs(s settings, ep endpoint) []string {
	args := append([]string{"oltp_read_write"}, commonArgs(s, ep)...)
	return append(args, "--threads="+strconv.Itoa(s.tables), "prepare")
}

// runSysbench runs sysbench with args, writing its output to logPath too,
// and returns the output. It fails when sysbench does not exit 0 or reports
// a FATAL error, or when it runs past timeout.
// The CPU seconds sysbench itself spent come back too: the client shares
// the machine's cores with the servers.
func runSysbench(ctx context.Context, args []string, logPath string, timeout time.Duration) (string, float64, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	logf, err := os.Create(logPath)
	if err != nil {
		return "", 0, err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "$ sysbench %s\n", strings.Join(args, " "))
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "sysbench", args...)
	cmd.Stdout = io.MultiWriter(&out, logf)
	cmd.Stderr = cmd.Stdout
	cmd.WaitDelay = 5 * time.Second
	if err := startGuarded(cmd); err != nil {
		return "", 0, err
	}
	err = cmd.Wait()
	text := out.String()
	cpu := 0.0
	if ps := cmd.ProcessState; ps != nil {
		cpu = (ps.UserTime() + ps.SystemTime()).Seconds()
	}
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return text, cpu, &sbFailure{msg: fmt.Sprintf("sysbench ran past %v and was killed", timeout)}
	}
	if ctx.Err() != nil {
		return text, cpu, ctx.Err()
	}
	if f := findFailure(text); f != nil {
		return text, cpu, f
	}
	if err != nil {
		return text, cpu, &sbFailure{msg: fmt.Sprintf("sysbench: %v; see %s", err, logPath)}
	}
	return text, cpu, nil
}

var (
	fatalLine = regexp.MustCompile(`(?m)^FATAL: .*$`)
	// sysbench names the error as "error 1235" or "errno = 1235".
	errnoRe   = regexp.MustCompile(`(?:error|errno =) (\d{4})\b`)
	queriesRe = regexp.MustCompile(`(?m)^\s*queries:\s+(\d+)\s+\(([0-9.]+) per sec\.\)`)
	p95Re     = regexp.MustCompile(`(?m)^\s*95th percentile:\s+([0-9.]+)`)
	ignoredRe = regexp.MustCompile(`(?m)^\s*ignored errors:\s+(\d+)`)
)

// findFailure returns the first FATAL error in sysbench's output, if any.
func findFailure(out string) *sbFailure {
	line := fatalLine.FindString(out)
	if line == "" {
		return nil
	}
	f := &sbFailure{msg: strings.TrimSpace(line)}
	if m := errnoRe.FindStringSubmatch(out); m != nil {
		f.errno, _ = strconv.Atoi(m[1])
	}
	return f
}

// parseReport reads throughput and latency from a sysbench run report.
func parseReport(out string) (sbStats, error) {
	var st sbStats
	m := queriesRe.FindStringSubmatch(out)
	if m == nil {
		return st, errors.New(`no "queries: N (X per sec.)" line in the sysbench report`)
	}
	var err error
	if st.queries, err = strconv.ParseInt(m[1], 10, 64); err != nil {
		return st, fmt.Errorf("queries %q: %w", m[1], err)
	}
	if st.qps, err = strconv.ParseFloat(m[2], 64); err != nil {
		return st, fmt.Errorf("queries per second %q: %w", m[2], err)
	}
	p := p95Re.FindStringSubmatch(out)
	if p == nil {
		return st, errors.New(`no "95th percentile:" line in the sysbench report`)
	}
	if st.p95ms, err = strconv.ParseFloat(p[1], 64); err != nil {
		return st, fmt.Errorf("95th percentile %q: %w", p[1], err)
	}
	if m := ignoredRe.FindStringSubmatch(out); m != nil {
		st.ignored, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if st.queries == 0 {
		return st, errors.New("sysbench executed no statements")
	}
	return st, nil
}
