package main

import (
	"fmt"
	"slices"
	"strings"
)

// report renders the header, one table per schema and the failures.
func (b *bench) report() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "shardproxy sysbench benchmark\n%s\n%s\n", b.env, describeSettings(b.s))
	fmt.Fprintf(&sb, "\nPass-through schema (one shard, no tables): direct, haproxy TCP relay and shardproxy, all on one MariaDB\n\n")
	sb.WriteString(b.table(targetProxy))
	sb.WriteString("\n" + b.machineTable(targetProxy))
	if b.target(targetSharded) != nil {
		fmt.Fprintf(&sb, "\nSharded schema (sbtest1..%d by id, mod, 4 shards on 2 MariaDB nodes) against direct and relay to one MariaDB holding all rows\n\n", b.s.tables)
		sb.WriteString(b.table(targetSharded))
		sb.WriteString("\n" + b.machineTable(targetSharded))
	}
	fmt.Fprintf(&sb, `
QPS and p95 (latency of one sysbench event, ms) are medians over %d interleaved round(s) of %d s.
Ratios are medians of per-round ratios (each round's runs are neighbours in time); range = lowest-highest.
ps on = --db-ps-mode=auto (server-side prepared statements), off = --db-ps-mode=disable.
CPU = CPU seconds (utime+stime from /proc/<pid>/stat, all threads) a process spent during the run
per 1,000 statements sysbench executed, median over the rounds; db = the mariadbd behind the target
(sharded: both nodes summed). All processes and sysbench share the machine's CPUs.
Machine: sysbench's own CPU per 1,000 statements; busy = share of all cores' time not idle (iowait
counts as idle) and not stolen; steal = share the hypervisor gave to other machines. Below 100%%
busy, a target waited on something other than CPU; steal is the noise of a shared host.
`, b.s.rounds, b.s.seconds)
	if b.s.skipTrx {
		sb.WriteString("skip_trx=on: read_only/read_write run in autocommit (no BEGIN/COMMIT) on every target; read_write\n" +
			"retries duplicate-key errors (1062) of concurrent DELETE+INSERT pairs, as sysbench does deadlocks.\n")
	}
	sb.WriteString(b.failureNotes())
	return sb.String()
}

// table renders one schema's table: direct and relay against proxyTarget.
func (b *bench) table(proxyTarget string) string {
	cols := []column{
		{"", "workload", false}, {"", "thr", true}, {"", "ps", false},
		{"QPS", "direct", true}, {"QPS", "relay", true}, {"QPS", "proxy", true},
		{"ratio", "proxy/direct", true}, {"ratio", "proxy/relay", true}, {"ratio", "range", true},
		{"p95 ms", "direct", true}, {"p95 ms", "relay", true}, {"p95 ms", "proxy", true},
		{"CPU s / 1,000 statements", "db@direct", true}, {"CPU s / 1,000 statements", "db@relay", true},
		{"CPU s / 1,000 statements", "haproxy", true}, {"CPU s / 1,000 statements", "db@proxy", true},
		{"CPU s / 1,000 statements", "shardproxy", true},
	}
	var rows [][]string
	for _, k := range b.s.configs() {
		d := summarize(b.res[k][targetDirect])
		r := summarize(b.res[k][targetRelay])
		p := summarize(b.res[k][proxyTarget])
		vsRelay := roundRatios(b.res[k][proxyTarget], b.res[k][targetRelay])
		rows = append(rows, []string{
			k.workload, fmt.Sprint(k.threads), onOff(k.ps),
			d.qps(), r.qps(), p.qps(),
			medianRatio(roundRatios(b.res[k][proxyTarget], b.res[k][targetDirect])), medianRatio(vsRelay), ratioRange(vsRelay),
			d.num(d.p95, "%.2f"), r.num(r.p95, "%.2f"), p.num(p.p95, "%.2f"),
			d.num(d.dbCPU, "%.3f"), r.num(r.dbCPU, "%.3f"), r.num(r.hopCPU, "%.3f"),
			p.num(p.dbCPU, "%.3f"), p.num(p.hopCPU, "%.3f"),
		})
	}
	return renderTable(cols, rows)
}

