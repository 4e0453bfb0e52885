package main

import (
	"fmt"
	"strconv"
	"strings"
)

// settings are the knobs of one benchmark run, read from BENCH_* variables.
type settings struct {
	tableSize int      // rows per table
	tables    int      // sbtest1..N
	seconds   int      // duration of each measured run
	rounds    int      // interleaved rounds per configuration
	warmup    int      // seconds of point selects per target before measuring; 0 = none
	threads   []int    // sysbench --threads values
	workloads []string // sysbench scripts: oltp_point_select, oltp_read_only, oltp_read_write
	ps        []bool   // prepared statements on (auto) and/or off (disable)
	skipTrx   bool     // --skip_trx for read_only/read_write, on every target alike
	sharded   bool     // also measure the sharded schema
	quick     bool
	out       string // results file, relative to the repository root
	proxyBin  string // prebuilt shardproxy; "" builds ./cmd/shardproxy
}

var knownWorkloads = map[string]bool{
	"oltp_point_select": true,
	"oltp_read_only":    true,
	"oltp_read_write":   true,
}

// loadSettings reads the BENCH_* variables through getenv. BENCH_QUICK=1
// only changes the defaults: variables set explicitly still win.
func loadSettings(getenv func(string) string) (settings, error) {
	quick := isTrue(getenv("BENCH_QUICK"))
	def := func(normal, quickValue string) string {
		if quick {
			return quickValue
		}
		return normal
	}
	p := envParser{getenv: getenv}
	s := settings{
		tableSize: p.positive("BENCH_TABLE_SIZE", "10000"),
		tables:    p.positive("BENCH_TABLES", "4"),
		seconds:   p.positive("BENCH_TIME", def("10", "3")),
		rounds:    p.positive("BENCH_ROUNDS", def("3", "1")),
		warmup:    p.nonNegative("BENCH_WARMUP", def("2", "1")),
		threads:   p.intList("BENCH_THREADS", "8 32"),
		workloads: p.workloads("BENCH_WORKLOADS", def("oltp_point_select oltp_read_only oltp_read_write", "oltp_point_select")),
		ps:        p.psModes("BENCH_PS", "on off"),
		skipTrx:   p.onOff("BENCH_SKIP_TRX", "on"),
		sharded:   p.onOff("BENCH_SHARDED", "on"),
		quick:     quick,
		out:       p.str("BENCH_OUT", "bench/results/latest.txt"),
		proxyBin:  p.str("BENCH_PROXY_BIN", ""),
	}
	return s, p.err
}

// estimatedSeconds is the measured time alone, ignoring set-up and refusals.
func (s settings) estimatedSeconds() int {
	targets := 3
	if s.sharded {
		targets = 4
	}
	runs := len(s.workloads) * len(s.threads) * len(s.ps) * s.rounds * targets
	return runs*s.seconds + targets*s.warmup
}

func (s settings) maxThreads() int {
	m := 0
	for _, t := range s.threads {
		m = max(m, t)
	}
	return m
}

// envParser reads variables, keeping the first error so that loadSettings
// stays a flat list of keys and defaults.
type envParser struct {
	getenv func(string) string
	err    error
}

func (p *envParser) str(key, def string) string {
	if v := strings.TrimSpace(p.getenv(key)); v != "" {
		return v
	}
	return def
}

func (p *envParser) fail(key, value, want string) {
	if p.err == nil {
		p.err = fmt.Errorf("%s=%q: want %s", key, value, want)
	}
}

func (p *envParser) positive(key, def string) int {
	v := p.str(key, def)
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail(key, v, "a positive integer")
	}
	return n
}

func (p *envParser) nonNegative(key, def string) int {
	v := p.str(key, def)
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(key, v, "an integer >= 0")
	}
	return n
}

func (p *envParser) intList(key, def string) []int {
	v := p.str(key, def)
	var out []int
	for _, f := range splitList(v) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			p.fail(key, v, "positive integers separated by spaces")
			return nil
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		p.fail(key, v, "at least one thread count")
	}
	return out
}

func (p *envParser) workloads(key, def string) []string {
	v := p.str(key, def)
	var out []string
	for _, f := range splitList(v) {
		if !strings.HasPrefix(f, "oltp_") {
			f = "oltp_" + f // "point_select" is accepted too
		}
		if !knownWorkloads[f] {
			p.fail(key, v, "oltp_point_select, oltp_read_only and/or oltp_read_write")
			return nil
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		p.fail(key, v, "at least one workload")
	}
	return out
}

func (p *envParser) psModes(key, def string) []bool {
	v := p.str(key, def)
	var out []bool
	for _, f := range splitList(v) {
		switch strings.ToLower(f) {
		case "on", "auto":
			out = append(out, true)
		case "off", "disable":
			out = append(out, false)
		default:
			p.fail(key, v, `"on", "off" or "on off"`)
			return nil
		}
	}
	if len(out) == 0 {
		p.fail(key, v, "on and/or off")
	}
	return out
}

func (p *envParser) onOff(key, def string) bool {
	v := p.str(key, def)
	switch strings.ToLower(v) {
	case "on", "1", "true", "yes":
		return true
	case "off", "0", "false", "no":
		return false
	}
	p.fail(key, v, "on or off")
	return false
}

func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "on", "true", "yes":
		return true
	}
	return false
}

// splitList splits on spaces and commas, so "8 32" and "8,32" both work.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' })
}
