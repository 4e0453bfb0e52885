package sqlparse

import (
	"strconv"
	"strings"
)

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
		// Ordinary text is copied in runs: a byte at a time it cost more
		// than the rest of a plan-cache hit (this runs on every text
		// statement not cached by its exact text).
		if run := plainEnd(sql, i); run > i {
			b = append(b, sql[i:run]...)
			if i = run; i == len(sql) {
				break
			}
		}
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

// mayStartToken marks the bytes where AppendShape looks closer: quotes,
// comment starts and digits.
var mayStartToken = func() (t [256]bool) {
	for _, c := range []byte("'\"`/#-0123456789") {
		t[c] = true
	}
	return t
}()

// plainEnd returns the end of the ordinary text starting at i: bytes that
// start no quoted token, comment or number (a digit inside a name does not).
func plainEnd(sql string, i int) int {
	for ; i < len(sql); i++ {
		if c := sql[i]; mayStartToken[c] && !(isDigit(c) && i > 0 && isIdentByte(sql[i-1])) {
			return i
		}
	}
	return i
}

// AppendShapeValues appends the literals AppendShape replaces, in order, as
// the parser would read them: integers as Int (Uint or Decimal when too
// large), numbers with a fraction as Decimal, with an exponent as Float,
// single-quoted strings unescaped. ok is false for a literal it cannot read.
func AppendShapeValues(dst []Value, sql string) ([]Value, bool) {
	for i := 0; i < len(sql); {
		if i = plainEnd(sql, i); i == len(sql) {
			break
		}
		kind, end := nextSpan(sql, i)
		switch {
		case kind == spanString && sql[i] == '\'':
			dst = append(dst, StringValue(unquote(sql[i:end])))
		case kind == spanCode && isDigit(sql[i]) && (i == 0 || !isIdentByte(sql[i-1])):
			if n := numberEnd(sql, i); n > i {
				v, ok := numberValue(sql[i:n])
				if !ok {
					return dst, false
				}
				dst = append(dst, v)
				end = n
			}
		}
		i = end
	}
	return dst, true
}

func numberValue(s string) (Value, bool) {
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		return FloatValue(f), err == nil
	}
	if strings.IndexByte(s, '.') >= 0 {
		return DecimalValue(s), true
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return IntValue(n), true
	}
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return UintValue(n), true
	}
	return DecimalValue(s), true
}

// unquote reads a single-quoted SQL string: ” is a quote, backslash
// escapes as MySQL reads them (\% and \_ keep their backslash).
func unquote(q string) string {
	if len(q) >= 2 && q[len(q)-1] == '\'' {
		q = q[1 : len(q)-1]
	} else {
		q = q[1:]
	}
	if strings.IndexByte(q, '\\') < 0 && !strings.Contains(q, "''") {
		return q
	}
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' && i+1 < len(q) && q[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(q):
			i++
			switch e := q[i]; e {
			case '0':
				b.WriteByte(0)
			case 'b':
				b.WriteByte('\b')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'Z':
				b.WriteByte(0x1a)
			case '%', '_':
				b.WriteByte('\\')
				b.WriteByte(e)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
