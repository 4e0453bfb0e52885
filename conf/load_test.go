package conf

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// minimal is a valid file leaving every defaulted key out.
const minimal = `
users:
  - name: app
nodes:
  - name: n0
    primary: 127.0.0.1:3307
schemas:
  - name: plain
    shards: [{node: n0, database: plain}]
`

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "shardproxy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustLoad(t *testing.T, path string) *Config {
	t.Helper()
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return cfg
}

// loadProblems loads yaml expecting a *ValidationError and returns its problems.
func loadProblems(t *testing.T, yaml string) []string {
	t.Helper()
	_, err := Load(writeConfig(t, yaml))
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Load: got %v, want a *ValidationError", err)
	}
	return verr.Problems
}

func TestLoadSample(t *testing.T) {
	cfg := mustLoad(t, "shardproxy.yaml")

	if got := len(cfg.Nodes); got != 2 {
		t.Fatalf("nodes: got %d, want 2", got)
	}
	if n1 := cfg.Nodes[1]; n1.Primary != "127.0.0.1:3309" || !slices.Equal(n1.Replicas, []string{"127.0.0.1:3310"}) {
		t.Errorf("nodes[1]: got %+v", n1)
	}
	shop, plain := cfg.Schemas[0], cfg.Schemas[1]
	if shop.Name != "shop" || shop.ReadFrom != ReadFromReplica || len(shop.Shards) != 4 {
		t.Errorf("shop: got %+v", shop)
	}
	if shop.Shards[2] != (Shard{Node: "n1", Database: "shop_2"}) {
		t.Errorf("shop.shards[2]: got %+v", shop.Shards[2])
	}
	wantTables := []Table{
		{Name: "users", ShardKey: "id", Algorithm: AlgorithmMod, AutoIncrement: "id"},
		{Name: "orders", ShardKey: "user_id", Algorithm: AlgorithmHash},
		{Name: "events", ShardKey: "day", Algorithm: AlgorithmRange, Bounds: []string{"2025-01-01", "2026-01-01", "2027-01-01"}},
		{Name: "countries", Type: TableGlobal},
	}
	if !slices.EqualFunc(shop.Tables, wantTables, tablesEqual) {
		t.Errorf("shop.tables:\n got %+v\nwant %+v", shop.Tables, wantTables)
	}
	if plain.Name != "plain" || plain.ReadFrom != ReadFromPrimary || len(plain.Shards) != 1 || len(plain.Tables) != 0 {
		t.Errorf("plain: got %+v", plain)
	}
	if u := cfg.Users[0]; u.Name != "app" || u.Password != "app" {
		t.Errorf("users[0]: got %+v", u)
	}
}

func tablesEqual(a, b Table) bool {
	return a.Name == b.Name && a.Type == b.Type && a.ShardKey == b.ShardKey &&
		a.Algorithm == b.Algorithm && slices.Equal(a.Bounds, b.Bounds) && a.AutoIncrement == b.AutoIncrement
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, minimal))
	n := cfg.Nodes[0]
	for _, c := range []struct {
		key       string
		got, want any
	}{
		{"listen", cfg.Listen, "127.0.0.1:6033"},
		{"admin_listen", cfg.AdminListen, "127.0.0.1:6034"},
		{"max_connections", cfg.MaxConnections, 4096},
		{"shutdown_timeout", cfg.ShutdownTimeout, 30 * time.Second},
		{"max_execution_time", cfg.MaxExecutionTime, time.Duration(0)},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "console"},
		{"log.slow_query", cfg.Log.SlowQuery, 500 * time.Millisecond},
		{"nodes[0].user", n.User, "root"},
		{"nodes[0].pool", n.Pool, Pool{MaxOpen: 64, MaxIdle: 16, IdleTimeout: 5 * time.Minute}},
		{"nodes[0].max_replica_lag", n.MaxReplicaLag, 30 * time.Second},
		{"schemas[0].read_from", cfg.Schemas[0].ReadFrom, ReadFromPrimary},
		{"schemas[0].default_shard", cfg.Schemas[0].DefaultShard, 0},
		{"users[0].schemas", cfg.Users[0].Schemas == nil, true},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestLoadKeepsExplicitValues(t *testing.T) {
	cfg := mustLoad(t, writeConfig(t, strings.NewReplacer(
		"name: app", "name: app\n    schemas: []",
		"primary: 127.0.0.1:3307", "primary: 127.0.0.1:3307\n    user: \"\"\n    pool: {max_idle: 0}",
	).Replace(minimal)))

	if s := cfg.Users[0].Schemas; s == nil || len(s) != 0 {
		t.Errorf("users[0].schemas: got %#v, want an empty non-nil slice (no schema allowed)", s)
	}
	if n := cfg.Nodes[0]; n.Pool.MaxIdle != 0 || n.Pool.MaxOpen != 64 || n.User != "root" {
		t.Errorf("nodes[0]: got %+v, want max_idle kept at 0, max_open and user defaulted", n)
	}
}

