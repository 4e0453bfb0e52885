package sqlparse

import "strings"

// spanKind classifies a stretch of SQL text for the scanner below.
type spanKind uint8

const (
	spanCode    spanKind = iota // one byte of ordinary SQL
	spanString                  // '...' or "..."
	spanIdent                   // `...`
	spanComment                 // /* ... */, -- ... or # ...
)

// nextSpan returns the kind and end of the token starting at s[i]: quoted
// strings (backslash escapes and doubled quotes), quoted identifiers and
// comments are taken whole, anything else one byte at a time. Unterminated
// tokens run to the end of the text.
func nextSpan(s string, i int) (spanKind, int) {
	switch c := s[i]; {
	case c == '\'' || c == '"':
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case c:
				if j+1 < len(s) && s[j+1] == c {
					j++
					continue
				}
				return spanString, j + 1
			}
		}
		return spanString, len(s)
	case c == '`':
		for j := i + 1; j < len(s); j++ {
			if s[j] == '`' {
				if j+1 < len(s) && s[j+1] == '`' {
					j++
					continue
				}
				return spanIdent, j + 1
			}
		}
		return spanIdent, len(s)
	case c == '/' && strings.HasPrefix(s[i:], "/*"):
		if end := strings.Index(s[i+2:], "*/"); end >= 0 {
			return spanComment, i + 2 + end + 2
		}
		return spanComment, len(s)
	case c == '#' || c == '-' && strings.HasPrefix(s[i:], "--") && (i+2 == len(s) || s[i+2] <= ' '):
		if end := strings.IndexByte(s[i:], '\n'); end >= 0 {
			return spanComment, i + end + 1
		}
		return spanComment, len(s)
	}
	return spanCode, i + 1
}

// PrimaryHint is the comment that sends a statement to the primary.
const PrimaryHint = "shardproxy:primary"

// HasPrimaryHint reports whether sql contains the comment
// /* shardproxy:primary */ outside string literals and quoted names. The
// parser drops comments, so the raw text is scanned.
func HasPrimaryHint(sql string) bool {
	for i := 0; i < len(sql); {
		kind, end := nextSpan(sql, i)
		if kind == spanComment && strings.HasPrefix(sql[i:], "/*") {
			body := strings.TrimSuffix(sql[i+2:end], "*/")
			if strings.EqualFold(strings.TrimSpace(body), PrimaryHint) {
				return true
			}
		}
		i = end
	}
	return false
}

// IsHandler reports whether sql is a HANDLER statement (MariaDB's direct
// table reads, which the parser does not know): an open handler is state
// of the connection that ran HANDLER ... OPEN.
func IsHandler(sql string) bool {
	w, _ := nextWord(sql, 0)
	return strings.EqualFold(w, "handler")
}
