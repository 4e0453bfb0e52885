package sqlparse

import "testing"

func TestHasPrimaryHint(t *testing.T) {
	for _, c := range []struct {
		sql  string
		want bool
	}{
		{"/* shardproxy:primary */ SELECT 1", true},
		{"SELECT /*shardproxy:primary*/ 1", true},
		{"SELECT 1 /*  SHARDPROXY:PRIMARY  */", true},
		{"SELECT 'it\\'s' /* shardproxy:primary */", true},
		{"SELECT 'it''s', \"a\\\"b\" /* shardproxy:primary */", true},
		{"SELECT '/* shardproxy:primary */'", false},
		{"SELECT \"/* shardproxy:primary */\"", false},
		{"SELECT `/* shardproxy:primary */` FROM t", false},
		{"SELECT 1 -- /* shardproxy:primary */", false},
		{"SELECT 1 # /* shardproxy:primary */", false},
		{"SELECT 1 --\n/* shardproxy:primary */", true},
		{"SELECT 1 /* shardproxy:primary, please */", false},
		{"SELECT 1 /*+ shardproxy:primary */", false},
		{"SELECT 5--1 /* shardproxy:primary */", true},
		{"SELECT 'unterminated /* shardproxy:primary */", false},
		{"", false},
	} {
		if got := HasPrimaryHint(c.sql); got != c.want {
			t.Errorf("HasPrimaryHint(%q) = %v, want %v", c.sql, got, c.want)
		}
	}
}

func TestIsHandler(t *testing.T) {
	for sql, want := range map[string]bool{
		"HANDLER t OPEN":                   true,
		"  /* why */ handler t READ FIRST": true,
		"HANDLERS":                         false,
		"SELECT 'HANDLER t OPEN'":          false,
		"/* HANDLER */ SELECT 1":           false,
		"":                                 false,
	} {
		if got := IsHandler(sql); got != want {
			t.Errorf("IsHandler(%q) = %v, want %v", sql, got, want)
		}
	}
}
