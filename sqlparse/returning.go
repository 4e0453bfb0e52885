package sqlparse

// SplitReturning splits MariaDB's `INSERT|REPLACE|DELETE ... RETURNING
// list`, which the SQL parser does not know, at its top-level RETURNING:
// the statement before it parses on its own, the list as a SELECT's
// fields. RETURNING is a reserved word in MariaDB, so outside quotes,
// comments and parentheses it can only start that clause. ok is false
// when the text has no such word.
func SplitReturning(sql string) (stmt, list string, ok bool) {
	depth := 0
	for i := 0; i < len(sql); {
		kind, end := nextSpan(sql, i)
		if kind == spanCode {
			switch c := sql[i]; {
			case c == '(':
				depth++
			case c == ')':
				depth--
			case depth == 0 && isWordAt(sql, i, "returning"):
				return sql[:i], sql[i+len("returning"):], true
			}
		}
		i = end
	}
	return "", "", false
}
