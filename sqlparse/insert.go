package sqlparse

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// InsertParts is an INSERT/REPLACE ... VALUES cut so rows can be regrouped:
// the text for a group of rows is Prefix, then each row as "(" + its values
// joined by "," + ")" joined by ",", then Suffix.
type InsertParts struct {
	Prefix *Template     // INSERT INTO `shop`.`orders` (`user_id`,`note`) VALUES
	Suffix *Template     // "" or " ON DUPLICATE KEY UPDATE ..."
	Rows   [][]*Template // one template per value
}

// SplitInsert cuts ins (VALUES or SET form) into parts, for the logical
// schemas given. A non-empty extraColumn is appended to the column list (the
// caller then supplies one more value per row, e.g. a generated id).
func SplitInsert(ins *ast.InsertStmt, schemas []string, extraColumn string) (*InsertParts, error) {
	if ins.Select != nil || len(ins.Lists) == 0 {
		return nil, errors.New("INSERT has no VALUES rows")
	}
	lists, setlist, columns := ins.Lists, ins.Setlist, ins.Columns
	defer func() { ins.Lists, ins.Setlist, ins.Columns = lists, setlist, columns }()
	if extraColumn != "" {
		ins.Columns = append(columns[:len(columns):len(columns)], &ast.ColumnName{Name: ast.NewCIStr(extraColumn)})
	}
	ins.Setlist = false
	ins.Lists = [][]ast.ExprNode{{newMark()}}
	whole, err := restoreTemplate(ins, schemas)
	if err != nil {
		return nil, err
	}
	pieces := whole.cut()
	if len(pieces) != 2 || !pieces[0].trimSuffix("(") || !pieces[1].trimPrefix(")") {
		return nil, fmt.Errorf("cannot cut INSERT text around its rows")
	}
	p := &InsertParts{Prefix: pieces[0], Suffix: pieces[1], Rows: make([][]*Template, len(lists))}
	for i, row := range lists {
		p.Rows[i] = make([]*Template, len(row))
		for j, e := range row {
			if p.Rows[i][j], err = NewTemplate(e, schemas); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

func (t *Template) trimSuffix(s string) bool {
	last := &t.parts[len(t.parts)-1]
	cut, ok := strings.CutSuffix(*last, s)
	*last = cut
	return ok
}

func (t *Template) trimPrefix(s string) bool {
	cut, ok := strings.CutPrefix(t.parts[0], s)
	t.parts[0] = cut
	return ok
}
