package proxy

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// rewriter maps a statement written against a logical schema onto one
// shard's database, and answers the functions whose value is the session's
// rather than a backend connection's (DATABASE(), CONNECTION_ID(),
// LAST_INSERT_ID()).
type rewriter struct {
	s        *Session
	sc       *schema
	physical string

	rewriting  bool
	needed     bool
	infoSchema bool // reads information_schema: literals naming the schema are translated
	// nextval: the statement advances a sequence, so its LASTVAL() calls
	// are the backend's (MariaDB evaluates them after).
	nextval    bool
	sessionFns bool // uses DATABASE(), LAST_INSERT_ID(), FOUND_ROWS(), @@warning_count, ...
	inField    int  // depth of select fields being rewritten: their values keep the function's type
	// functionsOnly leaves qualifiers alone (the router rewrites them).
	functionsOnly bool
}

// needsSessionValues reports whether an inspected statement calls functions
// the proxy answers from the session.
func (r *rewriter) needsSessionValues() bool { return r.sessionFns }

func newRewriter(s *Session, sc *schema, physical string) *rewriter {
	return &rewriter{s: s, sc: sc, physical: physical}
}

// apply returns the text to send: the original when nothing needs changing.
func (r *rewriter) apply(st ast.StmtNode, text string) (string, error) {
	st.Accept(r)
	if !r.needed {
		return text, nil
	}
	r.rewriting = true
	st.Accept(r)
	return r.s.restore(st)
}

func (r *rewriter) Enter(n ast.Node) (ast.Node, bool) {
	switch n := n.(type) {
	case *ast.TableName:
		if strings.EqualFold(n.Schema.O, "information_schema") {
			r.infoSchema = true
			r.needed = true
		} else if n.Schema.O != "" {
			r.needed = true
			if r.rewriting && !r.functionsOnly && r.isLogical(n.Schema.O) {
				n.Schema = ast.NewCIStr(r.physical)
			}
		}
	case *ast.ColumnName:
		if n.Schema.O != "" {
			r.needed = true
			if r.rewriting && !r.functionsOnly && r.isLogical(n.Schema.O) {
				n.Schema = ast.NewCIStr(r.physical)
			}
		}
	case *ast.SelectField:
		// Restoring respells expressions, and with them the names of
		// their result columns: keep the names MySQL gives the client's text.
		if !r.rewriting {
			break
		}
		if alias, ok := sqlparse.ColumnAlias(n); ok {
			n.AsName = ast.NewCIStr(alias)
		}
		r.inField++
	case *ast.FuncCallExpr, *ast.VariableExpr:
		if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == "nextval" {
			r.nextval = true
		}
		if _, ok := r.sessionFunc(n); ok {
			r.needed = true
			r.sessionFns = true
		}
	}
	return n, false
}

func (r *rewriter) Leave(n ast.Node) (ast.Node, bool) {
	if !r.rewriting {
		return n, true
	}
	if _, ok := n.(*ast.SelectField); ok {
		r.inField--
	}
	if sel, ok := n.(*ast.SelectStmt); ok && r.infoSchema && !r.functionsOnly && !r.sc.passThrough() {
		hideInternalTables(sel)
	}
	if v, ok := r.sessionFunc(n); ok {
		lit := ast.NewValueExpr(v, mysql.DefaultCharset, mysql.DefaultCollationName)
		if r.inField > 0 {
			return typedLike(n, lit), true
		}
		return lit, true
	}
	if r.infoSchema {
		if ve, ok := n.(ast.ValueExpr); ok {
			if s, isStr := ve.GetValue().(string); isStr {
				if t, ok := physicalSchemaValue(s, r.sc.name, r.physical); ok {
					return ast.NewValueExpr(t, mysql.DefaultCharset, mysql.DefaultCollationName), true
				}
			}
		}
	}
	return n, true
}

