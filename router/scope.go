package router

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// systemSchemas exist on every backend; the proxy answers or filters them
// elsewhere, the router only lets reads of them run on any shard.
var systemSchemas = map[string]bool{"information_schema": true, "mysql": true, "performance_schema": true, "sys": true}

// ref is one table reference in a query block.
type ref struct {
	name    string // table name, lower case
	exposed string // alias, else name: what column qualifiers use
	schema  string // qualifier as written, lower case, "" when none
	table   *Table // listed table, nil when unlisted (unsharded) or system
	system  bool
}

func (r *ref) kind() TableKind {
	switch {
	case r.system:
		return Global
	case r.table == nil:
		return Unsharded
	}
	return r.table.Kind
}

func (r *ref) kindName() string { return [...]string{"unsharded", "sharded", "global"}[r.kind()] }

func (r *ref) sharded() bool { return r.kind() == Sharded }

// block is one query block: the tables of its FROM and what connects them.
type block struct {
	refs   []*ref
	conds  []ast.ExprNode // ON conditions: equalities there join shard keys
	where  ast.ExprNode
	usings []using
	// outerKept is what an outer join keeps every row of, and outerShard
	// the sharded table it joins them with, when the kept side has no
	// sharded table (a global table LEFT JOIN a sharded one): each shard
	// would return the kept rows its own share does not match. "" if none.
	outerKept, outerShard string
	// nullable are the tables an outer join may NULL-extend.
	nullable []*ref
}

// using is JOIN ... USING (cols), or a NATURAL JOIN (cols nil).
type using struct {
	left, right []*ref
	cols        []string
	natural     bool
}

// scope is what planning needs to know of a whole statement, read in one walk.
type scope struct {
	selects []*ast.SelectStmt // every SELECT, outermost first
	arms    map[*ast.SelectStmt]bool
	ctes    map[string]bool
	tables  []*ast.TableName
	showDB  string
	locks   bool // FOR UPDATE, LOCK IN SHARE MODE or a locking function
}

// lockingFuncs must not run on a replica.
var lockingFuncs = map[string]bool{
	"get_lock": true, "release_lock": true, "release_all_locks": true, "is_free_lock": true,
	"is_used_lock": true, "master_pos_wait": true, "source_pos_wait": true, "nextval": true, "setval": true,
}

func newScope(stmt ast.Node) *scope {
	sc := &scope{arms: map[*ast.SelectStmt]bool{}, ctes: map[string]bool{}}
	stmt.Accept(sc)
	return sc
}

func (sc *scope) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SelectStmt:
		sc.selects = append(sc.selects, x)
		sc.locks = sc.locks || x.LockInfo != nil && x.LockInfo.LockType != ast.SelectLockNone
	case *ast.FuncCallExpr:
		sc.locks = sc.locks || lockingFuncs[x.FnName.L]
	case *ast.SetOprSelectList:
		for _, arm := range x.Selects {
			if sel, ok := arm.(*ast.SelectStmt); ok {
				sc.arms[sel] = true
			}
		}
	case *ast.CommonTableExpression:
		sc.ctes[x.Name.L] = true
	case *ast.TableName:
		sc.tables = append(sc.tables, x)
	case *ast.ShowStmt:
		sc.showDB = x.DBName
	case *ast.DeleteTableList:
		return n, true // names tables (or aliases) of the FROM clause
	}
	return n, false
}

func (sc *scope) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// isCTE reports whether a table name refers to a WITH query.
func (sc *scope) isCTE(tn *ast.TableName) bool { return tn.Schema.L == "" && sc.ctes[tn.Name.L] }

// checkSchemas refuses qualifiers naming another or an unknown schema.
func (s *Schema) checkSchemas(sc *scope) error {
	for _, tn := range sc.tables {
		if err := s.checkQualifier(tn.Schema.O); err != nil {
			return err
		}
	}
	return s.checkQualifier(sc.showDB)
}

