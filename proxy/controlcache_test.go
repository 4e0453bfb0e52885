package proxy

import (
	"fmt"
	"testing"
)

func TestControlCacheKeepsOnlyTransactionBrackets(t *testing.T) {
	p := newParser()
	var c controlCache
	for _, tc := range []struct {
		sql  string
		kept bool
	}{
		{"BEGIN", true},
		{"start transaction read only", true},
		{"COMMIT", true},
		{"ROLLBACK", true},
		{"ROLLBACK TO SAVEPOINT sp", false}, // goes to the backends with its name
		{"SAVEPOINT sp", false},
		{"SELECT 1", false},
		{"SET autocommit = 0", false},
	} {
		st, err := p.ParseOneStmt(tc.sql, "", "")
		if err != nil {
			t.Fatal(err)
		}
		c.remember(tc.sql, st)
		if got := c.get(tc.sql); (got != nil) != tc.kept {
			t.Errorf("%q kept: %v, want %v", tc.sql, got != nil, tc.kept)
		} else if tc.kept && got != st {
			t.Errorf("%q: got another node", tc.sql)
		}
	}
}

func TestControlCacheIsBounded(t *testing.T) {
	p := newParser()
	var c controlCache
	for i := range maxControlTexts + 10 {
		sql := fmt.Sprintf("BEGIN /* %d */", i)
		st, err := p.ParseOneStmt(sql, "", "")
		if err != nil {
			t.Fatal(err)
		}
		c.remember(sql, st)
	}
	if n := len(*c.texts.Load()); n != maxControlTexts {
		t.Fatalf("%d texts kept, want %d", n, maxControlTexts)
	}
	if c.get(fmt.Sprintf("BEGIN /* %d */", maxControlTexts)) != nil {
		t.Fatal("a text past the bound was kept")
	}
}
