package proxy

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/types"
)

// A session function the proxy answers becomes a literal, and MariaDB types
// a literal by its digits: 5 is INT(1) where LAST_INSERT_ID() is BIGINT(21)
// UNSIGNED. Drivers map the two to different types (JDBC's getObject gives
// an Integer, not a Long), and CREATE TABLE ... AS SELECT makes other
// columns. In a select list the value is therefore wrapped in an expression
// MariaDB types as it types the function (checked against MariaDB 10.11:
// type, length, decimals, nullability, signedness). Elsewhere the bare
// literal stays, so that a shard key compared with LAST_INSERT_ID() still
// routes to one shard.

// typedLike wraps lit, the value of session function n, so that a result
// column holding it has the function's type.
func typedLike(n ast.Node, lit ast.ExprNode) ast.ExprNode {
	switch n := n.(type) {
	case *ast.FuncCallExpr:
		switch n.FnName.L {
		case "database", "schema": // VARCHAR(64) in utf8mb3, nullable
			return utf8mb3Varchar(lit, 64)
		case "user", "session_user", "system_user", "current_user": // VARCHAR(384) in utf8mb3, nullable
			return utf8mb3Varchar(lit, 384)
		case "connection_id": // INT(10) UNSIGNED NOT NULL
			return call("IF", intLit(1), castAs(lit, mysql.TypeLonglong, types.UnspecifiedLength, true),
				castAs(intLit(1<<32-1), mysql.TypeLonglong, types.UnspecifiedLength, true))
		case "last_insert_id": // BIGINT(21) UNSIGNED NOT NULL
			return orZero(lit)
		case "row_count", "found_rows": // BIGINT(21) NOT NULL
			return castAs(orZero(lit), mysql.TypeLonglong, types.UnspecifiedLength, false)
		}
	case *ast.VariableExpr:
		switch strings.ToLower(n.Name) {
		case "warning_count", "error_count", "identity", "last_insert_id", "in_transaction":
			// BIGINT(21) UNSIGNED, nullable as system variables are
			return call("IF", intLit(1), orZero(lit), ast.NewValueExpr(nil, "", ""))
		case "autocommit":
			// BIGINT, nullable: the variable itself gives the type, in the
			// branch never taken.
			return call("IF", intLit(1), lit, &ast.VariableExpr{Name: "autocommit", IsSystem: true})
		}
	}
	return lit
}

// utf8mb3Varchar is CONCAT(CAST(e AS CHAR(n) CHARSET utf8mb3)): a nullable
// VARCHAR(n) in utf8mb3, as MariaDB types names.
func utf8mb3Varchar(e ast.ExprNode, n int) ast.ExprNode {
	name := castAs(e, mysql.TypeVarString, n, false)
	name.Tp.SetCharset("utf8mb3")
	name.ExplicitCharSet = true
	return call("CONCAT", name)
}

func call(name string, args ...ast.ExprNode) *ast.FuncCallExpr {
	return &ast.FuncCallExpr{FnName: ast.NewCIStr(name), Args: args}
}

func intLit(v int64) ast.ExprNode { return ast.NewValueExpr(v, "", "") }

// orZero is (e | 0): BIGINT(21) UNSIGNED. Restoring writes no parentheses
// of its own, and LAST_INSERT_ID() * 2 must not become e | 0 * 2.
func orZero(e ast.ExprNode) ast.ExprNode {
	return &ast.ParenthesesExpr{Expr: &ast.BinaryOperationExpr{Op: opcode.Or, L: e, R: intLit(0)}}
}

// castAs is CAST(e AS tp): CHAR(flen), SIGNED or UNSIGNED.
func castAs(e ast.ExprNode, tp byte, flen int, unsigned bool) *ast.FuncCastExpr {
	ft := types.NewFieldType(tp)
	ft.SetFlen(flen)
	if unsigned {
		ft.AddFlag(mysql.UnsignedFlag)
	}
	return &ast.FuncCastExpr{Expr: e, Tp: ft, FunctionType: ast.CastFunction}
}
