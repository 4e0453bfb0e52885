package sqlparse

// SplitReturning splits MariaDB's `INSERT|REPLACE|DELETE ... RETURNING
// list`, which the SQL parser does not know, at its top-level RETURNING:
// the statement before it parses on its own, the list as a SELECT's
// fields. RETURNING is a reserved word in MariaDB, so outside quotes,
// comments and parentheses it can only start that clause. ok is false
// when the text has no such word.
func SplitReturning(sql string) (stmt, list string, ok bool) {
	at := topLevelWord(sql, 0, "returning")
	if at < 0 {
		return "", "", false
	}
	return sql[:at], sql[at+len("returning"):], true
}
