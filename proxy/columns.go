package proxy

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// An INSERT without a column list gives its values in the table's column
// order, which the router needs to find the shard key. The proxy reads the
// order from the default shard and writes the list into the statement.

// columnsTTL bounds how long a table's column order is trusted: DDL run
// through the proxy forgets it at once, DDL run on the backends directly
// within this time.
const columnsTTL = 10 * time.Second

// columnCache holds the column order of a schema's tables.
type columnCache struct {
	mu     sync.Mutex
	tables map[string]columnList
}

type columnList struct {
	names []string
	read  time.Time
}

func (c *columnCache) get(table string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if l, ok := c.tables[table]; ok && time.Since(l.read) < columnsTTL {
		return l.names
	}
	return nil
}

func (c *columnCache) put(table string, names []string) {
	c.mu.Lock()
	if c.tables == nil {
		c.tables = map[string]columnList{}
	}
	c.tables[table] = columnList{names: names, read: time.Now()}
	c.mu.Unlock()
}

// forget drops every table's order (after DDL).
func (c *columnCache) forget() {
	c.mu.Lock()
	c.tables = nil
	c.mu.Unlock()
}

// listInsertColumns gives an INSERT ... VALUES, or a LOAD DATA, without a
// column list the table's columns and returns the statement's new text;
// ok is false when the statement needs none or the table's columns are
// unknown (the router then says what is missing).
func (s *Session) listInsertColumns(ctx context.Context, sc *schema, st ast.StmtNode) (string, bool, error) {
	var table string
	var add func(names []string)
	switch x := st.(type) {
	case *ast.InsertStmt:
		if len(x.Columns) > 0 || x.Setlist || x.Select != nil || len(x.Lists) == 0 {
			return "", false, nil
		}
		table = insertTable(x)
		add = func(names []string) {
			for _, n := range names {
				x.Columns = append(x.Columns, &ast.ColumnName{Name: ast.NewCIStr(n)})
			}
		}
	case *ast.LoadDataStmt:
		if len(x.ColumnsAndUserVars) > 0 || x.Table == nil {
			return "", false, nil
		}
		table = x.Table.Name.O
		add = func(names []string) {
			for _, n := range names {
				x.ColumnsAndUserVars = append(x.ColumnsAndUserVars, &ast.ColumnNameOrUserVar{ColumnName: &ast.ColumnName{Name: ast.NewCIStr(n)}})
			}
		}
	}
	if table == "" {
		return "", false, nil
	}
	names, err := s.tableColumns(ctx, sc, table)
	if err != nil || len(names) == 0 {
		return "", false, err
	}
	add(names)
	text, err := s.restore(st)
	if err != nil {
		return "", false, err
	}
	st.SetText(nil, text)
	return text, true, nil
}

// tableColumns returns a table's visible columns in order, none when the
// table does not exist.
func (s *Session) tableColumns(ctx context.Context, sc *schema, table string) ([]string, error) {
	names := sc.columns.get(strings.ToLower(table))
	if names == nil {
		var err error
		if names, err = s.readColumns(ctx, sc, table); err != nil || len(names) == 0 {
			return nil, err
		}
		sc.columns.put(strings.ToLower(table), names)
	}
	return names, nil
}

// readColumns reads a table's visible columns in order from the default shard.
func (s *Session) readColumns(ctx context.Context, sc *schema, table string) ([]string, error) {
	sh := sc.defaultShard
	q := "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = " +
		string(sqlparse.AppendLiteral(nil, router.StringValue(sc.shards[sh].db))) +
		" AND TABLE_NAME = " + string(sqlparse.AppendLiteral(nil, router.StringValue(table))) +
		" AND EXTRA NOT LIKE '%INVISIBLE%' ORDER BY ORDINAL_POSITION"
	c, err := s.acquire(ctx, sc, sh, false)
	if err != nil {
		return nil, err
	}
	res, err := c.Exec(ctx, q)
	s.release(c, 0)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(res.Rows))
	for _, row := range res.Rows {
		names = append(names, string(row[0]))
	}
	return names, nil
}
