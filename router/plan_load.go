package router

import (
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// LoadData is how LOAD DATA LOCAL INFILE into a sharded table runs: the
// proxy reads the client's file, gives each record to the shard of its
// key (Format finds records and keys as MariaDB reads them), and each
// shard loads its records with its target's statement: LOCAL, without
// IGNORE n LINES (the proxy skips those lines).
type LoadData struct {
	Table  *Table
	Path   string // the file's name as the client wrote it, to ask for it
	Format sqlparse.LoadFormat
	// KeyIsAuto: the key is the auto_increment column the proxy's sequence
	// fills: the sequence must move past the ids the file gives.
	KeyIsAuto bool
}

// Shard is the shard of a record's key, as an INSERT of that text would
// place the row.
func (l *LoadData) Shard(key []byte) (int, error) {
	sh, err := l.Table.Algorithm.Shard(sqlparse.StringValue(string(key)))
	if err != nil {
		return 0, errorf(ErUnknown, "shard key %s.%s %v", l.Table.Name, l.Table.Key, err)
	}
	return sh, nil
}

// fixed binds every execution to one route.
type fixed struct{ route *Route }

func (b *fixed) bind([]Value, IDSource) (*Route, error) { return b.route, nil }

// planLoad plans LOAD DATA into sharded table r.
func (pl *planner) planLoad(ld *ast.LoadDataStmt, r *ref) (binder, error) {
	pl.plan.Kind = KindInsert
	t := r.table
	if ld.FileLocRef != ast.FileLocClient {
		return nil, errorf(ErNotSupported, "LOAD DATA INFILE into sharded table %s reads a file on one server: use LOAD DATA LOCAL INFILE, whose file the client sends", t.Name)
	}
	if len(ld.ColumnsAndUserVars) == 0 {
		return nil, errorf(ErUnknown, "LOAD DATA into %s must list its columns, so the proxy can find the shard key %s", t.Name, t.Key)
	}
	key := -1
	for i, c := range ld.ColumnsAndUserVars {
		if c.ColumnName != nil && c.ColumnName.Name.L == t.Key {
			key = i
		}
	}
	if key < 0 {
		return nil, errorf(ErUnknown, "LOAD DATA into %s must read the shard key %s from the file: list it among the columns", t.Name, t.Key)
	}
	for _, a := range ld.ColumnAssignments {
		if a.Column.Name.L == t.Key {
			return nil, errorf(ErNotSupported, "LOAD DATA into %s may not SET the shard key %s: the proxy places each record by the key the file gives", t.Name, t.Key)
		}
	}
	if t.AutoIncrement != "" && t.AutoIncrement != t.Key {
		return nil, errorf(ErNotSupported, "LOAD DATA into %s is not supported: its auto_increment column %s comes from the proxy's sequence, which a file cannot take ids from", t.Name, t.AutoIncrement)
	}
	format, err := sqlparse.NewLoadFormat(ld, len(ld.ColumnsAndUserVars), key)
	if err != nil {
		return nil, errorf(ErNotSupported, "LOAD DATA into sharded table %s: %v", t.Name, err)
	}
	tmpl, err := sqlparse.LoadTemplate(ld, pl.schemas())
	if err != nil {
		return nil, errorf(ErUnknown, "cannot rewrite the statement for the shards: %v", err)
	}
	n := pl.s.NumShards()
	rt := &Route{Flags: pl.plan.Flags, Scatter: n > 1, Load: &LoadData{Table: t, Path: ld.Path, Format: format, KeyIsAuto: t.AutoIncrement == t.Key}}
	for i := range n {
		rt.Targets = append(rt.Targets, Target{Shard: i, Query: tmpl.Expand(pl.s.dbs[i])})
	}
	pl.plan.MultiShard = n > 1
	return &fixed{route: rt}, nil
}
