package router

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// FuzzPlan: no statement may crash planning, binding or inlining.
func FuzzPlan(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		data, _ := os.ReadFile(file)
		var cases []goldenCase
		_ = json.Unmarshal(data, &cases)
		for _, c := range cases {
			f.Add(c.Query, int64(5), "x")
		}
	}
	r, err := New(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string, n int64, s string) {
		stmts, err := sqlparse.Parse(sql)
		if err != nil {
			return
		}
		for _, stmt := range stmts {
			plan, err := r.Plan("shop", stmt)
			if err != nil {
				_ = AsError(err)
				continue
			}
			params := make([]Value, plan.Params)
			for i := range params {
				switch i % 3 {
				case 0:
					params[i] = IntValue(n)
				case 1:
					params[i] = StringValue(s)
				}
			}
			route, err := plan.BindIDs(params, func(k int) (uint64, error) { return 1, nil })
			if err != nil {
				continue
			}
			for _, tg := range route.Targets {
				if _, err := tg.Inline(params); err != nil {
					t.Errorf("%q: inline: %v", sql, err)
				}
			}
		}
	})
}
