package conf

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Validate returns every problem in c, each as "key: what is wrong", the key
// being its full path such as schemas[0].shards[2].node. Nil means valid.
func (c *Config) Validate() []error {
	var p problems
	p.checkAddr("listen", c.Listen)
	p.checkAddr("admin_listen", c.AdminListen)
	if c.MaxConnections < 1 {
		p.add("max_connections", "%d must be at least 1", c.MaxConnections)
	}
	p.nonNegative("shutdown_timeout", c.ShutdownTimeout)
	p.nonNegative("max_execution_time", c.MaxExecutionTime)
	if c.MaxMergeRows < 1 {
		p.add("max_merge_rows", "%d must be at least 1", c.MaxMergeRows)
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		p.add("tls", "cert and key must be given together")
	}
	if c.RequireSecureTransport && c.TLS.Cert == "" {
		p.add("require_secure_transport", "needs tls.cert and tls.key")
	}
	p.oneOf("log.level", c.Log.Level, "debug", "info", "warn", "error")
	p.oneOf("log.format", c.Log.Format, "console", "json")
	p.nonNegative("log.slow_query", c.Log.SlowQuery)

	p.atLeastOne("users", "user", len(c.Users))
	p.atLeastOne("nodes", "node", len(c.Nodes))
	p.atLeastOne("schemas", "schema", len(c.Schemas))

	nodes := map[string]bool{}
	for i, n := range c.Nodes {
		p.checkNode(fmt.Sprintf("nodes[%d]", i), n, nodes)
	}
	schemas := map[string]bool{}
	for i, s := range c.Schemas {
		p.checkSchema(fmt.Sprintf("schemas[%d]", i), s, schemas, nodes)
	}
	p.checkPoolsHoldShards(c)
	users := map[string]bool{}
	for i, u := range c.Users {
		key := fmt.Sprintf("users[%d]", i)
		p.unique(key+".name", "user", u.Name, users)
		for j, s := range u.Schemas {
			if !schemas[s] {
				p.add(fmt.Sprintf("%s.schemas[%d]", key, j), "unknown schema %q", s)
			}
		}
	}
	return p
}

type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
}

// unique reports an empty or already seen name, then records it in seen.
func (p *problems) unique(key, what, name string, seen map[string]bool) {
	switch {
	case name == "":
		p.add(key, "missing")
	case seen[name]:
		p.add(key, "duplicate %s %q", what, name)
	}
	seen[name] = true
}

// atLeastOne reports an empty list: an empty file should not pass --check.
func (p *problems) atLeastOne(key, what string, n int) {
	if n == 0 {
		p.add(key, "missing (at least one %s)", what)
	}
}

func (p *problems) oneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		p.add(key, "%q is not one of %s", value, strings.Join(allowed, " | "))
	}
}

func (p *problems) nonNegative(key string, d time.Duration) {
	if d < 0 {
		p.add(key, "%s must not be negative", d)
	}
}

// checkAddr wants host:port; the host may be empty and the port 0 (any free
// port, handy in tests).
func (p *problems) checkAddr(key, addr string) {
	if addr == "" {
		p.add(key, "missing (host:port)")
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		p.add(key, "%q is not host:port", addr)
	}
}

func (p *problems) checkNode(key string, n Node, seen map[string]bool) {
	p.unique(key+".name", "node name", n.Name, seen)
	p.checkAddr(key+".primary", n.Primary)
	for i, r := range n.Replicas {
		p.checkAddr(fmt.Sprintf("%s.replicas[%d]", key, i), r)
	}
	if n.User == "" {
		p.add(key+".user", "missing")
	}
	if n.Pool.MaxOpen < 1 {
		p.add(key+".pool.max_open", "%d must be at least 1", n.Pool.MaxOpen)
	}
	if n.Pool.MaxIdle < 0 || n.Pool.MaxIdle > n.Pool.MaxOpen {
		p.add(key+".pool.max_idle", "%d must be between 0 and max_open (%d)", n.Pool.MaxIdle, n.Pool.MaxOpen)
	}
	p.nonNegative(key+".pool.idle_timeout", n.Pool.IdleTimeout)
	p.nonNegative(key+".max_replica_lag", n.MaxReplicaLag)
}

