package conf

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func problemStrings(errs []error) []string {
	out := make([]string, len(errs))
	for i, err := range errs {
		out[i] = err.Error()
	}
	return out
}

func TestValidate(t *testing.T) {
	// Each case breaks the sample (shop: 4 shards, tables users, orders,
	// events, countries) in one way and expects exactly that problem.
	for _, c := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"unknown node", func(c *Config) { c.Schemas[0].Shards[2].Node = "n9" },
			`schemas[0].shards[2].node: unknown node "n9"`},
		{"default shard out of range", func(c *Config) { c.Schemas[0].DefaultShard = 7 },
			`schemas[0].default_shard: 7 is out of range (schema has 4 shards)`},
		{"negative default shard", func(c *Config) { c.Schemas[0].DefaultShard = -1 },
			`schemas[0].default_shard: -1 is out of range (schema has 4 shards)`},
		{"duplicate node", func(c *Config) {
			c.Nodes[1].Name = "n0"
			c.Schemas[0].Shards[2].Node = "n0"
			c.Schemas[0].Shards[3].Node = "n0"
		},
			`nodes[1].name: duplicate node name "n0"`},
		{"duplicate user", func(c *Config) { c.Users = append(c.Users, c.Users[0]) },
			`users[1].name: duplicate user "app"`},
		{"duplicate table", func(c *Config) { c.Schemas[0].Tables[1].Name = "users" },
			`schemas[0].tables[1].name: duplicate table "users"`},
		{"duplicate schema", func(c *Config) { c.Schemas[1].Name = "shop"; c.Users[0].Schemas = nil },
			`schemas[1].name: duplicate schema "shop"`},
		{"empty node name", func(c *Config) { c.Nodes = append(c.Nodes, Node{Primary: "h:1", User: "u", Pool: c.Nodes[0].Pool}) },
			`nodes[2].name: missing`},
		{"empty user name", func(c *Config) { c.Users[0].Name = "" },
			`users[0].name: missing`},
		{"empty table name", func(c *Config) { c.Schemas[0].Tables[3].Name = "" },
			`schemas[0].tables[3].name: missing`},
		{"empty schema name", func(c *Config) {
			c.Schemas = append(c.Schemas, Schema{ReadFrom: "primary", Shards: []Shard{{Node: "n1", Database: "x"}}})
		},
			`schemas[2].name: missing`},
		{"missing shard key", func(c *Config) { c.Schemas[0].Tables[0].ShardKey = "" },
			`schemas[0].tables[0].shard_key: missing (required for a sharded table)`},
		{"bad algorithm", func(c *Config) { c.Schemas[0].Tables[1].Algorithm = "crc" },
			`schemas[0].tables[1].algorithm: "crc" is not one of mod | hash | range`},
		{"missing algorithm", func(c *Config) { c.Schemas[0].Tables[1].Algorithm = "" },
			`schemas[0].tables[1].algorithm: missing (mod | hash | range)`},
		{"bad table type", func(c *Config) { c.Schemas[0].Tables[3].Type = "broadcast" },
			`schemas[0].tables[3].type: "broadcast" is not "global" (omit type for a sharded table)`},
		{"global with shard key", func(c *Config) { c.Schemas[0].Tables[3].ShardKey = "code" },
			`schemas[0].tables[3]: a global table takes no shard_key, algorithm or bounds`},
		{"global with algorithm", func(c *Config) { c.Schemas[0].Tables[3].Algorithm = "hash" },
			`schemas[0].tables[3]: a global table takes no shard_key, algorithm or bounds`},
		{"bounds not increasing", func(c *Config) { c.Schemas[0].Tables[2].Bounds[1] = "2024-06-01" },
			`schemas[0].tables[2].bounds: must be increasing ("2024-06-01" is not greater than "2025-01-01")`},
		{"bounds equal", func(c *Config) { c.Schemas[0].Tables[2].Bounds[2] = "2026-01-01" },
			`schemas[0].tables[2].bounds: must be increasing ("2026-01-01" is not greater than "2026-01-01")`},
		{"integer bounds compare as integers", func(c *Config) { c.Schemas[0].Tables[2].Bounds = []string{"100", "20", "3000"} },
			`schemas[0].tables[2].bounds: must be increasing ("20" is not greater than "100")`},
		{"too few bounds", func(c *Config) { c.Schemas[0].Tables[2].Bounds = c.Schemas[0].Tables[2].Bounds[:2] },
			`schemas[0].tables[2].bounds: range over 4 shards needs 3 bounds, got 2`},
		{"bounds without range", func(c *Config) { c.Schemas[0].Tables[1].Bounds = []string{"1", "2", "3"} },
			`schemas[0].tables[1].bounds: only used with algorithm range`},
		{"bad read_from", func(c *Config) { c.Schemas[0].ReadFrom = "any" },
			`schemas[0].read_from: "any" is not one of primary | replica`},
		{"bad log level", func(c *Config) { c.Log.Level = "verbose" },
			`log.level: "verbose" is not one of debug | info | warn | error`},
		{"bad log format", func(c *Config) { c.Log.Format = "xml" },
			`log.format: "xml" is not one of console | json`},
		{"listen without port", func(c *Config) { c.Listen = "localhost" },
			`listen: "localhost" is not host:port`},
		{"listen with bad port", func(c *Config) { c.Listen = "localhost:http" },
			`listen: "localhost:http" is not host:port`},
		{"admin_listen empty", func(c *Config) { c.AdminListen = "" },
			`admin_listen: missing (host:port)`},
		{"bad replica address", func(c *Config) { c.Nodes[0].Replicas[0] = "127.0.0.1:99999" },
			`nodes[0].replicas[0]: "127.0.0.1:99999" is not host:port`},
		{"node without primary", func(c *Config) { c.Nodes[1].Primary = "" },
			`nodes[1].primary: missing (host:port)`},
		{"node without user", func(c *Config) { c.Nodes[1].User = "" },
			`nodes[1].user: missing`},
		{"schema without shards", func(c *Config) { c.Schemas[1].Shards = nil },
			`schemas[1].shards: missing (at least one shard)`},
		{"shard without database", func(c *Config) { c.Schemas[1].Shards[0].Database = "" },
			`schemas[1].shards[0].database: missing`},
		{"two shards on one database", func(c *Config) { c.Schemas[0].Shards[1].Database = "shop_0" },
			`schemas[0].shards[1]: same node and database as shards[0]`},
		{"user names unknown schema", func(c *Config) { c.Users[0].Schemas = []string{"shop", "shopp"} },
			`users[0].schemas[1]: unknown schema "shopp"`},
		{"no users", func(c *Config) { c.Users = nil },
			`users: missing (at least one user)`},
		{"no schemas", func(c *Config) { c.Schemas = nil; c.Users[0].Schemas = nil },
			`schemas: missing (at least one schema)`},
		{"max_connections zero", func(c *Config) { c.MaxConnections = 0 },
			`max_connections: 0 must be at least 1`},
		{"tls cert without key", func(c *Config) { c.TLS.Cert = "/cert.pem" },
			`tls: cert and key must be given together`},
		{"tls key without cert", func(c *Config) { c.TLS.Key = "/key.pem" },
			`tls: cert and key must be given together`},
		{"secure transport without tls", func(c *Config) { c.RequireSecureTransport = true },
			`require_secure_transport: needs tls.cert and tls.key`},
		{"max_idle above max_open", func(c *Config) { c.Nodes[0].Pool.MaxIdle = 65 },
			`nodes[0].pool.max_idle: 65 must be between 0 and max_open (64)`},
		{"max_open zero", func(c *Config) { c.Nodes[0].Pool = Pool{} },
			`nodes[0].pool.max_open: 0 must be at least 1`},
		{"max_open below the shards on the node", func(c *Config) { c.Nodes[0].Pool.MaxOpen, c.Nodes[0].Pool.MaxIdle = 1, 1 },
			`nodes[0].pool.max_open: 1 is fewer than the 2 shards schema "shop" keeps on node n0: a statement reaching them all needs a connection to each`},
		{"negative shutdown_timeout", func(c *Config) { c.ShutdownTimeout = -time.Second },
			`shutdown_timeout: -1s must not be negative`},
		{"negative max_execution_time", func(c *Config) { c.MaxExecutionTime = -time.Second },
			`max_execution_time: -1s must not be negative`},
		{"negative slow_query", func(c *Config) { c.Log.SlowQuery = -time.Second },
			`log.slow_query: -1s must not be negative`},
		{"negative idle_timeout", func(c *Config) { c.Nodes[1].Pool.IdleTimeout = -time.Minute },
			`nodes[1].pool.idle_timeout: -1m0s must not be negative`},
		{"negative max_replica_lag", func(c *Config) { c.Nodes[1].MaxReplicaLag = -time.Second },
			`nodes[1].max_replica_lag: -1s must not be negative`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustLoad(t, "shardproxy.yaml")
			c.mutate(cfg)
			got := problemStrings(cfg.Validate())
			if len(got) != 1 || got[0] != c.want {
				t.Errorf("got  %q\nwant [%q]", got, c.want)
			}
		})
	}
}

