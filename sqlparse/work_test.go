package sqlparse

import "testing"

func TestWithoutWork(t *testing.T) {
	for sql, want := range map[string]string{
		"BEGIN WORK":                       "BEGIN     ",
		"commit /* c */ work and no chain": "commit /* c */      and no chain",
		"ROLLBACK WORK TO SAVEPOINT a":     "ROLLBACK      TO SAVEPOINT a",
		"ROLLBACK workload":                "",
		"SELECT work FROM t":               "",
		"COMMIT":                           "",
	} {
		got, ok := WithoutWork(sql)
		if got != want || ok != (want != "") {
			t.Errorf("%q: got %q, %v; want %q", sql, got, ok, want)
		}
		if ok {
			if _, err := ParseOne(got); err != nil {
				t.Errorf("%q: %v", got, err)
			}
		}
	}
}
