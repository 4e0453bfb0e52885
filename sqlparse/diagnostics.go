package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// ParseDiagnosticsLimit recognises `SHOW WARNINGS|ERRORS LIMIT [offset,]
// count` (or `LIMIT count OFFSET offset`), which MariaDB accepts and the
// parser does not, and returns it as the parser would: a ShowStmt with its
// Limit. The two keywords are read with the scanner; the rest must parse
// as the LIMIT clause of a bare SELECT, so the parser judges its syntax.
func ParseDiagnosticsLimit(sql string) (*ast.ShowStmt, bool) {
	show, i := nextWord(sql, 0)
	what, i := nextWord(sql, i)
	if !strings.EqualFold(show, "show") {
		return nil, false
	}
	st := &ast.ShowStmt{Tp: ast.ShowWarnings}
	switch {
	case strings.EqualFold(what, "errors"):
		st.Tp = ast.ShowErrors
	case !strings.EqualFold(what, "warnings"):
		return nil, false
	}
	parsed, err := ParseOne("SELECT 1 " + sql[i:])
	if err != nil {
		return nil, false
	}
	sel, ok := parsed.(*ast.SelectStmt)
	if !ok || sel.Limit == nil || sel.From != nil || sel.Where != nil || sel.GroupBy != nil ||
		sel.Having != nil || sel.OrderBy != nil || sel.LockInfo != nil || sel.SelectIntoOpt != nil {
		return nil, false
	}
	if _, _, ok := LimitBounds(sel.Limit); !ok {
		return nil, false
	}
	st.Limit = sel.Limit
	return st, true
}

// LimitBounds reads a LIMIT clause of literal numbers: rows skipped, and
// rows kept after them.
func LimitBounds(l *ast.Limit) (offset, count uint64, ok bool) {
	if count, ok = limitValue(l.Count); !ok {
		return 0, 0, false
	}
	if l.Offset != nil {
		if offset, ok = limitValue(l.Offset); !ok {
			return 0, 0, false
		}
	}
	return offset, count, true
}

func limitValue(e ast.ExprNode) (uint64, bool) {
	v, ok := e.(*test_driver.ValueExpr)
	if !ok {
		return 0, false
	}
	n, ok := v.GetValue().(uint64)
	return n, ok
}

// nextWord skips blanks and comments from i and returns the run of letters
// that follows, and where it ends.
func nextWord(sql string, i int) (string, int) {
	for i < len(sql) {
		kind, end := nextSpan(sql, i)
		if kind == spanComment || sql[i] <= ' ' {
			i = end
			continue
		}
		break
	}
	start := i
	for i < len(sql) && (sql[i]|0x20 >= 'a' && sql[i]|0x20 <= 'z') {
		i++
	}
	return sql[start:i], i
}