func TestValidateAcceptsVariants(t *testing.T) {
	for _, c := range []struct {
		name   string
		adjust func(*Config)
	}{
		{"string bounds", func(c *Config) {}},
		{"integer bounds", func(c *Config) { c.Schemas[0].Tables[2].Bounds = []string{"9", "10", "100"} }},
		{"negative integer bounds", func(c *Config) { c.Schemas[0].Tables[2].Bounds = []string{"-10", "-9", "0"} }},
		{"user limited to no schema", func(c *Config) { c.Users[0].Schemas = []string{} }},
		{"any free port", func(c *Config) { c.Listen, c.AdminListen = "127.0.0.1:0", ":0" }},
		{"tls", func(c *Config) { c.TLS = TLS{Cert: "c.pem", Key: "k.pem"}; c.RequireSecureTransport = true }},
		{"no idle connections", func(c *Config) { c.Nodes[0].Pool.MaxIdle = 0 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := mustLoad(t, "shardproxy.yaml")
			c.adjust(cfg)
			if errs := cfg.Validate(); errs != nil {
				t.Errorf("unexpected problems: %q", problemStrings(errs))
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := mustLoad(t, "shardproxy.yaml")
	cfg.Listen = "nowhere"
	cfg.Log.Format = "xml"
	cfg.Nodes[1].Name = "n0"
	cfg.Schemas[0].DefaultShard = 4
	cfg.Schemas[0].Tables[0].ShardKey = ""
	cfg.Schemas[0].Tables[2].Bounds = []string{"b", "a"}

	got := problemStrings(cfg.Validate())
	want := []string{
		`listen: "nowhere" is not host:port`,
		`log.format: "xml" is not one of console | json`,
		`nodes[1].name: duplicate node name "n0"`,
		`schemas[0].default_shard: 4 is out of range (schema has 4 shards)`,
		`schemas[0].shards[2].node: unknown node "n1"`, // renamed away above
		`schemas[0].shards[3].node: unknown node "n1"`,
		`schemas[0].tables[0].shard_key: missing (required for a sharded table)`,
		`schemas[0].tables[2].bounds: range over 4 shards needs 3 bounds, got 2`,
		`schemas[0].tables[2].bounds: must be increasing ("a" is not greater than "b")`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func ExampleConfig_Validate() {
	cfg := &Config{Listen: "127.0.0.1:6033", AdminListen: "127.0.0.1:6034", MaxConnections: 1, MaxMergeRows: 1,
		Log:     Log{Level: "info", Format: "json"},
		Users:   []User{{Name: "app"}},
		Nodes:   []Node{{Name: "n0", Primary: "127.0.0.1:3307", User: "root", Pool: Pool{MaxOpen: 1}}},
		Schemas: []Schema{{Name: "shop", ReadFrom: ReadFromPrimary, Shards: []Shard{{Node: "n9", Database: "shop_0"}}}},
	}
	for _, err := range cfg.Validate() {
		fmt.Println(err)
	}
	// Output: schemas[0].shards[0].node: unknown node "n9"
}
