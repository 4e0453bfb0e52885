package sqlparse

import "strings"

// Completion is what a COMMIT or ROLLBACK says of its own completion:
// `AND [NO] CHAIN` and `[NO] RELEASE`. The parser folds the NO forms into
// "as completion_type says", which they are not when completion_type is
// CHAIN or RELEASE.
type Completion struct {
	Chain, NoChain, Release, NoRelease bool
}

// CompletionOf reads the completion clauses of sql, a COMMIT or ROLLBACK
// (without TO SAVEPOINT) that the parser accepted: its words are then
// COMMIT|ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE].
func CompletionOf(sql string) Completion {
	var c Completion
	no := false
	for i := 0; ; {
		w, end := nextWord(sql, i)
		if w == "" {
			if end >= len(sql) {
				return c
			}
			i = end + 1 // not a word: a semicolon, say
			continue
		}
		i = end
		switch {
		case strings.EqualFold(w, "no"):
			no = true
			continue
		case strings.EqualFold(w, "chain"):
			c.Chain, c.NoChain = !no, no
		case strings.EqualFold(w, "release"):
			c.Release, c.NoRelease = !no, no
		}
		no = false
	}
}