// sessionFunc returns the value of a function or variable the proxy
// answers itself. The diagnostics counters are the last statement's, which
// the session keeps; a backend connection's would be another statement's.
func (r *rewriter) sessionFunc(n ast.Node) (any, bool) {
	if v, ok := n.(*ast.VariableExpr); ok {
		if !v.IsSystem || v.IsGlobal {
			return nil, false
		}
		warnings, errors := r.s.diagnosticCounts()
		switch strings.ToLower(v.Name) {
		case "warning_count":
			return uint64(warnings), true
		case "error_count":
			return uint64(errors), true
		case "identity", "last_insert_id": // MariaDB's names for LAST_INSERT_ID()
			return r.s.lastInsertID, true
		case "autocommit": // kept by the proxy: backends always run with 1
			return flagValue(r.s.autocommit), true
		case "in_transaction": // backends see a transaction only once it reaches them
			return flagValue(r.s.inTx), true
		}
		return nil, false
	}
	f, ok := n.(*ast.FuncCallExpr)
	if !ok {
		return nil, false
	}
	switch f.FnName.L {
	case "database", "schema":
		if r.s.schemaName == "" {
			return nil, true
		}
		if r.infoSchema && strings.EqualFold(r.s.schemaName, r.sc.name) {
			return r.physical, true
		}
		return r.s.schemaName, true
	case "connection_id":
		return uint64(r.s.id), true
	case "user", "session_user", "system_user":
		// The client's login, not the proxy's on the backend.
		return r.s.user + "@" + r.s.clientHost(), true
	case "current_user":
		// Proxy users have no host part: the account matches any host.
		return r.s.user + "@%", true
	case "last_insert_id":
		if len(f.Args) == 0 {
			return r.s.lastInsertID, true
		}
	case "row_count":
		return r.s.rowCount, true
	case "found_rows":
		return r.s.foundRows, true
	case "lastval":
		// Another session's NEXTVAL on a pooled connection set the
		// backend's: the session's own is the one it read back.
		if len(f.Args) != 1 || r.nextval {
			return nil, false
		}
		t, ok := f.Args[0].(*ast.TableNameExpr)
		if !ok {
			return nil, false
		}
		db := r.physical
		if db == "" { // a sharded schema: sequences live on its default shard
			db = r.sc.shards[r.sc.defaultShard].db
		}
		v, err := strconv.ParseInt(string(r.s.lastvals[r.s.sequenceKey(t.Name, db)]), 10, 64)
		if err != nil {
			return nil, true // never advanced by the session: NULL
		}
		return v, true
	}
	return nil, false
}

// physicalSchemaValue translates a value that names the logical schema, or a
// LIKE pattern made of its name and wildcards (ORMs look schemas up so), into
// the physical database's name.
func physicalSchemaValue(v, logical, physical string) (string, bool) {
	if len(v) < len(logical) || !strings.EqualFold(v[:len(logical)], logical) {
		return "", false
	}
	rest := v[len(logical):]
	if strings.Trim(rest, "%_") != "" {
		return "", false
	}
	return physical + rest, true
}

func (r *rewriter) isLogical(name string) bool { return strings.EqualFold(name, r.sc.name) }

// referencedSchemas lists the schemas a statement's tables name explicitly,
// leaving out the system schemas the proxy translates.
func referencedSchemas(st ast.StmtNode) []string {
	v := &schemaCollector{}
	st.Accept(v)
	return v.names
}

type schemaCollector struct {
	names       []string
	tables      bool
	unqualified bool // a table named without its schema
}

func (v *schemaCollector) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok {
		v.tables = true
		name := t.Schema.L
		v.unqualified = v.unqualified || name == ""
		if name == "" || name == "information_schema" {
			return n, false
		}
		for _, seen := range v.names {
			if strings.EqualFold(seen, t.Schema.O) {
				return n, false
			}
		}
		v.names = append(v.names, t.Schema.O)
	}
	return n, false
}

