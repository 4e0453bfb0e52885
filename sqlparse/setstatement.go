package sqlparse

import "strings"

// SplitSetStatement splits MariaDB's `SET STATEMENT assignments FOR
// statement`, which the SQL parser does not know, at its top-level FOR:
// the assignments parse as a SET's, the statement on its own. ok is false
// for any other text.
func SplitSetStatement(sql string) (assignments, stmt string, ok bool) {
	set, i := nextWord(sql, 0)
	kw, i := nextWord(sql, i)
	if !strings.EqualFold(set, "set") || !strings.EqualFold(kw, "statement") {
		return "", "", false
	}
	at := topLevelWord(sql, i, "for")
	if at < 0 {
		return "", "", false
	}
	return sql[i:at], sql[at+len("for"):], true
}

// topLevelWord returns the offset of the first whole word (lower case) in
// sql from start that stands outside quotes, comments and parentheses, or
// -1.
func topLevelWord(sql string, start int, word string) int {
	depth := 0
	for i := start; i < len(sql); {
		kind, end := nextSpan(sql, i)
		if kind == spanCode {
			switch c := sql[i]; {
			case c == '(':
				depth++
			case c == ')':
				depth--
			case depth == 0 && isWordAt(sql, i, word):
				return i
			}
		}
		i = end
	}
	return -1
}

// SetsNextTransaction reports `SET TRANSACTION ...` without GLOBAL or
// SESSION: characteristics of the next transaction only. The SQL parser
// reads its READ ONLY / READ WRITE as a session's tx_read_only.
func SetsNextTransaction(sql string) bool {
	set, i := nextWord(sql, 0)
	kw, end := nextWord(sql, i)
	return strings.EqualFold(set, "set") && strings.EqualFold(kw, "transaction") &&
		(end == len(sql) || !isIdentByte(sql[end]))
}

// isWordAt reports whether word (lower case) stands at s[i] as a whole word.
func isWordAt(s string, i int, word string) bool {
	end := i + len(word)
	return end <= len(s) && strings.EqualFold(s[i:end], word) &&
		(i == 0 || !isIdentByte(s[i-1])) && (end == len(s) || !isIdentByte(s[end]))
}
