package sqlparse

import "testing"

func TestSplitReturning(t *testing.T) {
	cases := []struct {
		sql, stmt, list string
		ok              bool
	}{
		{"INSERT INTO t (a) VALUES (1) RETURNING id, a", "INSERT INTO t (a) VALUES (1) ", " id, a", true},
		{"delete from t where a = 'returning' /* returning */ returning *", "delete from t where a = 'returning' /* returning */ ", " *", true},
		{"INSERT INTO t (`returning`, b) VALUES (\"RETURNING\", (SELECT 1 RETURNING)) Returning b", "INSERT INTO t (`returning`, b) VALUES (\"RETURNING\", (SELECT 1 RETURNING)) ", " b", true},
		{"INSERT INTO t (a) VALUES (1) RETURNING\tUPPER(a) AS returned", "INSERT INTO t (a) VALUES (1) ", "\tUPPER(a) AS returned", true},
		{"SELECT returning_x, x_returning FROM t", "", "", false},
		{"INSERT INTO t (a) VALUES (1)", "", "", false},
	}
	for _, c := range cases {
		stmt, list, ok := SplitReturning(c.sql)
		if stmt != c.stmt || list != c.list || ok != c.ok {
			t.Errorf("%q: got %q, %q, %v; want %q, %q, %v", c.sql, stmt, list, ok, c.stmt, c.list, c.ok)
		}
	}
}
