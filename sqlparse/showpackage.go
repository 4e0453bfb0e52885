package sqlparse

import "strings"

// IsShowPackageStatus reports `SHOW PACKAGE [BODY] STATUS ...`, MariaDB's
// listing of Oracle-mode packages, which the SQL parser does not know
// (mariadb-dump --routines sends it).
func IsShowPackageStatus(sql string) bool {
	words := [4]string{}
	i := 0
	for k := range words {
		words[k], i = nextWord(sql, i)
	}
	if !strings.EqualFold(words[0], "show") || !strings.EqualFold(words[1], "package") {
		return false
	}
	if strings.EqualFold(words[2], "body") {
		return strings.EqualFold(words[3], "status")
	}
	return strings.EqualFold(words[2], "status")
}

// ReplaceStrings returns sql with each quoted string that replace changes
// written anew as a single-quoted string. Strings with escapes are left as
// they are: replace sees a string's text between its quotes.
func ReplaceStrings(sql string, replace func(string) (string, bool)) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(sql); {
		kind, end := nextSpan(sql, i)
		if kind == spanString && end-i >= 2 && sql[end-1] == sql[i] {
			inner := sql[i+1 : end-1]
			if !strings.ContainsAny(inner, `\'"`) {
				if v, ok := replace(inner); ok && !strings.ContainsAny(v, `\'`) {
					b.WriteString(sql[last:i])
					b.WriteString("'" + v + "'")
					last = end
				}
			}
		}
		i = end
	}
	if last == 0 {
		return sql
	}
	b.WriteString(sql[last:])
	return b.String()
}
