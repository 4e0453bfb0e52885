package sqlparse

import "strings"

// WithoutDefiner returns sql with the DEFINER clause of `CREATE [OR
// REPLACE] DEFINER = user ...` blanked out, for a parser that does not
// know it there (stored procedures, as mariadb-dump --routines writes
// them); offsets in the text stay as they were. ok is false for any other
// text.
func WithoutDefiner(sql string) (string, bool) {
	word, i := nextWord(sql, 0)
	if !strings.EqualFold(word, "create") {
		return "", false
	}
	start := skipBlanks(sql, i)
	word, i = nextWord(sql, start)
	if strings.EqualFold(word, "or") {
		if word, i = nextWord(sql, i); !strings.EqualFold(word, "replace") {
			return "", false
		}
		start = skipBlanks(sql, i)
		word, i = nextWord(sql, start)
	}
	if !strings.EqualFold(word, "definer") {
		return "", false
	}
	i = skipBlanks(sql, i)
	if i >= len(sql) || sql[i] != '=' {
		return "", false
	}
	end, ok := accountEnd(sql, skipBlanks(sql, i+1))
	if !ok {
		return "", false
	}
	return sql[:start] + strings.Repeat(" ", end-start) + sql[end:], true
}

// accountEnd returns where the account name starting at i ends: user,
// user@host (each quoted or bare), CURRENT_USER[()] or CURRENT_ROLE.
func accountEnd(sql string, i int) (int, bool) {
	if isWordAt(sql, i, "current_user") || isWordAt(sql, i, "current_role") {
		end := i + len("current_user")
		if rest := skipBlanks(sql, end); strings.HasPrefix(sql[rest:], "()") {
			end = rest + 2
		}
		return end, true
	}
	end, ok := namePartEnd(sql, i)
	if !ok {
		return 0, false
	}
	if end < len(sql) && sql[end] == '@' {
		return namePartEnd(sql, end+1)
	}
	return end, true
}

// namePartEnd returns where a user or host name starting at i ends.
func namePartEnd(sql string, i int) (int, bool) {
	if i >= len(sql) {
		return 0, false
	}
	if kind, end := nextSpan(sql, i); kind == spanString || kind == spanIdent {
		return end, true
	}
	end := i
	for end < len(sql) && (isIdentByte(sql[end]) || sql[end] == '.' || sql[end] == '%' || sql[end] == '-') {
		end++
	}
	return end, end > i
}

// skipBlanks returns the first position from i that is neither blank nor
// in a comment.
func skipBlanks(sql string, i int) int {
	for i < len(sql) {
		kind, end := nextSpan(sql, i)
		if kind != spanComment && sql[i] > ' ' {
			break
		}
		i = end
	}
	return i
}
