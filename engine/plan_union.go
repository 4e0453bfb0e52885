package engine

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// MySQL error numbers of a UNION's own ORDER BY.
const (
	ErTableNotAllowedHere    = 1250 // ER_TABLENAME_NOT_ALLOWED_HERE
	ErAggregateOrderForUnion = 3028 // ER_AGGREGATE_ORDER_FOR_UNION
)

// derivedUnionAlias names the derived table planDerivedUnion reads from. The
// union's ORDER BY cannot name it (qualified names are refused there), and
// UnionColumns removes it from the column definitions.
const derivedUnionAlias = "union_rows"

// PlanUnion plans a UNION ALL or UNION that reaches several shards. The
// router sends one there only when each arm keeps its rows on their
// shards, so each shard runs the whole UNION ALL and the answers are
// concatenated: their columns are MariaDB's own for the union. A UNION, or
// a UNION ALL with its own ORDER BY or LIMIT, is merged as a derived table
// (planDerivedUnion). The input AST is not modified.
func PlanUnion(stmt *ast.SetOprStmt) (*Plan, error) {
	if err := checkRowOrder(stmt); err != nil {
		return nil, err
	}
	arms, distinct := sqlparse.UnionArms(stmt)
	if arms == nil {
		return nil, unsupported("UNION across shards is supported for SELECTs without DISTINCT, GROUP BY, aggregates or LIMIT, joined all by UNION ALL or all by UNION")
	}
	if distinct || stmt.OrderBy != nil || stmt.Limit != nil {
		return planDerivedUnion(stmt, distinct)
	}
	u, params, err := namedUnionCopy(stmt)
	if err != nil {
		return nil, err
	}
	sql, err := restoreText(u)
	if err != nil {
		return nil, errorf(ErUnknown, "plan error: %v", err)
	}
	shardStmt, err := sqlparse.ParseOne(sql)
	if err != nil {
		return nil, errorf(ErUnknown, "plan error: the shard statement does not parse: %v", err)
	}
	plan := &Plan{ShardSQL: sql, ShardStmt: shardStmt, Params: params, LimitParam: -1, Root: &Concat{SQL: sql}}
	plan.ShardParams = sqlparse.NumberParams(shardStmt)
	return plan, nil
}

// namedUnionCopy is a copy of stmt (see restoredCopy) whose first arm
// names its columns as the client wrote them.
func namedUnionCopy(stmt *ast.SetOprStmt) (*ast.SetOprStmt, int, error) {
	parsed, params, err := restoredCopy(stmt)
	if err != nil {
		return nil, 0, err
	}
	u, ok := parsed.(*ast.SetOprStmt)
	arms, _ := sqlparse.UnionArms(u)
	origArms, _ := sqlparse.UnionArms(stmt)
	if !ok || len(arms) != len(origArms) {
		return nil, 0, errorf(ErUnknown, "plan error: the restored statement differs from the input")
	}
	for i, f := range arms[0].Fields.Fields {
		keepName(f, origArms[0].Fields.Fields[i])
	}
	return u, params, nil
}

// planDerivedUnion plans a UNION ALL with its own ORDER BY or LIMIT as
// `SELECT <its columns> FROM (<the union>) AS union_rows ORDER BY ...
// LIMIT ...`, and a UNION (DISTINCT) as `SELECT DISTINCT <its columns>
// FROM (<the arms by UNION ALL>) ...`, which MariaDB answers alike: the
// shards then compute each string's collation weight (for sorting and
// comparing) in the union's collation, where an arm alone would use its
// own column's.
func planDerivedUnion(stmt *ast.SetOprStmt, distinct bool) (*Plan, error) {
	if err := checkUnionOrder(stmt.OrderBy); err != nil {
		return nil, err
	}
	u, _, err := namedUnionCopy(stmt)
	if err != nil {
		return nil, err
	}
	arms, _ := sqlparse.UnionArms(u)
	columns, ok := unionColumns(arms[0])
	if !ok {
		return nil, unsupported("UNION, or ORDER BY or LIMIT on a UNION ALL, across shards needs distinct column names in the first SELECT, and * only alone over one table: alias the columns")
	}
	if distinct && columns.Fields[0].WildCard != nil {
		return nil, unsupported("UNION of SELECT * across shards is not supported: list the columns")
	}
	orderBy, limit := u.OrderBy, u.Limit
	u.OrderBy, u.Limit = nil, nil
	sqlparse.MakeUnionAll(u)
	sel := &ast.SelectStmt{
		Kind:           ast.SelectStmtKindSelect,
		Distinct:       distinct,
		SelectStmtOpts: &ast.SelectStmtOpts{SQLCache: true},
		Fields:         columns,
		From: &ast.TableRefsClause{TableRefs: &ast.Join{
			Left: &ast.TableSource{Source: u, AsName: ast.NewCIStr(derivedUnionAlias)},
		}},
		OrderBy: orderBy,
		Limit:   limit,
	}
	plan, err := PlanSelect(sel)
	if err != nil {
		return nil, err
	}
	plan.Root = &UnionColumns{Input: plan.Root}
	return plan, nil
}

// checkUnionOrder answers as MariaDB does what a union's ORDER BY cannot
// name, which the derived form would accept with another meaning: an
// aggregate would group the union's rows, a qualified column resolve.
func checkUnionOrder(orderBy *ast.OrderByClause) error {
	if orderBy == nil {
		return nil
	}
	for i, by := range orderBy.Items {
		if contains(by.Expr, func(n ast.Node) bool {
			_, window := n.(*ast.WindowFuncExpr)
			return window || isAggregate(n)
		}) {
			return errorf(ErAggregateOrderForUnion, "Expression #%d of ORDER BY contains aggregate function and applies to a UNION", i+1)
		}
		var table string
		contains(by.Expr, func(n ast.Node) bool {
			if c, ok := n.(*ast.ColumnNameExpr); ok && c.Name.Table.O != "" {
				table = c.Name.Table.O
				return true
			}
			return false
		})
		if table != "" {
			return errorf(ErTableNotAllowedHere, "Table '%s' from one of the SELECTs cannot be used in ORDER BY", table)
		}
	}
	return nil
}

// unionColumns returns the select list that reads a union's columns from
// it as a derived table, by the names of arm's (the first's) columns,
// which keepName gave each unnamed expression. false when arm names a
// column twice (a derived table refuses that, a union does not) or has a
// wildcard beside other columns or over several tables (which may name a
// column twice).
func unionColumns(arm *ast.SelectStmt) (*ast.FieldList, bool) {
	fields := arm.Fields.Fields
	if len(fields) == 1 && fields[0].WildCard != nil {
		if arm.From == nil || arm.From.TableRefs.Right != nil {
			return nil, false
		}
		if _, tables := sqlparse.FromNames(arm.From); len(tables) != 1 {
			return nil, false
		}
		return &ast.FieldList{Fields: []*ast.SelectField{{WildCard: &ast.WildCardField{}}}}, true
	}
	seen := map[string]bool{}
	list := &ast.FieldList{}
	for _, f := range fields {
		_, isString := stringLiteral(f.Expr)
		if f.WildCard != nil || f.AsName.O == "" && !isColumnRef(f.Expr) && !isString {
			return nil, false // keepName left it unnamed: too long
		}
		name := fieldName(f)
		if name == "" || seen[strings.ToLower(name)] {
			return nil, false
		}
		seen[strings.ToLower(name)] = true
		list.Fields = append(list.Fields, &ast.SelectField{
			Expr: &ast.ColumnNameExpr{Name: &ast.ColumnName{Name: ast.NewCIStr(name)}},
		})
	}
	return list, true
}