func (p *problems) checkSchema(key string, s Schema, seen, nodes map[string]bool) {
	p.unique(key+".name", "schema", s.Name, seen)
	p.oneOf(key+".read_from", s.ReadFrom, ReadFromPrimary, ReadFromReplica)
	p.atLeastOne(key+".shards", "shard", len(s.Shards))
	if len(s.Shards) > 0 && (s.DefaultShard < 0 || s.DefaultShard >= len(s.Shards)) {
		p.add(key+".default_shard", "%d is out of range (schema has %d shards)", s.DefaultShard, len(s.Shards))
	}

	placed := map[Shard]int{} // two shards on one database would mix their rows
	for i, sh := range s.Shards {
		shardKey := fmt.Sprintf("%s.shards[%d]", key, i)
		switch {
		case sh.Node == "":
			p.add(shardKey+".node", "missing")
		case !nodes[sh.Node]:
			p.add(shardKey+".node", "unknown node %q", sh.Node)
		}
		if sh.Database == "" {
			p.add(shardKey+".database", "missing")
		} else if j, dup := placed[sh]; dup {
			p.add(shardKey, "same node and database as shards[%d]", j)
		} else {
			placed[sh] = i
		}
	}

	tables := map[string]bool{}
	for i, t := range s.Tables {
		tableKey := fmt.Sprintf("%s.tables[%d]", key, i)
		p.unique(tableKey+".name", "table", t.Name, tables)
		p.checkTable(tableKey, t, len(s.Shards))
	}
}

func (p *problems) checkTable(key string, t Table, shards int) {
	switch t.Type {
	case TableGlobal:
		if t.ShardKey != "" || t.Algorithm != "" || len(t.Bounds) > 0 {
			p.add(key, "a global table takes no shard_key, algorithm or bounds")
		}
		return
	case "": // sharded
	default:
		p.add(key+".type", "%q is not %q (omit type for a sharded table)", t.Type, TableGlobal)
		return
	}

	if t.ShardKey == "" {
		p.add(key+".shard_key", "missing (required for a sharded table)")
	}
	switch t.Algorithm {
	case AlgorithmRange:
		p.checkBounds(key+".bounds", t.Bounds, shards)
	case AlgorithmMod, AlgorithmHash:
		if len(t.Bounds) > 0 {
			p.add(key+".bounds", "only used with algorithm range")
		}
	case "":
		p.add(key+".algorithm", "missing (mod | hash | range)")
	default:
		p.add(key+".algorithm", "%q is not one of mod | hash | range", t.Algorithm)
	}
}

// checkBounds wants N-1 strictly increasing bounds for N shards.
func (p *problems) checkBounds(key string, bounds []string, shards int) {
	if shards > 0 && len(bounds) != shards-1 {
		p.add(key, "range over %d shards needs %d bounds, got %d", shards, shards-1, len(bounds))
	}
	compare := boundsCompare(bounds)
	for i := 1; i < len(bounds); i++ {
		if compare(bounds[i], bounds[i-1]) <= 0 {
			p.add(key, "must be increasing (%q is not greater than %q)", bounds[i], bounds[i-1])
		}
	}
}

// boundsCompare compares as integers when every bound is one, else as
// strings, as the contract's range algorithm does.
func boundsCompare(bounds []string) func(a, b string) int {
	for _, b := range bounds {
		if _, err := strconv.ParseInt(b, 10, 64); err != nil {
			return strings.Compare
		}
	}
	return func(a, b string) int {
		x, _ := strconv.ParseInt(a, 10, 64)
		y, _ := strconv.ParseInt(b, 10, 64)
		return cmp.Compare(x, y)
	}
}

// checkPoolsHoldShards refuses a pool smaller than the shards a schema
// keeps on its node: a statement reaching all of them takes a connection
// for each at once, and would wait forever for one the pool cannot have.
func (p *problems) checkPoolsHoldShards(c *Config) {
	for i, n := range c.Nodes {
		if n.Pool.MaxOpen < 1 {
			continue // reported as such
		}
		for _, s := range c.Schemas {
			on := 0
			for _, sh := range s.Shards {
				if sh.Node == n.Name {
					on++
				}
			}
			if on > n.Pool.MaxOpen {
				p.add(fmt.Sprintf("nodes[%d].pool.max_open", i), "%d is fewer than the %d shards schema %q keeps on node %s: a statement reaching them all needs a connection to each", n.Pool.MaxOpen, on, s.Name, n.Name)
			}
		}
	}
}
