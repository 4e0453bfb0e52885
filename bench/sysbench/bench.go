package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Target names, in the order each round runs them.
const (
	targetDirect  = "direct"
	targetRelay   = "relay"
	targetProxy   = "proxy"
	targetSharded = "sharded"
)

// target is one way for sysbench to reach the data.
type target struct {
	name   string
	ep     endpoint
	dbPIDs []int  // the mariadbd processes serving it
	hop    *child // haproxy or shardproxy in between, nil for direct
}

// pids are the processes whose CPU a run of this target accounts.
func (t *target) pids() []int {
	pids := append([]int(nil), t.dbPIDs...)
	if t.hop != nil {
		pids = append(pids, t.hop.pid())
	}
	return pids
}

// bench is everything one benchmark run set up.
type bench struct {
	s         settings
	root      string
	tmp       string // configs and logs; removed at the end unless keepLogs
	keepLogs  bool
	single    *mariadb   // all rows: direct, relay and the pass-through proxy
	nodes     []*mariadb // the sharded schema's two nodes
	relay     *child
	relayPort int
	proxy     *child
	proxyPort int
	targets   []*target
	res       results
	env       string // versions and machine, for the report header
}

// setUp starts the servers, haproxy and the proxy, loads the tables and
// returns the targets. Everything started is registered in cl.
func setUp(ctx context.Context, s settings, cl *cleanups) (*bench, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	for _, tool := range []string{"sysbench", "haproxy"} {
		if _, err := lookTool(tool); err != nil {
			return nil, err
		}
	}
	b := &bench{s: s, root: root, res: results{}}
	if b.tmp, err = os.MkdirTemp("", "shardproxy-bench-"); err != nil {
		return nil, err
	}
	cl.add(b.removeTmp)
	logf("%s; measuring takes about %s; logs in %s", describeSettings(s),
		time.Duration(s.estimatedSeconds())*time.Second, b.tmp)

	proxyBin, err := b.proxyBinary(ctx)
	if err != nil {
		return b, err
	}
	if err := b.startServers(cl); err != nil {
		return b, err
	}
	if err := b.single.exec(ctx, "CREATE DATABASE IF NOT EXISTS "+directDB); err != nil {
		return b, err
	}
	if err := b.startRelay(ctx, cl); err != nil {
		return b, err
	}
	if err := b.startProxy(ctx, cl, proxyBin); err != nil {
		return b, err
	}
	b.targets = b.buildTargets()
	if err := b.loadTables(ctx); err != nil {
		return b, err
	}
	b.env = b.describeEnv(ctx)
	return b, nil
}

func (b *bench) removeTmp() error {
	if b.keepLogs {
		logf("logs kept in %s", b.tmp)
		return nil
	}
	return os.RemoveAll(b.tmp)
}

func (b *bench) proxyBinary(ctx context.Context) (string, error) {
	if b.s.proxyBin != "" {
		return b.s.proxyBin, nil
	}
	logf("building ./cmd/shardproxy")
	return buildProxy(ctx, b.root, b.tmp)
}