// machineTable renders where the machine's time went during each
// target's runs: sysbench's own CPU, the cores' busy and stolen shares.
func (b *bench) machineTable(proxyTarget string) string {
	group := func(g string) []column {
		return []column{{g, "direct", true}, {g, "relay", true}, {g, "proxy", true}}
	}
	cols := []column{{"", "workload", false}, {"", "thr", true}, {"", "ps", false}}
	cols = append(cols, group("sysbench CPU s / 1,000")...)
	cols = append(cols, group("busy %")...)
	cols = append(cols, group("steal %")...)
	var rows [][]string
	for _, k := range b.s.configs() {
		ss := []summary{summarize(b.res[k][targetDirect]), summarize(b.res[k][targetRelay]), summarize(b.res[k][proxyTarget])}
		row := []string{k.workload, fmt.Sprint(k.threads), onOff(k.ps)}
		for _, s := range ss {
			row = append(row, s.num(s.clientCPU, "%.3f"))
		}
		for _, s := range ss {
			row = append(row, s.num(100*s.busy, "%.0f"))
		}
		for _, s := range ss {
			row = append(row, s.num(100*s.steal, "%.1f"))
		}
		rows = append(rows, row)
	}
	return renderTable(cols, rows)
}

// summary is a cell reduced to medians.
type summary struct {
	ok                                               bool
	status                                           string // "refused", "failed" or "" (not measured) when !ok
	qpsV, p95, dbCPU, hopCPU, clientCPU, busy, steal float64
}

func summarize(c *cell) summary {
	switch {
	case c == nil:
		return summary{}
	case c.fail != nil:
		return summary{status: failureLabel(c.fail)}
	case len(c.runs) == 0:
		return summary{}
	}
	pick := func(f func(runResult) float64) float64 {
		vs := make([]float64, len(c.runs))
		for i, r := range c.runs {
			vs[i] = f(r)
		}
		return median(vs)
	}
	return summary{
		ok:        true,
		qpsV:      pick(func(r runResult) float64 { return r.stats.qps }),
		p95:       pick(func(r runResult) float64 { return r.stats.p95ms }),
		dbCPU:     pick(func(r runResult) float64 { return r.dbCPU }),
		hopCPU:    pick(func(r runResult) float64 { return r.hopCPU }),
		clientCPU: pick(func(r runResult) float64 { return r.clientCPU }),
		busy:      pick(func(r runResult) float64 { return r.busy }),
		steal:     pick(func(r runResult) float64 { return r.steal }),
	}
}

func (s summary) qps() string {
	if !s.ok {
		return s.missing()
	}
	return fmt.Sprintf("%.0f", s.qpsV)
}

