package router

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// StmtKind is the kind of statement a plan routes.
type StmtKind uint8

const (
	KindSelect StmtKind = iota
	KindInsert          // INSERT and REPLACE
	KindUpdate
	KindDelete
	KindDDL
	KindOther // SHOW, SET, transaction control...: the default shard
)

var kindNames = [...]string{"select", "insert", "update", "delete", "ddl", "other"}

func (k StmtKind) String() string { return kindNames[k] }

// Flags describe a statement; a Plan and each of its Routes carry them.
type Flags struct {
	Kind StmtKind
	// Read: a SELECT without FOR UPDATE / LOCK IN SHARE MODE (or locking
	// functions), which may run on a replica outside a transaction.
	Read bool
	// Primary: the text carries /* shardproxy:primary */. Comments are not
	// part of a statement digest: a plan cache keyed by digest must check
	// sqlparse.HasPrimaryHint on each text itself.
	Primary bool
}

// Plan is the routing of one statement, computed once from its AST and
// reused for every execution; it keeps no reference to the AST. Safe for
// concurrent use.
type Plan struct {
	Flags
	// MultiShard: some execution may reach several shards, so results must
	// be merged (reads) or added up (writes).
	MultiShard bool
	// Params is the number of `?` parameters Bind expects.
	Params int
	// AutoIncrement is set for an INSERT into a table whose auto_increment
	// column the proxy fills.
	AutoIncrement *AutoIncrement

	b binder
}

type binder interface {
	bind(params []Value, next IDSource) (*Route, error)
}

// IDSource reserves n consecutive auto_increment ids and returns the first.
type IDSource func(n int) (first uint64, err error)

// Route is where one execution goes. Routes may be shared between
// executions: treat them as read-only.
type Route struct {
	Flags
	// Scatter: several shards each hold part of the answer; merge the rows
	// of a read, add up the affected rows of a write.
	Scatter bool
	// Broadcast: the same change is applied on every shard (a global table
	// write, DDL); answer with one shard's result.
	Broadcast bool
	Targets   []Target
	// InsertID is the first auto_increment id the proxy generated for this
	// INSERT (what LAST_INSERT_ID() returns), 0 when none.
	InsertID uint64
	// GivenID is the largest auto_increment value the INSERT's rows give
	// themselves (as literals or parameters), 0 when none: the sequence
	// moves past it, as MariaDB's counter does.
	GivenID uint64
	// Limit, for an UPDATE or DELETE with LIMIT on several shards, runs the
	// targets one after another under the LIMIT (WriteLimit).
	Limit *WriteLimit
	// RowShards is, for an INSERT split over several shards, the shard of
	// each VALUES row in the client's order (each target keeps its rows in
	// that order): what RETURNING rows merge by.
	RowShards []int
	// Load, for LOAD DATA into a sharded table, is how the file's records
	// are shared out; each target loads its shard's records.
	Load *LoadData
	// Copy, for an INSERT ... SELECT the proxy copies, has no targets: the
	// proxy runs its SELECT and INSERTs.
	Copy *Copy
}

// Target is the text to run on one shard. SQL holds `?` where the client
// sent parameters: prepare it on the backend and send params[Params[k]] for
// the k-th `?`, or send Inline(params) as text. Without parameters SQL is
// the final text.
type Target struct {
	Shard int
	sqlparse.Query
}

// Bind routes one execution with its parameters (none for a text query).
func (p *Plan) Bind(params []Value) (*Route, error) { return p.BindIDs(params, nil) }

// BindIDs is Bind for an INSERT that may need auto_increment ids: next is
// called once, for all the rows that need one (Plan.AutoIncrement).
func (p *Plan) BindIDs(params []Value, next IDSource) (*Route, error) {
	if len(params) < p.Params {
		return nil, errorf(ErWrongArguments, "Incorrect arguments to EXECUTE: the statement has %d parameters, %d were given", p.Params, len(params))
	}
	return p.b.bind(params, next)
}

// Plan routes a statement of this schema; the AST must not be used by
// another goroutine while this runs (it is briefly modified and restored).
func (s *Schema) Plan(stmt ast.StmtNode) (*Plan, error) { return s.plan(stmt, newScope(stmt)) }

func (s *Schema) plan(stmt ast.StmtNode, sc *scope) (*Plan, error) {
	if err := s.checkSchemas(sc); err != nil {
		return nil, err
	}
	pl := &planner{s: s, sc: sc, stmt: stmt, plan: &Plan{Params: sqlparse.NumberParams(stmt)}}
	pl.plan.Primary = sqlparse.HasPrimaryHint(stmt.Text())
	var err error
	switch x := stmt.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		pl.plan.b, err = pl.planSelect()
	case *ast.InsertStmt:
		pl.plan.b, err = pl.planInsert(x)
	case *ast.UpdateStmt:
		pl.plan.b, err = pl.planUpdate(x)
	case *ast.DeleteStmt:
		pl.plan.b, err = pl.planDelete(x)
	case ast.DDLNode:
		pl.plan.b, err = pl.planDDL(x)
	default:
		pl.plan.b, err = pl.planOther(x)
	}
	if err != nil {
		return nil, err
	}
	return pl.plan, nil
}

// planner holds what planning one statement needs.
type planner struct {
	s    *Schema
	sc   *scope
	stmt ast.StmtNode
	plan *Plan
}

func (pl *planner) schemas() []string { return []string{strings.ToLower(pl.s.Name)} }

// Plan routes stmt in the schema its qualifiers name, or in current (the
// session's database) for unqualified tables.
func (r *Router) Plan(current string, stmt ast.StmtNode) (*Plan, error) {
	sc := newScope(stmt)
	named := map[string]bool{}
	needCurrent := false
	for _, tn := range sc.tables {
		switch l := tn.Schema.L; {
		case l == "" && !sc.isCTE(tn):
			needCurrent = true
		case l != "" && !systemSchemas[l]:
			named[l] = true
		}
	}
	if l := strings.ToLower(sc.showDB); l != "" && !systemSchemas[l] {
		named[l] = true
	}
	if needCurrent {
		if current == "" {
			return nil, errorf(ErNoDB, "No database selected: run USE <schema> or qualify the table names")
		}
		named[strings.ToLower(current)] = true
	}
	name := current
	for n := range named {
		if len(named) > 1 {
			return nil, errorf(ErNotSupported, "a statement may use only one logical schema, this one uses %s", strings.Join(sortedKeys(named), " and "))
		}
		name = n
	}
	s := r.Schema(name)
	switch {
	case s == nil && name != "":
		return nil, errorf(ErBadDB, "Unknown database '%s'", name)
	case s == nil && r.first == nil:
		return nil, errorf(ErNoDB, "No database selected and no schema is configured")
	case s == nil:
		s = r.first // no table at all: any backend can answer
	}
	return s.plan(stmt, sc)
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
