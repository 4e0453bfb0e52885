package sqlparse

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
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

// nextWord skips blanks and comments from i and returns the run of letters
// that follows, and where it ends.
func nextWord(sql string, i int) (string, int) {
	i = skipBlanks(sql, i)
	start := i
	for i < len(sql) && (sql[i]|0x20 >= 'a' && sql[i]|0x20 <= 'z') {
		i++
	}
	return sql[start:i], i
}
