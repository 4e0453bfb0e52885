package proxy

import (
	"strings"
	"sync"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/router"
)

// topology is one configuration in force: users, logical schemas and the
// backend nodes they live on. It is replaced whole on reload.
type topology struct {
	cfg     *conf.Config
	users   map[string]conf.User
	schemas map[string]*schema // by lower-cased logical name
	order   []string           // logical names as configured, for SHOW DATABASES
	nodes   map[string]*backend.Node
	router  *router.Router
}

// schema is a logical database and the physical databases behind it.
type schema struct {
	name            string
	readFromReplica bool
	shards          []shard
	defaultShard    int
	physical        map[string]bool // lower-cased physical database names
	tables          int
	routing         *router.Schema
	plans           *planCache
	modePlans       sync.Map // mysql.SQLMode → *planCache, for sessions in other parse modes (sqlmode.go)
	ids             *sequences
	columns         columnCache // table column orders, for INSERTs without a column list
	multiNode       bool        // shards on several nodes: transactions use XA
}

// schemaOf reports whether sc is the session's current schema: texts are
// cached per schema for the sessions using it.
func (s *schema) schemaOf(sess *Session) bool { return strings.EqualFold(sess.schemaName, s.name) }

// passThrough reports a schema that is one plain database behind the proxy.
func (s *schema) passThrough() bool { return len(s.shards) == 1 && s.tables == 0 }

// shard is one physical database on one node.
type shard struct {
	node *backend.Node
	db   string
}

// newTopology builds the runtime view of cfg, reusing nodes from prev whose
// settings did not change so that their pools survive a reload.
func newTopology(cfg *conf.Config, prev *topology) (*topology, error) {
	rt, err := router.New(cfg)
	if err != nil {
		return nil, err
	}
	t := &topology{
		router:  rt,
		cfg:     cfg,
		users:   map[string]conf.User{},
		schemas: map[string]*schema{},
		nodes:   map[string]*backend.Node{},
	}
	for _, u := range cfg.Users {
		t.users[u.Name] = u
	}
	for _, n := range cfg.Nodes {
		if prev != nil {
			if old, ok := prev.nodes[n.Name]; ok && sameNode(prev.nodeConf(n.Name), n) {
				t.nodes[n.Name] = old
				continue
			}
		}
		t.nodes[n.Name] = backend.NewNode(n)
	}
	for _, s := range cfg.Schemas {
		sc := &schema{
			name:            s.Name,
			readFromReplica: s.ReadFrom == conf.ReadFromReplica,
			defaultShard:    s.DefaultShard,
			physical:        map[string]bool{},
			tables:          len(s.Tables),
			routing:         rt.Schema(s.Name),
			plans:           newPlanCache(),
		}
		for _, sh := range s.Shards {
			sc.multiNode = sc.multiNode || sh.Node != s.Shards[0].Node
			sc.shards = append(sc.shards, shard{node: t.nodes[sh.Node], db: sh.Database})
			sc.physical[strings.ToLower(sh.Database)] = true
		}
		sc.ids = newSequences(sc)
		if prev != nil {
			// Keep reserved blocks across a reload: ids are never reused.
			if old := prev.schema(s.Name); old != nil {
				sc.ids = old.ids
				sc.ids.sc = sc
			}
		}
		t.schemas[strings.ToLower(s.Name)] = sc
		t.order = append(t.order, s.Name)
	}
	return t, nil
}

func (t *topology) nodeConf(name string) conf.Node {
	for _, n := range t.cfg.Nodes {
		if n.Name == name {
			return n
		}
	}
	return conf.Node{}
}

func sameNode(a, b conf.Node) bool {
	if a.Primary != b.Primary || a.User != b.User || a.Password != b.Password ||
		a.Pool != b.Pool || a.MaxReplicaLag != b.MaxReplicaLag || len(a.Replicas) != len(b.Replicas) {
		return false
	}
	for i := range a.Replicas {
		if a.Replicas[i] != b.Replicas[i] {
			return false
		}
	}
	return true
}

// closeUnused closes the nodes of t that next no longer uses.
func (t *topology) closeUnused(next *topology) {
	for name, n := range t.nodes {
		if next.nodes[name] != n {
			n.Close()
		}
	}
}

// schema looks a logical schema up by name, case-insensitively.
func (t *topology) schema(name string) *schema {
	return t.schemas[strings.ToLower(name)]
}

// mayUse reports whether user may use the logical schema.
func mayUse(u conf.User, name string) bool {
	if u.Schemas == nil {
		return true
	}
	for _, s := range u.Schemas {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}