func (v *schemaCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// hasTables reports whether a statement reads or writes any table.
func hasTables(st ast.StmtNode) bool {
	v := &schemaCollector{}
	st.Accept(v)
	return v.tables
}

// usesCurrentSchema reports a statement naming a table without its schema.
func usesCurrentSchema(st ast.StmtNode) bool {
	v := &schemaCollector{}
	st.Accept(v)
	return v.unqualified
}

// isRead reports a statement that may go to a replica.
func isRead(st ast.StmtNode) bool {
	switch st := st.(type) {
	case *ast.SelectStmt:
		return st.LockInfo == nil || st.LockInfo.LockType == ast.SelectLockNone
	case *ast.SetOprStmt:
		return true
	}
	return false
}

func isDDL(st ast.StmtNode) bool {
	_, ok := st.(ast.DDLNode)
	return ok
}

// commitsImplicitly reports a statement that MariaDB runs after committing
// the open transaction, and outside any: DDL, except on temporary tables
// and UNLOCK TABLES, which commits only a transaction begun under table
// locks, one a session here never has (BEGIN releases them):
// mariadb-dump --single-transaction sends it inside its transaction.
func commitsImplicitly(st ast.StmtNode) bool {
	switch st := st.(type) {
	case *ast.UnlockTablesStmt:
		return false
	case *ast.CreateTableStmt:
		return st.TemporaryKeyword == ast.TemporaryNone
	case *ast.DropTableStmt:
		return st.TemporaryKeyword == ast.TemporaryNone
	}
	return isDDL(st)
}

// primaryHint is the comment that sends a read to the primary.
const primaryHint = "shardproxy:primary"

// hasPrimaryHint finds the hint inside a comment, not inside a string.
func hasPrimaryHint(sql string) bool {
	if !strings.Contains(sql, primaryHint) {
		return false
	}
	var quote byte
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"' || c == '`':
			quote = c
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				end = len(sql) - i - 2
			}
			if strings.Contains(sql[i+2:i+2+end], primaryHint) {
				return true
			}
			i += end + 3
		}
	}
	return false
}

// flagValue is how MariaDB shows a boolean system variable.
func flagValue(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// tableListings are the information_schema tables with a row per table
// (or per column, index, key of one), named by their TABLE_NAME column.
var tableListings = map[string]bool{
	"tables": true, "columns": true, "statistics": true, "key_column_usage": true,
	"table_constraints": true, "partitions": true, "check_constraints": true,
}

// hideInternalTables leaves the proxy's own tables (id sequences, XA
// decisions on the default shard) out of sel's rows from information_schema,
// as SHOW TABLES leaves them out: they are not the application's, and a
// schema tool that copied them would overwrite them.
func hideInternalTables(sel *ast.SelectStmt) {
	if sel.From == nil || sel.From.TableRefs == nil {
		return
	}
	var conds []ast.ExprNode
	var walk func(rs ast.ResultSetNode, nullable bool)
	walk = func(rs ast.ResultSetNode, nullable bool) {
		switch x := rs.(type) {
		case *ast.Join:
			walk(x.Left, nullable || x.Tp == ast.RightJoin)
			if x.Right != nil {
				walk(x.Right, nullable || x.Tp == ast.LeftJoin)
			}
		case *ast.TableSource:
			tn, ok := x.Source.(*ast.TableName)
			// A table on the NULL side of an outer join keeps its rows out
			// of the WHERE's reach: left as it is.
			if !ok || nullable || !strings.EqualFold(tn.Schema.O, "information_schema") || !tableListings[tn.Name.L] {
				return
			}
			col := &ast.ColumnName{Schema: tn.Schema, Table: tn.Name, Name: ast.NewCIStr("TABLE_NAME")}
			if x.AsName.O != "" {
				col.Schema, col.Table = ast.CIStr{}, x.AsName
			}
			conds = append(conds, &ast.PatternInExpr{
				Expr: &ast.ColumnNameExpr{Name: col},
				List: []ast.ExprNode{ast.NewValueExpr(sequenceTable, "", ""), ast.NewValueExpr(decisionTable, "", "")},
				Not:  true,
			})
		}
	}
	walk(sel.From.TableRefs, false)
	for _, c := range conds {
		if sel.Where == nil {
			sel.Where = c
		} else {
			sel.Where = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: &ast.ParenthesesExpr{Expr: sel.Where}, R: c}
		}
	}
}