func (s *Schema) checkQualifier(name string) error {
	l := strings.ToLower(name)
	if l == "" || l == strings.ToLower(s.Name) || systemSchemas[l] {
		return nil
	}
	if s.router != nil && s.router.Schema(l) != nil {
		return errorf(ErNotSupported, "a statement may use only one logical schema, this one uses %s and %s", s.Name, name)
	}
	return errorf(ErBadDB, "Unknown database '%s'", name)
}

func (s *Schema) lookup(tn *ast.TableName, alias ast.CIStr) *ref {
	r := &ref{name: tn.Name.L, exposed: tn.Name.L, schema: tn.Schema.L}
	if alias.L != "" {
		r.exposed = alias.L
	}
	if systemSchemas[r.schema] {
		r.system = true
	} else {
		r.table = s.tables[r.name]
	}
	return r
}

// newBlock reads a FROM clause (nil for none) and WHERE.
func (s *Schema) newBlock(sc *scope, from *ast.TableRefsClause, where ast.ExprNode) *block {
	b := &block{where: where}
	if from != nil {
		s.addFrom(sc, b, from.TableRefs)
	}
	return b
}

func (s *Schema) addFrom(sc *scope, b *block, rs ast.ResultSetNode) {
	switch x := rs.(type) {
	case *ast.Join:
		start := len(b.refs)
		s.addFrom(sc, b, x.Left)
		mid := len(b.refs)
		if x.Right != nil {
			s.addFrom(sc, b, x.Right)
		}
		if x.On != nil {
			b.conds = append(b.conds, x.On.Expr)
		}
		if x.Tp == ast.LeftJoin || x.Tp == ast.RightJoin {
			kept, nullable := b.refs[start:mid], b.refs[mid:]
			if x.Tp == ast.RightJoin {
				kept, nullable = nullable, kept
			}
			b.nullable = append(b.nullable, nullable...)
			if i := slices.IndexFunc(nullable, (*ref).sharded); i >= 0 && !slices.ContainsFunc(kept, (*ref).sharded) && b.outerKept == "" {
				b.outerKept, b.outerShard = "derived table", nullable[i].name
				if len(kept) > 0 {
					b.outerKept = kept[0].name
				}
			}
		}
		if len(x.Using) > 0 || x.NaturalJoin {
			u := using{left: b.refs[start:mid:mid], right: b.refs[mid:], natural: x.NaturalJoin}
			for _, c := range x.Using {
				u.cols = append(u.cols, c.Name.L)
			}
			b.usings = append(b.usings, u)
		}
	case *ast.TableSource:
		if tn, ok := x.Source.(*ast.TableName); ok && !sc.isCTE(tn) {
			b.refs = append(b.refs, s.lookup(tn, x.AsName))
		} else if j, ok := x.Source.(*ast.Join); ok {
			s.addFrom(sc, b, j)
		}
		// Derived tables are SELECTs of their own, found by the scope.
	}
}

// refOf returns the table a column belongs to when that is certain: by its
// qualifier, or, unqualified, the table whose shard key has that name (a
// valid statement cannot mean another table's column of the same name: it
// would be ambiguous).
func (b *block) refOf(c *ast.ColumnName) *ref {
	for _, r := range b.refs {
		switch {
		case c.Table.L == "":
			if r.sharded() && r.table.Key == c.Name.L {
				return r
			}
		case c.Table.L == r.exposed && (c.Schema.L == "" || c.Schema.L == r.schema || r.schema == "" && r.exposed == r.name):
			return r
		}
	}
	return nil
}

// isKeyOf reports whether c is the shard key column of r.
func (b *block) isKeyOf(c *ast.ColumnName, r *ref) bool {
	return r.sharded() && c.Name.L == r.table.Key && b.refOf(c) == r
}

// isRowKeyOf is isKeyOf for a table no outer join NULL-extends: each row
// of the block has c's value from a row of r, on that row's shard. (The
// NULL of the rows an outer join does not match comes from every shard.)
func (b *block) isRowKeyOf(c *ast.ColumnName, r *ref) bool {
	return b.isKeyOf(c, r) && !slices.Contains(b.nullable, r)
}
