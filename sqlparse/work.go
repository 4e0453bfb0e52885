package sqlparse

import "strings"

// WithoutWork returns sql with the optional WORK of BEGIN WORK, COMMIT
// WORK and ROLLBACK WORK blanked out, which the SQL parser does not know;
// offsets in the text stay as they were. ok is false for any other text.
func WithoutWork(sql string) (string, bool) {
	first, i := nextWord(sql, 0)
	switch strings.ToLower(first) {
	case "begin", "commit", "rollback":
	default:
		return "", false
	}
	i = skipBlanks(sql, i)
	if !isWordAt(sql, i, "work") {
		return "", false
	}
	return sql[:i] + "    " + sql[i+len("work"):], true
}
