// Package conf holds shardproxy's configuration: the YAML schema, defaults,
// environment expansion and overrides, and validation.
package conf

import "time"

// Config is the whole configuration file (see shared CONTRACT.md).
type Config struct {
	Listen           string        `mapstructure:"listen"`
	AdminListen      string        `mapstructure:"admin_listen"`
	MaxConnections   int           `mapstructure:"max_connections"`
	ShutdownTimeout  time.Duration `mapstructure:"shutdown_timeout"`
	MaxExecutionTime time.Duration `mapstructure:"max_execution_time"`
	// MaxMergeRows caps the rows a scatter SELECT may hold in the proxy's
	// memory when its merge cannot stream (sorting on an aggregate).
	MaxMergeRows           int      `mapstructure:"max_merge_rows"`
	TLS                    TLS      `mapstructure:"tls"`
	RequireSecureTransport bool     `mapstructure:"require_secure_transport"`
	Log                    Log      `mapstructure:"log"`
	Users                  []User   `mapstructure:"users"`
	Nodes                  []Node   `mapstructure:"nodes"`
	Schemas                []Schema `mapstructure:"schemas"`
}

type TLS struct {
	Cert string `mapstructure:"cert"`
	Key  string `mapstructure:"key"`
}

type Log struct {
	Level     string        `mapstructure:"level"`  // debug | info | warn | error
	Format    string        `mapstructure:"format"` // console | json
	SlowQuery time.Duration `mapstructure:"slow_query"`
}

// User is an account clients log in with.
type User struct {
	Name     string `mapstructure:"name"`
	Password string `mapstructure:"password"`
	// Schemas the user may use; nil means all.
	Schemas []string `mapstructure:"schemas"`
}

// Node is one primary and its replicas.
type Node struct {
	Name          string        `mapstructure:"name"`
	Primary       string        `mapstructure:"primary"`
	Replicas      []string      `mapstructure:"replicas"`
	User          string        `mapstructure:"user"`
	Password      string        `mapstructure:"password"`
	Pool          Pool          `mapstructure:"pool"`
	MaxReplicaLag time.Duration `mapstructure:"max_replica_lag"`
}

type Pool struct {
	MaxOpen     int           `mapstructure:"max_open"`
	MaxIdle     int           `mapstructure:"max_idle"`
	IdleTimeout time.Duration `mapstructure:"idle_timeout"`
}

// Schema is a logical database that clients see.
type Schema struct {
	Name         string  `mapstructure:"name"`
	ReadFrom     string  `mapstructure:"read_from"` // primary | replica
	Shards       []Shard `mapstructure:"shards"`
	DefaultShard int     `mapstructure:"default_shard"`
	Tables       []Table `mapstructure:"tables"`
}

// Shard is one physical database on a node.
type Shard struct {
	Node     string `mapstructure:"node"`
	Database string `mapstructure:"database"`
}

// Table describes how one table is spread over a schema's shards.
type Table struct {
	Name          string   `mapstructure:"name"`
	Type          string   `mapstructure:"type"` // "" (sharded) | global
	ShardKey      string   `mapstructure:"shard_key"`
	Algorithm     string   `mapstructure:"algorithm"` // mod | hash | range
	Bounds        []string `mapstructure:"bounds"`
	AutoIncrement string   `mapstructure:"auto_increment"`
}

const (
	ReadFromPrimary = "primary"
	ReadFromReplica = "replica"
	TableGlobal     = "global"
	AlgorithmMod    = "mod"
	AlgorithmHash   = "hash"
	AlgorithmRange  = "range"
)

// IsGlobal reports whether the table has a full copy on every shard.
func (t Table) IsGlobal() bool { return t.Type == TableGlobal }
