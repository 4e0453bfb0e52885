package sqlparse

import "testing"

func TestSplitSetStatement(t *testing.T) {
	cases := []struct {
		sql, assignments, stmt string
		ok                     bool
	}{
		{"SET STATEMENT max_statement_time=1 FOR SELECT SLEEP(3)", " max_statement_time=1 ", " SELECT SLEEP(3)", true},
		{"set statement a = 'for', b = (SELECT 1 FOR UPDATE) for delete from t", " a = 'for', b = (SELECT 1 FOR UPDATE) ", " delete from t", true},
		{"/* c */ SET /* for */ STATEMENT format_x = `for`, y=\"for\" -- for\n FOR SELECT 1", " format_x = `for`, y=\"for\" -- for\n ", " SELECT 1", true},
		{"SET STATEMENT x=1 FORMAT", "", "", false},
		{"SET @a = 1", "", "", false},
		{"SELECT 1 FOR UPDATE", "", "", false},
	}
	for _, c := range cases {
		a, s, ok := SplitSetStatement(c.sql)
		if a != c.assignments || s != c.stmt || ok != c.ok {
			t.Errorf("%q: got %q, %q, %v; want %q, %q, %v", c.sql, a, s, ok, c.assignments, c.stmt, c.ok)
		}
	}
}

func TestInlineParams(t *testing.T) {
	sql := "SET @a = ?, time_zone = ?, @b = '?'+?"
	st, err := ParseOne(sql)
	if err != nil {
		t.Fatal(err)
	}
	got, err := InlineParams(sql, st, []Value{IntValue(-3), StringValue("+00:00"), NullValue()})
	if want := "SET @a = -3, time_zone = '+00:00', @b = '?'+NULL"; err != nil || got != want {
		t.Errorf("got %q, %v; want %q", got, err, want)
	}
	if _, err := InlineParams(sql, st, nil); err == nil {
		t.Error("no error for missing parameters")
	}
}

func TestSetsNextTransaction(t *testing.T) {
	for sql, want := range map[string]bool{
		"SET TRANSACTION READ ONLY":                    true,
		"/* x */ set  transaction isolation level a":   true,
		"SET SESSION TRANSACTION READ ONLY":            false,
		"SET GLOBAL TRANSACTION READ WRITE":            false,
		"SET @@transaction_read_only = 1":              false,
		"SET transaction_isolation = 'READ-COMMITTED'": false,
	} {
		if got := SetsNextTransaction(sql); got != want {
			t.Errorf("%q: %v, want %v", sql, got, want)
		}
	}
}
