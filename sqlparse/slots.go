package sqlparse

import (
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// A hole is written into restored text as a quoted name starting with NUL,
// which no real identifier can contain, then cut out by parseHoles.
const (
	holeSchema = 's' // schema qualifier: replaced by the shard's database
	holeParam  = 'p' // `?` marker, numbered
	holeMark   = 'm' // a cut point (INSERT rows)
)

func holeName(kind byte, n int) string {
	return "\x00" + string(kind) + strconv.Itoa(n)
}

// paramSlot stands in for a `?` marker while a template is restored.
type paramSlot struct{ *test_driver.ParamMarkerExpr }

func (s *paramSlot) Restore(ctx *format.RestoreCtx) error {
	ctx.WriteName(holeName(holeParam, s.Order))
	return nil
}

func (s *paramSlot) Accept(v ast.Visitor) (ast.Node, bool) { return acceptLeaf(s, v) }

// hexSlot stands in for a string literal that is not valid UTF-8, so it is
// written as X'..' and survives any connection character set.
type hexSlot struct{ *test_driver.ValueExpr }

func (s *hexSlot) Restore(ctx *format.RestoreCtx) error {
	ctx.WritePlain(string(appendHex(nil, s.GetString())))
	return nil
}

func (s *hexSlot) Accept(v ast.Visitor) (ast.Node, bool) { return acceptLeaf(s, v) }

// markSlot marks a cut point in a template.
type markSlot struct{ *test_driver.ValueExpr }

func newMark() *markSlot {
	return &markSlot{ast.NewValueExpr(nil, "", "").(*test_driver.ValueExpr)}
}

func (s *markSlot) Restore(ctx *format.RestoreCtx) error {
	ctx.WriteName(holeName(holeMark, 0))
	return nil
}

func (s *markSlot) Accept(v ast.Visitor) (ast.Node, bool) { return acceptLeaf(s, v) }

func acceptLeaf(n ast.Node, v ast.Visitor) (ast.Node, bool) {
	n, _ = v.Enter(n)
	return v.Leave(n)
}

// slotter swaps `?` markers and non-UTF-8 strings for slots, and schema
// qualifiers naming one of schemas for schema holes; unslot undoes it all.
type slotter struct {
	schemas []string // lower-case logical names
	undo    []func()
}

func (t *slotter) schemaHole(name *ast.CIStr) {
	if i := slices.Index(t.schemas, name.L); i >= 0 {
		old := *name
		*name = ast.NewCIStr(holeName(holeSchema, i))
		t.undo = append(t.undo, func() { *name = old })
	}
}

// keepName aliases an unnamed expression in a select list so that its
// result column keeps its name once restored (ColumnAlias).
func (t *slotter) keepName(f *ast.SelectField) {
	if alias, ok := ColumnAlias(f); ok {
		f.AsName = ast.NewCIStr(alias)
		t.undo = append(t.undo, func() { f.AsName = ast.CIStr{} })
	}
}

// ColumnAlias returns the alias that keeps a select-list expression's
// result column name when its statement is restored: MySQL names an
// unnamed expression after its text as written, which the restored
// spelling changes (COUNT(1) for count(*), backquotes, spacing). ok is false
// where restoring keeps the name anyway (aliased fields, columns, which are
// named by their name, and string literals, by their value) and for texts
// longer than an alias may be.
func ColumnAlias(f *ast.SelectField) (alias string, ok bool) {
	switch x := f.Expr.(type) {
	case nil, *ast.ColumnNameExpr:
		return "", false
	case *test_driver.ValueExpr:
		if k := x.Kind(); k == test_driver.KindString || k == test_driver.KindBytes {
			return "", false
		}
	}
	if f.AsName.L != "" {
		return "", false
	}
	text := f.Text()
	return text, text != "" && len(text) <= maxAliasLen
}

// maxAliasLen is the longest alias MariaDB accepts.
const maxAliasLen = 256

func (t *slotter) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.TableName:
		t.schemaHole(&x.Schema)
	case *ast.ColumnName:
		t.schemaHole(&x.Schema)
	case *ast.SelectField:
		if x.WildCard != nil {
			t.schemaHole(&x.WildCard.Schema)
		}
		t.keepName(x)
	case *ast.ShowStmt:
		if i := slices.Index(t.schemas, strings.ToLower(x.DBName)); x.DBName != "" && i >= 0 {
			old := x.DBName
			x.DBName = holeName(holeSchema, i)
			t.undo = append(t.undo, func() { x.DBName = old })
		}
	}
	return n, false
}

func (t *slotter) Leave(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *test_driver.ParamMarkerExpr:
		return &paramSlot{x}, true
	case *test_driver.ValueExpr:
		if k := x.Kind(); (k == test_driver.KindString || k == test_driver.KindBytes) && !utf8.ValidString(x.GetString()) {
			return &hexSlot{x}, true
		}
	}
	return n, true
}

// unslot puts back what slotter replaced.
type unslot struct{}

func (unslot) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *paramSlot:
		return x.ParamMarkerExpr, true
	case *hexSlot:
		return x.ValueExpr, true
	}
	return n, false
}

func (unslot) Leave(n ast.Node) (ast.Node, bool) { return n, true }
