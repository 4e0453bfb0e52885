package sqlparse

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// RestoreFlags are the flags every restore uses: without
// RestoreStringEscapeBackslash 'back\\slash' would come back as 'back\slash'
// and change the data; without RestoreStringWithoutCharset a literal would
// carry an introducer the backend connection may not expect.
const RestoreFlags = format.DefaultRestoreFlags | format.RestoreStringEscapeBackslash | format.RestoreStringWithoutCharset

// Restore writes node back as SQL text. It does not modify node.
func Restore(node ast.Node) (string, error) { return RestoreWith(node, RestoreFlags) }

// RestoreWith writes node back as SQL text with flags. It does not modify
// node, but changes it while it runs.
func RestoreWith(node ast.Node, flags format.RestoreFlags) (string, error) {
	var fix charFuncs
	node.Accept(&fix)
	defer fix.undo()
	var b strings.Builder
	if err := restoreLocks(node, format.NewRestoreCtx(flags, &b)); err != nil {
		return "", fmt.Errorf("restore %T: %w", node, err)
	}
	return b.String(), nil
}

// shareLocks are MariaDB's spellings of the shared locks the parser reads;
// it restores them as MySQL 8's FOR SHARE, which MariaDB rejects.
var shareLocks = map[ast.SelectLockType]string{
	ast.SelectLockForShare:           " LOCK IN SHARE MODE",
	ast.SelectLockForShareNoWait:     " LOCK IN SHARE MODE NOWAIT",
	ast.SelectLockForShareSkipLocked: " LOCK IN SHARE MODE SKIP LOCKED",
}

// restoreLocks restores node, a SELECT's shared lock spelled as MariaDB
// spells it. Only a statement's own lock is respelled: the parser's
// restore of nested SELECTs cannot be taken apart (a subquery's shared
// lock still reads FOR SHARE, which MariaDB refuses with 1064).
func restoreLocks(node ast.Node, ctx *format.RestoreCtx) error {
	sel, ok := node.(*ast.SelectStmt)
	if !ok || sel.LockInfo == nil || len(sel.LockInfo.Tables) > 0 || shareLocks[sel.LockInfo.LockType] == "" {
		return node.Restore(ctx)
	}
	lock, into := sel.LockInfo, sel.SelectIntoOpt
	sel.LockInfo, sel.SelectIntoOpt = nil, nil
	defer func() { sel.LockInfo, sel.SelectIntoOpt = lock, into }()
	if err := sel.Restore(ctx); err != nil {
		return err
	}
	ctx.WritePlain(shareLocks[lock.LockType])
	if into == nil {
		return nil
	}
	ctx.WritePlain(" ")
	return into.Restore(ctx)
}

// charFuncs respells CHAR() for restoring. The parser reads CHAR(n, ...
// [USING cs]) as a call of char_func with the character set as its last
// argument, which restores as CHAR_FUNC(n, ..., NULL): a function MariaDB
// does not have. It becomes CHAR(n, ...), or CONVERT(CHAR(n, ...) USING
// cs), the same string: CHAR gives bytes, and CONVERT from bytes only
// labels them.
type charFuncs struct{ changed []*ast.FuncCallExpr }

func (v *charFuncs) Enter(n ast.Node) (ast.Node, bool) { return n, false }

func (v *charFuncs) Leave(n ast.Node) (ast.Node, bool) {
	f, ok := n.(*ast.FuncCallExpr)
	if !ok || f.FnName.L != ast.CharFunc || len(f.Args) == 0 {
		return n, true
	}
	last := len(f.Args) - 1
	char := &ast.FuncCallExpr{FnName: ast.NewCIStr("CHAR"), Args: f.Args[:last]}
	v.changed = append(v.changed, f, &ast.FuncCallExpr{FnName: f.FnName, Args: f.Args})
	if cs, ok := f.Args[last].(ast.ValueExpr); ok && cs.GetValue() == nil {
		f.FnName, f.Args = char.FnName, char.Args
	} else {
		f.FnName, f.Args = ast.NewCIStr("CONVERT"), []ast.ExprNode{char, f.Args[last]}
	}
	return n, true
}

// undo puts the calls back as the parser made them.
func (v *charFuncs) undo() {
	for i := 0; i < len(v.changed); i += 2 {
		v.changed[i].FnName, v.changed[i].Args = v.changed[i+1].FnName, v.changed[i+1].Args
	}
}

// Template is a statement's text with holes: schema qualifiers (of the
// logical schemas it was built for), `?` parameters and cut marks. Built
// once per plan; expanding it for a shard is string concatenation.
type Template struct {
	parts []string // len(parts) == len(holes)+1
	holes []hole
}

type hole struct {
	kind byte // holeSchema, holeParam, holeMark
	n    int  // index into schemas, or the parameter's index
}

// NewTemplate turns node into text with holes: qualifiers that name one of
// schemas (lower-case logical names) are filled per shard, `?` markers are
// numbered. Column qualifiers (`shop.users.name`) are renamed along with
// table names, so no alias is needed; unqualified names stay unqualified.
//
// A statement keeps its own text when the qualifiers and markers can be
// found in it (textTemplate). Otherwise, and for other nodes, it is
// restored: expressions in select lists get their original text as alias
// so result column names do not change, and string literals that are not
// UTF-8 become X'..'. node is modified while this runs and then put back:
// do not share it with another goroutine meanwhile.
func NewTemplate(node ast.Node, schemas []string) (*Template, error) {
	if stmt, ok := node.(ast.StmtNode); ok {
		if t, ok := textTemplate(stmt, schemas); ok {
			return t, nil
		}
	}
	return restoreTemplate(node, schemas)
}

