package sqlparse

import (
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// textTemplate builds a template from the statement's own text, so the
// backend receives exactly what the client wrote (comments, column names of
// expressions, MariaDB spellings) with only schema qualifiers replaced. It
// finds `?` markers and `schema.` qualifiers by scanning the text, and
// gives up (ok false) unless it finds exactly as many as the AST holds: a
// table alias spelled like the schema, or a qualifier inside an executable
// comment, sends the statement down the Restore path instead.
func textTemplate(stmt ast.StmtNode, schemas []string) (t *Template, ok bool) {
	want := countHoles{schemas: schemas, quals: make([]int, len(schemas))}
	stmt.Accept(&want)
	text := strings.TrimRight(strings.TrimSpace(stmt.Text()), "; \t\r\n")
	if text == "" || want.showDB {
		return nil, false
	}
	t = &Template{}
	params, quals := 0, make([]int, len(schemas))
	last := 0
	cut := func(i, end int, h hole) {
		t.parts = append(t.parts, text[last:i])
		t.holes = append(t.holes, h)
		last = end
	}
	for i := 0; i < len(text); {
		kind, end := nextSpan(text, i)
		name := ""
		switch {
		case kind == spanCode && text[i] == '?':
			cut(i, end, hole{kind: holeParam, n: params})
			params++
		case kind == spanCode && isIdentByte(text[i]) && (i == 0 || !isIdentByte(text[i-1])):
			for end < len(text) && isIdentByte(text[end]) {
				end++
			}
			name = text[i:end]
		case kind == spanIdent:
			name = strings.ReplaceAll(text[i+1:max(end-1, i+1)], "``", "`")
		}
		if name != "" && qualifies(text, i, end) {
			if k := slices.IndexFunc(schemas, func(s string) bool { return strings.EqualFold(s, name) }); k >= 0 {
				cut(i, end, hole{kind: holeSchema, n: k})
				quals[k]++
			}
		}
		i = end
	}
	t.parts = append(t.parts, text[last:])
	if params != want.params || !slices.Equal(quals, want.quals) {
		return nil, false
	}
	return t, true
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c == '@' || c >= 0x80
}

// qualifies reports whether the name at text[i:end] is followed by a dot
// and not preceded by one: the first part of a dotted name.
func qualifies(text string, i, end int) bool {
	before := strings.TrimRight(text[:i], " \t\r\n")
	after := strings.TrimLeft(text[end:], " \t\r\n")
	return strings.HasPrefix(after, ".") && !strings.HasSuffix(before, ".")
}

// countHoles counts the `?` markers and the schema qualifiers in an AST.
type countHoles struct {
	schemas []string
	quals   []int
	params  int
	showDB  bool
}

func (c *countHoles) qualifier(name ast.CIStr) {
	if k := slices.Index(c.schemas, name.L); k >= 0 {
		c.quals[k]++
	}
}

func (c *countHoles) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *test_driver.ParamMarkerExpr:
		c.params++
	case *ast.TableName:
		c.qualifier(x.Schema)
	case *ast.ColumnName:
		c.qualifier(x.Schema)
	case *ast.SelectField:
		if x.WildCard != nil {
			c.qualifier(x.WildCard.Schema)
		}
	case *ast.ShowStmt:
		c.showDB = x.DBName != "" // written without a dot: let Restore handle it
	}
	return n, false
}

func (c *countHoles) Leave(n ast.Node) (ast.Node, bool) { return n, true }
