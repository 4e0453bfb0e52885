package admin

import "encoding/json"

// TopologyView is what /topology shows. It has no field for a password or a
// backend user on purpose: fill it instead of serializing the configuration.
type TopologyView struct {
	Schemas []SchemaView `json:"schemas"`
	Nodes   []NodeView   `json:"nodes"`
}

// SchemaView is a logical schema and where its shards live.
type SchemaView struct {
	Name     string      `json:"name"`
	ReadFrom string      `json:"read_from"` // primary | replica
	Shards   []ShardView `json:"shards"`
	Tables   []TableView `json:"tables"`
}

// TableView is a table of the schema's shard map.
type TableView struct {
	Name      string `json:"name"`
	Type      string `json:"type"` // sharded | global
	ShardKey  string `json:"shard_key,omitempty"`
	Algorithm string `json:"algorithm,omitempty"` // mod | hash | range
}

// ShardView is shard Index of a schema: one physical database on a node.
type ShardView struct {
	Index    int    `json:"index"`
	Node     string `json:"node"`
	Database string `json:"database"`
}

// NodeView is one primary and its replicas.
type NodeView struct {
	Name     string        `json:"name"`
	Primary  BackendView   `json:"primary"`
	Replicas []BackendView `json:"replicas"`
}

// BackendView is one backend server. LagSeconds is -1 for a replica that
// did not answer its last health check, and 0 for a primary.
type BackendView struct {
	Addr       string  `json:"addr"`
	Role       string  `json:"role"` // metrics.RolePrimary | metrics.RoleReplica
	Healthy    bool    `json:"healthy"`
	LagSeconds float64 `json:"lag_seconds"`
}

// MarshalJSON writes empty lists as [] rather than null, so consumers can
// iterate without a nil check.
func (t TopologyView) MarshalJSON() ([]byte, error) {
	type plain TopologyView // drops this method, avoiding recursion
	out := plain{Schemas: make([]SchemaView, len(t.Schemas)), Nodes: make([]NodeView, len(t.Nodes))}
	for i, s := range t.Schemas {
		if s.Shards == nil {
			s.Shards = []ShardView{}
		}
		if s.Tables == nil {
			s.Tables = []TableView{}
		}
		out.Schemas[i] = s
	}
	for i, n := range t.Nodes {
		if n.Replicas == nil {
			n.Replicas = []BackendView{}
		}
		out.Nodes[i] = n
	}
	return json.Marshal(out)
}
