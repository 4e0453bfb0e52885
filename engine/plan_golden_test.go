package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json with the current output")

// goldenCase is one statement and its plan: the shard SQL and the
// primitive tree, or the error.
type goldenCase struct {
	Comment  string       `json:"comment,omitempty"`
	Query    string       `json:"query"`
	Keys     []string     `json:"keys,omitempty"` // shard key columns, by name
	ShardSQL string       `json:"shard_sql,omitempty"`
	Params   string       `json:"params,omitempty"` // "client/shard" when the statement has `?`
	Plan     []string     `json:"plan,omitempty"`
	Error    *goldenError `json:"error,omitempty"`
}

type goldenError struct {
	Code    uint16 `json:"code"`
	Message string `json:"message"`
}

func planCase(t *testing.T, query string, keys []string) goldenCase {
	t.Helper()
	c := goldenCase{Query: query, Keys: keys}
	stmt, err := sqlparse.ParseOne(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	var plan *Plan
	before, _ := sqlparse.Restore(stmt)
	switch x := stmt.(type) {
	case *ast.SelectStmt:
		var isKey KeyTest
		if keys != nil {
			isKey = func(c *ast.ColumnName) (bool, bool) { return slices.Contains(keys, c.Name.L), false }
		}
		plan, err = PlanSelectKeyed(x, isKey)
	case *ast.SetOprStmt:
		plan, err = PlanUnion(x)
	default:
		t.Fatalf("%s: not a SELECT or UNION", query)
	}
	if after, _ := sqlparse.Restore(stmt); after != before {
		t.Errorf("%s: PlanSelect changed the input AST:\n%s\n%s", query, before, after)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("%s: error %v is not an engine error", query, err)
		}
		c.Error = &goldenError{Code: e.Code, Message: e.Message}
		return c
	}
	c.ShardSQL = plan.ShardSQL
	if plan.Params > 0 {
		c.Params = fmt.Sprintf("%d/%d", plan.Params, plan.ShardParams)
	}
	c.Plan = strings.Split(strings.TrimRight(plan.Describe(), "\n"), "\n")
	if text := plan.ShardStmt.Text(); text != plan.ShardSQL {
		t.Errorf("%s: ShardStmt text %q differs from ShardSQL", query, text)
	}
	return c
}

func TestGoldenPlans(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var cases []goldenCase
			if err := json.Unmarshal(data, &cases); err != nil {
				t.Fatal(err)
			}
			for i, want := range cases {
				got := planCase(t, want.Query, want.Keys)
				got.Comment = want.Comment
				if *update {
					cases[i] = got
					continue
				}
				g, _ := json.MarshalIndent(got, "", "  ")
				w, _ := json.MarshalIndent(want, "", "  ")
				if !bytes.Equal(g, w) {
					t.Errorf("%s\n got: %s\nwant: %s", want.Query, g, w)
				}
			}
			if *update {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(cases); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