// restoreTemplate always restores node.
func restoreTemplate(node ast.Node, schemas []string) (*Template, error) {
	s := &slotter{schemas: schemas}
	root, _ := node.Accept(s)
	text, err := Restore(root)
	node.Accept(unslot{})
	for _, f := range s.undo {
		f()
	}
	if err != nil {
		return nil, err
	}
	return parseHoles(text)
}

func parseHoles(text string) (*Template, error) {
	t := &Template{}
	last := 0
	for i := 0; i < len(text); {
		kind, end := nextSpan(text, i)
		if kind == spanIdent && strings.HasPrefix(text[i:], "`\x00") && end-i > 4 {
			n, err := strconv.Atoi(text[i+3 : end-1])
			if err != nil {
				return nil, fmt.Errorf("bad template hole %q", text[i:end])
			}
			t.parts = append(t.parts, text[last:i])
			t.holes = append(t.holes, hole{kind: text[i+2], n: n})
			last = end
		}
		i = end
	}
	t.parts = append(t.parts, text[last:])
	return t, nil
}

// AppendTo writes the template into b, dbs[i] standing for schemas[i].
func (t *Template) AppendTo(b *Builder, dbs []string) {
	for i, h := range t.holes {
		b.WriteString(t.parts[i])
		switch h.kind {
		case holeSchema:
			b.writeName(dbs[h.n])
		case holeParam:
			b.WriteParam(h.n)
		}
	}
	b.WriteString(t.parts[len(t.holes)])
}

// Expand returns the text for one shard, dbs[i] standing for schemas[i].
func (t *Template) Expand(dbs []string) Query {
	var b Builder
	t.AppendTo(&b, dbs)
	return b.Query()
}

// Size returns the length of the template's text without its holes.
func (t *Template) Size() int {
	n := 0
	for _, p := range t.parts {
		n += len(p)
	}
	return n
}

// UsesSchemas reports whether the text differs between shards.
func (t *Template) UsesSchemas() bool {
	for _, h := range t.holes {
		if h.kind == holeSchema {
			return true
		}
	}
	return false
}

// Params returns how many `?` markers the template holds.
func (t *Template) Params() int {
	n := 0
	for _, h := range t.holes {
		if h.kind == holeParam {
			n++
		}
	}
	return n
}

// cut splits the template at its mark holes.
func (t *Template) cut() []*Template {
	out := []*Template{{}}
	for i, h := range t.holes {
		cur := out[len(out)-1]
		cur.parts = append(cur.parts, t.parts[i])
		if h.kind == holeMark {
			out = append(out, &Template{})
			continue
		}
		cur.holes = append(cur.holes, h)
	}
	cur := out[len(out)-1]
	cur.parts = append(cur.parts, t.parts[len(t.holes)])
	return out
}

// Rewrite returns node's text with each schema qualifier found in dbs
// (logical name → physical database, case-insensitive) replaced, as
// NewTemplate does; `?` markers stay.
func Rewrite(node ast.Node, dbs map[string]string) (string, error) {
	schemas := make([]string, 0, len(dbs))
	physical := make([]string, 0, len(dbs))
	for logical, db := range dbs {
		schemas = append(schemas, strings.ToLower(logical))
		physical = append(physical, db)
	}
	t, err := NewTemplate(node, schemas)
	if err != nil {
		return "", err
	}
	return t.Expand(physical).SQL, nil
}

// Inline returns node's text with its `?` markers replaced by params as
// literals (AppendLiteral), for sending a prepared statement as text.
func Inline(node ast.Node, params []Value) (string, error) {
	t, err := NewTemplate(node, nil)
	if err != nil {
		return "", err
	}
	q := t.Expand(nil)
	return q.Inline(params)
}

// LoadTemplate is NewTemplate for LOAD DATA as a shard runs it: without
// IGNORE n LINES, which the proxy skips before the records are shared out.
func LoadTemplate(ld *ast.LoadDataStmt, schemas []string) (*Template, error) {
	ignore := ld.IgnoreLines
	ld.IgnoreLines = nil
	defer func() { ld.IgnoreLines = ignore }()
	return restoreTemplate(ld, schemas)
}

// LimitTemplate is NewTemplate for an UPDATE or DELETE whose LIMIT count
// becomes the `?` numbered param (one past the statement's own): the
// proxy runs it on shard after shard, each given what the LIMIT leaves.
func LimitTemplate(stmt ast.StmtNode, schemas []string, param int) (*Template, error) {
	var limit *ast.Limit
	switch s := stmt.(type) {
	case *ast.UpdateStmt:
		limit = s.Limit
	case *ast.DeleteStmt:
		limit = s.Limit
	}
	if limit == nil {
		return nil, fmt.Errorf("%T has no LIMIT", stmt)
	}
	count := limit.Count
	limit.Count = &test_driver.ParamMarkerExpr{Order: param}
	defer func() { limit.Count = count }()
	return restoreTemplate(stmt, schemas)
}
