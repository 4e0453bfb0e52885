package sqlparse

// AppendShape appends sql with its numbers and single-quoted strings
// replaced by '?', everything else (identifiers, keywords, spacing,
// comments, double-quoted text, which may name an identifier under
// ANSI_QUOTES) kept byte for byte. Texts that differ only in such literals
// share a shape; the proxy caches what it learnt from parsing one of them
// (read or write, no rewrite needed) under it. It reports whether anything
// was replaced.
func AppendShape(b []byte, sql string) ([]byte, bool) {
	replaced := false
	for i := 0; i < len(sql); {
		kind, end := nextSpan(sql, i)
		switch {
		case kind == spanString && sql[i] == '\'':
			b = append(b, '?')
			replaced = true
		case kind == spanCode && isDigit(sql[i]) && (i == 0 || !isIdentByte(sql[i-1])):
			if n := numberEnd(sql, i); n > i {
				b = append(b, '?')
				replaced = true
				end = n
				break
			}
			b = append(b, sql[i:end]...)
		default:
			b = append(b, sql[i:end]...)
		}
		i = end
	}
	return b, replaced
}

// numberEnd returns the end of a decimal number (digits, an optional
// fraction and exponent) starting at i, or i when the token goes on as an
// identifier (1abc, 0x1F, 2e): those are kept as they are.
func numberEnd(s string, i int) int {
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j < len(s) && s[j] == '.' {
		j++
		for j < len(s) && isDigit(s[j]) {
			j++
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && isDigit(s[k]) {
			for k < len(s) && isDigit(s[k]) {
				k++
			}
			j = k
		}
	}
	if j < len(s) && (isIdentByte(s[j]) || s[j] == '.') {
		return i
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
