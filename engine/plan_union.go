package engine

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// PlanUnion plans a UNION ALL that reaches several shards. The router
// sends one there only when each arm keeps its rows on their shards, so
// each shard runs the whole statement and the answers are concatenated:
// their columns are MariaDB's own for the union. The input AST is not
// modified.
func PlanUnion(stmt *ast.SetOprStmt) (*Plan, error) {
	if err := checkRowOrder(stmt); err != nil {
		return nil, err
	}
	origArms := sqlparse.UnionAllArms(stmt)
	if origArms == nil {
		return nil, unsupported("UNION across shards is supported as UNION ALL of SELECTs without DISTINCT, GROUP BY, aggregates or LIMIT; for UNION write SELECT DISTINCT a, b FROM (... UNION ALL ...) AS u")
	}
	if stmt.OrderBy != nil || stmt.Limit != nil {
		return nil, unsupported("ORDER BY or LIMIT on a UNION across shards is not supported: write SELECT * FROM (... UNION ALL ...) AS u ORDER BY ... LIMIT ...")
	}
	parsed, params, err := restoredCopy(stmt)
	if err != nil {
		return nil, err
	}
	u, ok := parsed.(*ast.SetOprStmt)
	arms := sqlparse.UnionAllArms(u)
	if !ok || len(arms) != len(origArms) {
		return nil, errorf(ErUnknown, "plan error: the restored statement differs from the input")
	}
	// The first arm names the columns: as the client wrote them.
	for i, f := range arms[0].Fields.Fields {
		keepName(f, origArms[0].Fields.Fields[i])
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