func TestLoadExpandsEnv(t *testing.T) {
	t.Setenv("SP_TEST_PASSWORD", "s3cret")
	for _, c := range []struct{ password, want string }{
		{"${SP_TEST_PASSWORD}", "s3cret"},
		{"pre-${SP_TEST_PASSWORD}-post", "pre-s3cret-post"},
		{"${SP_TEST_UNSET}", ""},
		{"pa$word", "pa$word"},
		{"$SP_TEST_PASSWORD", "$SP_TEST_PASSWORD"},
		{"a${b", "a${b"},
	} {
		t.Run(c.password, func(t *testing.T) {
			yaml := strings.Replace(minimal, "name: app", "name: app\n    password: '"+c.password+"'", 1)
			if got := mustLoad(t, writeConfig(t, yaml)).Users[0].Password; got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestLoadEnvOverrides(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		got  func(*Config) any
		want any
	}{
		{"top-level string", map[string]string{"SHARDPROXY_LISTEN": "0.0.0.0:7033"},
			func(c *Config) any { return c.Listen }, "0.0.0.0:7033"},
		{"top-level int", map[string]string{"SHARDPROXY_MAX_CONNECTIONS": "10"},
			func(c *Config) any { return c.MaxConnections }, 10},
		{"top-level duration", map[string]string{"SHARDPROXY_SHUTDOWN_TIMEOUT": "5s"},
			func(c *Config) any { return c.ShutdownTimeout }, 5 * time.Second},
		{"nested string", map[string]string{"SHARDPROXY_LOG_LEVEL": "debug"},
			func(c *Config) any { return c.Log.Level }, "debug"},
		{"nested duration", map[string]string{"SHARDPROXY_LOG_SLOW_QUERY": "2s"},
			func(c *Config) any { return c.Log.SlowQuery }, 2 * time.Second},
		{"bool and tls", map[string]string{
			"SHARDPROXY_REQUIRE_SECURE_TRANSPORT": "true",
			"SHARDPROXY_TLS_CERT":                 "/cert.pem",
			"SHARDPROXY_TLS_KEY":                  "/key.pem",
		}, func(c *Config) any {
			return c.RequireSecureTransport && c.TLS == TLS{Cert: "/cert.pem", Key: "/key.pem"}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			for name, value := range c.env {
				t.Setenv(name, value)
			}
			// The sample sets every key, so the environment must win over the file.
			if got := c.got(mustLoad(t, "shardproxy.yaml")); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestLoadRejectsUnknownKeys(t *testing.T) {
	problems := loadProblems(t, `
lisen: 127.0.0.1:6033
log: {levle: debug}
users:
  - {name: app, pasword: x}
nodes:
  - {name: n0, primary: 127.0.0.1:3307, pool: {maxopen: 3}}
  - {name: n1, primay: 127.0.0.1:3309}
schemas:
  - name: shop
    shards: [{node: n0, database: shop_0, db: x}]
    tables: [{name: t, shardkey: id, algorithm: mod}]
`)
	for _, want := range []string{
		"lisen: unknown key",
		"log.levle: unknown key",
		"users[0].pasword: unknown key",
		"nodes[0].pool.maxopen: unknown key",
		"nodes[1].primay: unknown key",
		"schemas[0].shards[0].db: unknown key",
		"schemas[0].tables[0].shardkey: unknown key",
	} {
		if !slices.Contains(problems, want) {
			t.Errorf("missing problem %q in:\n%s", want, strings.Join(problems, "\n"))
		}
	}
}

func TestLoadDurations(t *testing.T) {
	for _, c := range []struct {
		value   string
		want    time.Duration
		problem string // "" when the value is valid
	}{
		{"30s", 30 * time.Second, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"250ms", 250 * time.Millisecond, ""},
		{"0", 0, ""},
		{"0s", 0, ""},
		{"30", 0, `shutdown_timeout: 30 is not a duration`},
		{"soon", 0, `shutdown_timeout: "soon" is not a duration`},
		{"-1s", 0, `shutdown_timeout: -1s must not be negative`},
	} {
		t.Run(c.value, func(t *testing.T) {
			path := writeConfig(t, "shutdown_timeout: "+c.value+"\n"+minimal)
			if c.problem == "" {
				if got := mustLoad(t, path).ShutdownTimeout; got != c.want {
					t.Errorf("got %v, want %v", got, c.want)
				}
				return
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Errorf("got error %v, want one containing %q", err, c.problem)
			}
		})
	}
}

func TestLoadReportsTypeErrors(t *testing.T) {
	problems := loadProblems(t, "max_connections: lots\n"+minimal)
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "max_connections: ") {
		t.Errorf("got %q, want one problem naming max_connections", problems)
	}
}

func TestLoadListsEveryProblemOnePerLine(t *testing.T) {
	_, err := Load(writeConfig(t, `
max_connections: 0
bogus: 1
log: {level: loud}
nodes: [{name: n0}]
schemas: [{name: shop, shards: [{node: n9, database: shop_0}]}]
`))
	want := []string{
		"bogus: unknown key",
		"max_connections: 0 must be at least 1",
		`log.level: "loud" is not one of debug | info | warn | error`,
		"nodes[0].primary: missing (host:port)",
		`schemas[0].shards[0].node: unknown node "n9"`,
		"users: missing (at least one user)",
	}
	if err == nil {
		t.Fatal("Load succeeded, want problems")
	}
	lines := strings.Split(err.Error(), "\n")
	slices.Sort(lines)
	slices.Sort(want)
	if !slices.Equal(lines, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadRefusesEmptyFile(t *testing.T) {
	got := loadProblems(t, "")
	want := []string{
		"users: missing (at least one user)",
		"nodes: missing (at least one node)",
		"schemas: missing (at least one schema)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "absent.yaml"))
	var verr *ValidationError
	if err == nil || errors.As(err, &verr) {
		t.Errorf("got %v, want a read error", err)
	}
}
