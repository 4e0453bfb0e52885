package router

import (
	"fmt"
	"strings"

	"github.com/shardproxy/shardproxy/conf"
)

// TableKind says how a table is spread over its schema's shards.
type TableKind uint8

const (
	Unsharded TableKind = iota // not listed: lives on the default shard
	Sharded                    // rows spread by shard key
	Global                     // a full copy on every shard
)

// Table is a table the configuration lists.
type Table struct {
	Name          string // lower case
	Kind          TableKind
	Key           string // shard key column, lower case (Sharded)
	AutoIncrement string // column the proxy fills from its sequence, lower case
	Algorithm     Algorithm
	sharding      string // tables with equal sharding put equal keys on the same shard
}

// Schema is one logical database and how its tables map to shards.
type Schema struct {
	Name         string // as configured
	Shards       []conf.Shard
	DefaultShard int
	tables       map[string]*Table
	dbs          [][]string // dbs[i]: {physical database of shard i}, for templates
	router       *Router    // to tell another known schema from an unknown one
}

// NewSchema builds a schema's shard map, checking what routing relies on.
func NewSchema(cs conf.Schema) (*Schema, error) {
	n := len(cs.Shards)
	if n == 0 {
		return nil, fmt.Errorf("schema %s: needs at least one shard", cs.Name)
	}
	if cs.DefaultShard < 0 || cs.DefaultShard >= n {
		return nil, fmt.Errorf("schema %s: default_shard %d is out of range 0..%d", cs.Name, cs.DefaultShard, n-1)
	}
	s := &Schema{Name: cs.Name, Shards: cs.Shards, DefaultShard: cs.DefaultShard, tables: map[string]*Table{}}
	for _, sh := range cs.Shards {
		s.dbs = append(s.dbs, []string{sh.Database})
	}
	for _, ct := range cs.Tables {
		t, err := newTable(ct, n)
		if err != nil {
			return nil, fmt.Errorf("schema %s: table %s: %w", cs.Name, ct.Name, err)
		}
		if s.tables[t.Name] != nil {
			return nil, fmt.Errorf("schema %s: table %s is listed twice", cs.Name, ct.Name)
		}
		s.tables[t.Name] = t
	}
	return s, nil
}

func newTable(ct conf.Table, n int) (*Table, error) {
	t := &Table{Name: strings.ToLower(ct.Name), AutoIncrement: strings.ToLower(ct.AutoIncrement)}
	if ct.IsGlobal() {
		t.Kind = Global
		return t, nil
	}
	if ct.ShardKey == "" {
		return nil, fmt.Errorf("shard_key is missing")
	}
	alg, err := NewAlgorithm(ct.Algorithm, n, ct.Bounds)
	if err != nil {
		return nil, err
	}
	t.Kind, t.Key, t.Algorithm = Sharded, strings.ToLower(ct.ShardKey), alg
	t.sharding = fmt.Sprintf("%s/%d/%q", ct.Algorithm, n, ct.Bounds)
	return t, nil
}

// Table returns the listed table, or nil for an unlisted (unsharded) one.
func (s *Schema) Table(name string) *Table { return s.tables[strings.ToLower(name)] }

// NumShards returns the number of shards.
func (s *Schema) NumShards() int { return len(s.Shards) }

// Database returns the physical database of shard i.
func (s *Schema) Database(i int) string { return s.Shards[i].Database }

// PassThrough reports a one-shard schema with no tables: every statement
// goes unchanged to one database, so the proxy may forward text the parser
// rejects instead of answering 1064.
func (s *Schema) PassThrough() bool { return len(s.Shards) == 1 && len(s.tables) == 0 }

// Router holds every logical schema.
type Router struct {
	schemas map[string]*Schema // by lower-case name
	first   *Schema
}

// New builds the shard maps of every schema in cfg.
func New(cfg *conf.Config) (*Router, error) {
	r := &Router{schemas: map[string]*Schema{}}
	for _, cs := range cfg.Schemas {
		s, err := NewSchema(cs)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(cs.Name)
		if r.schemas[key] != nil {
			return nil, fmt.Errorf("schema %s is listed twice", cs.Name)
		}
		s.router = r
		r.schemas[key] = s
		if r.first == nil {
			r.first = s
		}
	}
	return r, nil
}

// Schema returns the logical schema called name, or nil.
func (r *Router) Schema(name string) *Schema { return r.schemas[strings.ToLower(name)] }
