// Command sysbench measures shardproxy's overhead with sysbench against its
// own throwaway MariaDB servers (tests/mariadbtest), never a developer's.
//
// Four targets over the same data, interleaved round by round:
//
//	direct   sysbench -> MariaDB "single" (all rows)
//	relay    sysbench -> haproxy (mode tcp) -> single
//	proxy    sysbench -> shardproxy, pass-through schema -> single
//	sharded  sysbench -> shardproxy, sbtest1..N sharded by id (mod) over
//	         4 shards on 2 more MariaDB servers
//
// It prints one table for the pass-through schema (direct, relay, proxy) and
// one for the sharded schema (direct, relay, sharded), and writes both to
// bench/results/latest.txt. Run it from the repository root:
//
//	go run ./bench/sysbench             # defaults: 20-26 minutes on 2 cores
//	BENCH_QUICK=1 go run ./bench/sysbench  # 3 s runs, 1 round, point selects
//
// Variables: BENCH_TABLE_SIZE (10000), BENCH_TABLES (4), BENCH_TIME (10 s),
// BENCH_ROUNDS (3), BENCH_THREADS ("8 32"), BENCH_WORKLOADS ("oltp_point_select
// oltp_read_only oltp_read_write"), BENCH_PS ("on off"), BENCH_SKIP_TRX (on),
// BENCH_SHARDED (on), BENCH_WARMUP (2 s), BENCH_OUT, BENCH_PROXY_BIN.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run())
}

func run() int {
	s, err := loadSettings(os.Getenv)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once; the children die with us (Pdeathsig)
	}()

	var cl cleanups
	b, err := setUp(ctx, s, &cl)
	if err == nil {
		err = b.measureAll(ctx)
	}
	code := finish(b, err)
	if b != nil && code != 0 && !errors.Is(err, context.Canceled) {
		b.keepLogs = true // for the failure; an interrupted run leaves nothing
	}
	logf("stopping servers")
	if cerr := cl.run(); cerr != nil {
		fmt.Fprintln(os.Stderr, "bench: cleanup:", cerr)
		code = max(code, 1)
	}
	return code
}

// finish prints the tables measured so far and returns the exit code.
func finish(b *bench, err error) int {
	interrupted := errors.Is(err, context.Canceled)
	if err != nil && !interrupted {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
	if b == nil || b.res.empty() {
		if interrupted {
			fmt.Fprintln(os.Stderr, "bench: interrupted")
		}
		return 1
	}
	text := b.report()
	switch {
	case interrupted:
		text += "\n(interrupted: partial results, not written to " + b.s.out + ")\n"
	case err != nil:
		text += "\n(stopped by an error: " + firstLine(err.Error()) + ")\n"
	}
	fmt.Print("\n" + text)
	if err == nil {
		out := b.s.out
		if !filepath.IsAbs(out) {
			out = filepath.Join(b.root, out)
		}
		if werr := writeFile(out, text); werr != nil {
			fmt.Fprintln(os.Stderr, "bench:", werr)
			return 1
		}
		logf("table written to %s", out)
	}
	if err != nil || b.res.unexpectedFailures(b.targets) > 0 {
		return 1
	}
	return 0
}

func writeFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// logf prints progress to stderr, keeping stdout for the tables.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// repoRoot finds the module root from the working directory, so the program
// works from any subdirectory of the checkout.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/shardproxy/shardproxy\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run from inside the shardproxy checkout (no go.mod of github.com/shardproxy/shardproxy above the working directory)")
		}
		dir = parent
	}
}
