package sqlparse

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func TestParseDiagnosticsLimit(t *testing.T) {
	type limit struct {
		errorsOnly    bool
		offset, count uint64
	}
	cases := []struct {
		sql  string
		want limit
		ok   bool
	}{
		{"SHOW WARNINGS LIMIT 2", limit{count: 2}, true},
		{"  show /* c */ warnings limit 1, 3;", limit{offset: 1, count: 3}, true},
		{"SHOW ERRORS LIMIT 3 OFFSET 4", limit{errorsOnly: true, offset: 4, count: 3}, true},
		{"SHOW WARNINGS LIMIT 0", limit{}, true},
		{"SHOW WARNINGS", limit{}, false},
		{"SHOW WARNINGS LIMIT ?", limit{}, false},
		{"SHOW WARNINGS LIMIT -1", limit{}, false},
		{"SHOW WARNINGS WHERE 1 LIMIT 1", limit{}, false},
		{"SHOW WARNINGS LIMIT 1; SELECT 2", limit{}, false},
		{"SHOW WARNINGSX LIMIT 1", limit{}, false},
		{"SHOW TABLES LIMIT 1", limit{}, false},
		{"SELECT 1 LIMIT 1", limit{}, false},
		{"SHOW COUNT(*) WARNINGS LIMIT 1", limit{}, false},
	}
	for _, tc := range cases {
		st, ok := ParseDiagnosticsLimit(tc.sql)
		var got limit
		if ok {
			got.errorsOnly = st.Tp == ast.ShowErrors
			got.offset, got.count, _ = LimitBounds(st.Limit)
		}
		if ok != tc.ok || got != tc.want {
			t.Errorf("%q: got %+v %v, want %+v %v", tc.sql, got, ok, tc.want, tc.ok)
		}
	}
}
