package proxy

import (
	"maps"
	"sync"
	"sync/atomic"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// maxControlTexts bounds the cache: clients spell BEGIN, COMMIT and
// ROLLBACK a handful of ways, and a text that misses is only parsed.
const maxControlTexts = 64

// controlCache keeps the parsed transaction brackets (BEGIN, START
// TRANSACTION, COMMIT, ROLLBACK) by their text. They have no plan for the
// plan cache to keep, so every transaction parsed two statements: about 1%
// of the proxy's CPU under sysbench oltp_read_only. Their nodes are only
// read after parsing, so sessions share them.
type controlCache struct {
	texts atomic.Pointer[map[string]ast.StmtNode] // replaced, never changed: lock-free reads
	mu    sync.Mutex                              // serialises the replacements
}

func (c *controlCache) get(sql string) ast.StmtNode {
	if m := c.texts.Load(); m != nil {
		return (*m)[sql]
	}
	return nil
}

// remember keeps st under sql when it is a bracket that execStmt only reads.
func (c *controlCache) remember(sql string, st ast.StmtNode) {
	switch st := st.(type) {
	case *ast.BeginStmt, *ast.CommitStmt:
	case *ast.RollbackStmt:
		if st.SavepointName != "" {
			return
		}
	default:
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.texts.Load()
	if old != nil && (len(*old) >= maxControlTexts || (*old)[sql] != nil) {
		return
	}
	m := make(map[string]ast.StmtNode, 1)
	if old != nil {
		m = maps.Clone(*old)
	}
	m[sql] = st
	c.texts.Store(&m)
}