// num formats one of s's values; a failed target shows "-" past its QPS.
func (s summary) num(v float64, format string) string {
	if !s.ok {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

func (s summary) missing() string {
	if s.status == "" {
		return "-"
	}
	return s.status
}

// roundRatios divides a's QPS by b's round by round. Runs of one round
// follow each other within a minute, so the machine's slow drift (other
// tenants, caches, background work) cancels out of each ratio; a ratio of
// medians over the whole run would keep it.
func roundRatios(a, b *cell) []float64 {
	if a == nil || b == nil || a.fail != nil || b.fail != nil {
		return nil
	}
	var rs []float64
	for _, ra := range a.runs {
		for _, rb := range b.runs {
			if ra.round == rb.round && rb.stats.qps > 0 {
				rs = append(rs, ra.stats.qps/rb.stats.qps)
			}
		}
	}
	return rs
}

func medianRatio(rs []float64) string {
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", median(rs))
}

// ratioRange shows how far the rounds' ratios spread: the noise a reader
// must allow for.
func ratioRange(rs []float64) string {
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f-%.2f", slices.Min(rs), slices.Max(rs))
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	mid := len(s) / 2
	if len(s)%2 == 1 {
		return s[mid]
	}
	return (s[mid-1] + s[mid]) / 2
}

// failureNotes lists each distinct failure once, with the configurations
// it hit. Failures differing only in the query sysbench quotes (the table,
// the inlined values) are one.
func (b *bench) failureNotes() string {
	type note struct {
		target, label, reason, msg string
		where                      []string
	}
	var notes []*note
	for _, k := range b.s.configs() {
		for _, t := range b.targets {
			c := b.res[k][t.name]
			if c == nil || c.fail == nil {
				continue
			}
			label := failureLabel(c.fail)
			reason, _, _ := strings.Cut(c.fail.msg, " for query ")
			i := slices.IndexFunc(notes, func(n *note) bool {
				return n.target == t.name && n.label == label && n.reason == reason
			})
			if i < 0 {
				notes = append(notes, &note{target: t.name, label: label, reason: reason, msg: c.fail.msg})
				i = len(notes) - 1
			}
			notes[i].where = append(notes[i].where, fmt.Sprintf("%s thr=%d ps=%s", k.workload, k.threads, onOff(k.ps)))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("\nFailures (each kind once, with where it happened):\n")
	for _, n := range notes {
		fmt.Fprintf(&sb, "- %s %s in %s:\n    %s\n", n.target, n.label, strings.Join(n.where, "; "), truncate(n.msg, 300))
	}
	return sb.String()
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}

// column is a table column: a group label shared by neighbours, a name,
// and whether values are right-aligned.
type column struct {
	group, name string
	right       bool
}

// renderTable lays out rows under a two-line header: groups, then names.
// Groups are separated by " | ", columns inside a group by two spaces.
func renderTable(cols []column, rows [][]string) string {
	widths := make([]int, len(cols))
	for i, c := range cols {
		widths[i] = len(c.name)
		for _, r := range rows {
			widths[i] = max(widths[i], len([]rune(r[i])))
		}
	}
	spans := groupSpans(cols)
	for _, sp := range spans {
		// A group label wider than its columns widens them evenly.
		if extra := len(sp.label) - spanWidth(widths, sp); extra > 0 {
			n := sp.end - sp.start
			for i := sp.start; i < sp.end; i++ {
				widths[i] += extra / n
			}
			widths[sp.end-1] += extra % n
		}
	}
	var groups strings.Builder
	for i, sp := range spans {
		if i > 0 {
			groups.WriteString(" | ")
		}
		groups.WriteString(pad(sp.label, spanWidth(widths, sp), false))
	}
	var sb strings.Builder
	sb.WriteString(strings.TrimRight(groups.String(), " ") + "\n")
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.name
	}
	writeRow(&sb, cols, spans, widths, header)
	sep := make([]string, len(cols))
	for i := range cols {
		sep[i] = strings.Repeat("-", widths[i])
	}
	writeRow(&sb, cols, spans, widths, sep)
	for _, r := range rows {
		writeRow(&sb, cols, spans, widths, r)
	}
	return sb.String()
}

type span struct {
	label      string
	start, end int // columns [start, end)
}

func groupSpans(cols []column) []span {
	var spans []span
	for i, c := range cols {
		if i == 0 || c.group != cols[i-1].group {
			spans = append(spans, span{label: c.group, start: i})
		}
		spans[len(spans)-1].end = i + 1
	}
	return spans
}

func spanWidth(widths []int, sp span) int {
	w := 2 * (sp.end - sp.start - 1)
	for _, x := range widths[sp.start:sp.end] {
		w += x
	}
	return w
}

func writeRow(sb *strings.Builder, cols []column, spans []span, widths []int, cells []string) {
	var line strings.Builder
	for si, sp := range spans {
		if si > 0 {
			line.WriteString(" | ")
		}
		for i := sp.start; i < sp.end; i++ {
			if i > sp.start {
				line.WriteString("  ")
			}
			line.WriteString(pad(cells[i], widths[i], cols[i].right))
		}
	}
	sb.WriteString(strings.TrimRight(line.String(), " ") + "\n")
}

func pad(s string, width int, right bool) string {
	n := width - len([]rune(s))
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}
