// Package sqlparse wraps the TiDB parser for the proxy: pooled parsing,
// parameter numbering, restoring statements to text with schema qualifiers
// rewritten per shard (templates), literal values, and parameter inlining.
package sqlparse

import (
	"slices"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// ParseError is a statement the parser rejects; the proxy answers it with
// MySQL error 1064 and Error() as the message.
type ParseError struct {
	Detail string // the parser's own text: `line 1 column 13 near "FORM t"`
}

func (e *ParseError) Error() string {
	return "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use " + e.Detail
}

// Parser parses statements; it is not safe for concurrent use (one per
// session), while the package-level Parse and ParseOne use a pool.
type Parser struct {
	p *parser.Parser
}

func NewParser() *Parser { return &Parser{p: parser.New()} }

// Parse parses one or more `;`-separated statements and numbers their `?`
// markers (ParamIndex) in text order, each statement from 0.
func (p *Parser) Parse(sql string) ([]ast.StmtNode, error) {
	stmts, _, err := p.p.ParseSQL(sql)
	if err != nil {
		return nil, &ParseError{Detail: err.Error()}
	}
	// The parser reuses its result slice on the next call.
	stmts = slices.Clone(stmts)
	for _, s := range stmts {
		NumberParams(s)
	}
	return stmts, nil
}

// ParseOne parses exactly one statement.
func (p *Parser) ParseOne(sql string) (ast.StmtNode, error) {
	stmts, err := p.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, &ParseError{Detail: "near '' (expected exactly one statement)"}
	}
	return stmts[0], nil
}

var pool = sync.Pool{New: func() any { return NewParser() }}

// Parse parses with a pooled Parser; safe for concurrent use.
func Parse(sql string) ([]ast.StmtNode, error) {
	p := pool.Get().(*Parser)
	defer pool.Put(p)
	return p.Parse(sql)
}

// ParseOne parses one statement with a pooled Parser.
func ParseOne(sql string) (ast.StmtNode, error) {
	p := pool.Get().(*Parser)
	defer pool.Put(p)
	return p.ParseOne(sql)
}

// NumberParams sets each `?` marker's Order to its rank by text position (the
// parser leaves it 0) and returns how many there are. Idempotent.
func NumberParams(node ast.Node) int {
	var c paramCollector
	node.Accept(&c)
	slices.SortFunc(c.params, func(a, b *test_driver.ParamMarkerExpr) int { return a.Offset - b.Offset })
	for i, p := range c.params {
		p.Order = i
	}
	return len(c.params)
}

// CountParams counts the `?` markers under node, leaving their Orders.
func CountParams(node ast.Node) int {
	var c paramCollector
	node.Accept(&c)
	return len(c.params)
}

// CopyParamOrder gives the `?` markers of to, a statement parsed from
// from's restored text, the Orders of from's markers (which NumberParams
// set by from's text). Restoring does not always keep the markers in text
// order: LIMIT ? OFFSET ? comes back as LIMIT ?, ?. Both trees have the
// same shape, so the markers pair up in traversal order. It returns the
// number of markers, or false when the trees disagree.
func CopyParamOrder(from, to ast.Node) (int, bool) {
	NumberParams(from)
	var a, b paramCollector
	from.Accept(&a)
	to.Accept(&b)
	if len(a.params) != len(b.params) {
		return 0, false
	}
	for i, p := range b.params {
		p.Order = a.params[i].Order
	}
	return len(b.params), true
}

// Contains reports whether pred holds for n or any node below it,
// subqueries included.
func Contains(n ast.Node, pred func(ast.Node) bool) bool {
	f := finder{pred: pred}
	n.Accept(&f)
	return f.found
}

type finder struct {
	pred  func(ast.Node) bool
	found bool
}

func (f *finder) Enter(n ast.Node) (ast.Node, bool) {
	if !f.found && f.pred(n) {
		f.found = true
	}
	return n, f.found
}

func (f *finder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

type paramCollector struct {
	params []*test_driver.ParamMarkerExpr
}

func (c *paramCollector) Enter(n ast.Node) (ast.Node, bool) {
	if p, ok := n.(*test_driver.ParamMarkerExpr); ok {
		c.params = append(c.params, p)
	}
	return n, false
}

func (c *paramCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// PositionsAsMariaDB makes a number in parentheses in stmt's own ORDER BY
// and GROUP BY a position, as MariaDB reads it (its parser drops the
// parentheses: `ORDER BY (2)` sorts by the second column, as Django writes
// a union's ORDER BY); TiDB's parser reads a constant there.
func PositionsAsMariaDB(stmt ast.StmtNode) {
	var lists [][]*ast.ByItem
	switch x := stmt.(type) {
	case *ast.SelectStmt:
		if x.OrderBy != nil {
			lists = append(lists, x.OrderBy.Items)
		}
		if x.GroupBy != nil {
			lists = append(lists, x.GroupBy.Items)
		}
	case *ast.SetOprStmt:
		if x.OrderBy != nil {
			lists = append(lists, x.OrderBy.Items)
		}
	}
	for _, items := range lists {
		for _, by := range items {
			p, ok := by.Expr.(*ast.ParenthesesExpr)
			if !ok {
				continue
			}
			for inner, ok := p.Expr.(*ast.ParenthesesExpr); ok; inner, ok = p.Expr.(*ast.ParenthesesExpr) {
				p = inner
			}
			v, ok := Literal(p.Expr)
			if ok && (v.Kind() == KindInt && v.Int() >= 0 || v.Kind() == KindUint) {
				by.Expr = &ast.PositionExpr{N: int(v.Uint())}
			}
		}
	}
}