// startServers starts the single server and, for the sharded schema, two
// nodes, in parallel.
func (b *bench) startServers(cl *cleanups) error {
	names := []string{"single"}
	if b.s.sharded {
		names = append(names, "node0", "node1")
	}
	logf("starting MariaDB: %s", strings.Join(names, ", "))
	servers := make([]*mariadb, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { servers[i], errs[i] = startMariaDB(name) })
	}
	wg.Wait()
	for _, m := range servers {
		if m != nil {
			cl.add(m.srv.Stop)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	b.single, b.nodes = servers[0], servers[1:]
	return nil
}

func (b *bench) startRelay(ctx context.Context, cl *cleanups) error {
	c, port, err := startRelay(ctx, b.tmp, b.single.srv.Addr, 4*b.s.maxThreads()+100)
	if err != nil {
		return err
	}
	cl.add(func() error { return c.stop(syscall.SIGTERM, stopGrace) })
	b.relay = c
	b.relayPort = port
	logf("haproxy relay on 127.0.0.1:%d -> %s", port, b.single.srv.Addr)
	return nil
}

func (b *bench) startProxy(ctx context.Context, cl *cleanups, bin string) error {
	listen, err := freePort()
	if err != nil {
		return err
	}
	admin, err := freePort()
	if err != nil {
		return err
	}
	pool := max(64, 2*b.s.maxThreads())
	var nodes []string
	for _, n := range b.nodes {
		nodes = append(nodes, n.srv.Addr)
	}
	cfg := proxyConfig(listen, admin, b.single.srv.Addr, nodes, b.s.tables, pool)
	cfgPath := filepath.Join(b.tmp, "shardproxy.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return err
	}
	c, err := startProxy(ctx, bin, cfgPath, b.tmp, listen)
	if err != nil {
		return err
	}
	cl.add(func() error { return c.stop(syscall.SIGTERM, proxyShutdown+stopGrace) })
	b.proxy = c
	b.proxyPort = listen
	logf("shardproxy on 127.0.0.1:%d (config %s)", listen, cfgPath)
	return nil
}

// buildTargets lists the targets in the order each round runs them.
func (b *bench) buildTargets() []*target {
	rootAt := func(port int) endpoint { return endpoint{port: port, user: "root", db: directDB} }
	viaProxy := func(schema string) endpoint {
		return endpoint{port: b.proxyPort, user: proxyUser, password: proxyPassword, db: schema}
	}
	ts := []*target{
		{name: targetDirect, ep: rootAt(b.single.srv.Port), dbPIDs: []int{b.single.pid}},
		{name: targetRelay, ep: rootAt(b.relayPort), dbPIDs: []int{b.single.pid}, hop: b.relay},
		{name: targetProxy, ep: viaProxy(plainSchema), dbPIDs: []int{b.single.pid}, hop: b.proxy},
	}
	if len(b.nodes) > 0 {
		var pids []int
		for _, n := range b.nodes {
			pids = append(pids, n.pid)
		}
		ts = append(ts, &target{name: targetSharded, ep: viaProxy(shardedSchema), dbPIDs: pids, hop: b.proxy})
	}
	return ts
}

func (b *bench) target(name string) *target {
	for _, t := range b.targets {
		if t.name == name {
			return t
		}
	}
	return nil
}

// loadTables runs sysbench prepare directly on the single server and, for
// the sharded schema, through the proxy (CREATE TABLE fans out, INSERTs are
// split per shard), then checks where the rows landed.
func (b *bench) loadTables(ctx context.Context) error {
	timeout := 30 * time.Minute // bounded by the table size; Ctrl-C still works
	for _, t := range []*target{b.target(targetDirect), b.target(targetSharded)} {
		if t == nil {
			continue
		}
		logf("loading %d × %d rows into %s (%s)", b.s.tables, b.s.tableSize, t.ep.db, t.name)
		logPath := filepath.Join(b.tmp, "prepare-"+t.name+".log")
		if _, _, err := runSysbench(ctx, prepareArgs(b.s, t.ep), logPath, timeout); err != nil {
			return fmt.Errorf("sysbench prepare on %s: %w", t.name, err)
		}
	}
	if err := b.checkSingle(ctx); err != nil {
		return err
	}
	if len(b.nodes) > 0 {
		return b.checkShards(ctx)
	}
	return nil
}

func (b *bench) checkSingle(ctx context.Context) error {
	for t := 1; t <= b.s.tables; t++ {
		n, err := b.single.count(ctx, directDB, fmt.Sprintf("sbtest%d", t))
		if err != nil {
			return err
		}
		if n != b.s.tableSize {
			return fmt.Errorf("single: %s.sbtest%d has %d rows, want %d", directDB, t, n, b.s.tableSize)
		}
	}
	return nil
}

// checkShards verifies on the backends that every table holds all its
// rows, each on the shard id mod 4 names: the proxy split the INSERTs.
func (b *bench) checkShards(ctx context.Context) error {
	for t := 1; t <= b.s.tables; t++ {
		table := fmt.Sprintf("sbtest%d", t)
		total := 0
		for i := range shardCount {
			node := b.nodes[shardNode(i)]
			db := fmt.Sprintf("%s%d", shardDBPrefix, i)
			n, misplaced, err := node.countShard(ctx, db, table, i)
			if err != nil {
				return err
			}
			if misplaced > 0 {
				return fmt.Errorf("%s: %s.%s holds %d rows whose id mod %d is not %d", node.name, db, table, misplaced, shardCount, i)
			}
			total += n
		}
		if total != b.s.tableSize {
			return fmt.Errorf("sharded %s has %d rows over its shards, want %d", table, total, b.s.tableSize)
		}
	}
	logf("sharded tables check out: every row on the shard its id names")
	return nil
}

// describeEnv names the machine and versions for the report header.
func (b *bench) describeEnv(ctx context.Context) string {
	return fmt.Sprintf("%s; %s; shardproxy %s; MariaDB %s; %s; %s",
		time.Now().Format("2006-01-02 15:04 MST"), cpuModel(), gitDescribe(b.root),
		b.single.version(ctx), toolVersion("haproxy", "-v"), toolVersion("sysbench", "--version"))
}

func describeSettings(s settings) string {
	ps := []string{}
	for _, on := range s.ps {
		ps = append(ps, map[bool]string{true: "on", false: "off"}[on])
	}
	return fmt.Sprintf("%d tables × %d rows, %d s per run, %d round(s), threads %v, PS %s, skip_trx=%v, sharded=%v, %s",
		s.tables, s.tableSize, s.seconds, s.rounds, s.threads, strings.Join(ps, "/"), onOff(s.skipTrx), onOff(s.sharded),
		strings.Join(s.workloads, " "))
}

func onOff(v bool) string {
	if v {
		return "on"
	}
	return "off"
}
