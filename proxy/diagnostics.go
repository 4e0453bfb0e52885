package proxy

import (
	"context"
	"strconv"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// defaultMaxErrorCount is MariaDB's max_error_count: how many messages
// SHOW WARNINGS keeps for one statement.
const defaultMaxErrorCount = 64

// diagnostics are what SHOW WARNINGS lists after a statement the proxy
// cannot leave to one backend connection: one that ran on several shards
// (its warnings gathered as one server would have kept them: the count
// every warning adds to, and the first max_error_count messages), or one
// that failed (its error). Shard readers add to it from their own
// goroutines.
type diagnostics struct {
	mu    sync.Mutex
	count int
	rows  [][][]byte // Level, Code, Message
	limit int
}

func (s *Session) newDiagnostics() *diagnostics {
	limit := defaultMaxErrorCount
	if v, ok := s.state.Get("@@max_error_count"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 {
			limit = n
		}
	}
	return &diagnostics{limit: limit}
}

// collect adds the warnings a shard reported (count, from its OK or EOF
// packet), reading their messages from c before c serves anything else.
func (w *diagnostics) collect(ctx context.Context, c *backend.Conn, count uint16) {
	if count == 0 {
		return
	}
	var rows [][][]byte
	if res, err := c.Exec(ctx, "SHOW WARNINGS"); err == nil {
		rows = res.Rows
	}
	// Without the messages (the connection failed) the count still holds,
	// as warning_count does beyond max_error_count.
	w.mu.Lock()
	defer w.mu.Unlock()
	w.count += int(count)
	for _, r := range rows {
		if len(w.rows) >= w.limit {
			break
		}
		if len(r) == 3 {
			w.rows = append(w.rows, r)
		}
	}
}

// total is the count an answer's OK or EOF packet carries.
func (w *diagnostics) total() uint16 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return uint16(min(w.count, 0xffff))
}

// ownWarnings: the running statement raised warnings, which replace the
// ones a statement without tables would have left.
func (s *Session) ownWarnings() {
	if s.keepsDiagnostics {
		s.forgetWarnings()
		s.keepsDiagnostics = false
	}
}

// collectWarnings keeps the warnings a statement left on c in the session
// before a query of the proxy's (reading values back) clears them there.
func (s *Session) collectWarnings(ctx context.Context, c *backend.Conn, warnings uint16) {
	if warnings == 0 {
		return
	}
	d := s.newDiagnostics()
	d.collect(ctx, c, warnings)
	s.ownWarnings()
	s.keepWarnings(d)
}

// leavesDiagnostics reports a statement after which MariaDB keeps the
// previous statement's warnings: one without tables (SELECT 1, SET, DO)
// that raises none.
func leavesDiagnostics(st ast.StmtNode) bool {
	switch st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt, *ast.SetStmt, *ast.DoStmt:
		return !hasTables(st)
	}
	return false
}

// keepWarnings makes w what SHOW WARNINGS answers until the next statement.
func (s *Session) keepWarnings(w *diagnostics) {
	if w.total() > 0 {
		s.diagnostics = w
	}
}

// keepError makes an error sent to the client the statement's diagnostics,
// as MariaDB lists an error in SHOW WARNINGS and SHOW ERRORS.
func (s *Session) keepError(e *wire.Error) {
	s.forgetWarnings()
	s.rowCount = -1
	row := [][]byte{[]byte("Error"), strconv.AppendUint(nil, uint64(e.Code), 10), []byte(e.Message)}
	s.diagnostics = &diagnostics{count: 1, rows: [][][]byte{row}, limit: 1}
}

// list returns the kept messages, or only the errors among them.
func (d *diagnostics) list(errorsOnly bool) [][][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var rows [][][]byte
	for _, r := range d.rows {
		if !errorsOnly || string(r[0]) == "Error" {
			rows = append(rows, r)
		}
	}
	return rows
}

// diagnosticCounts are the last statement's @@warning_count and
// @@error_count.
func (s *Session) diagnosticCounts() (warnings, errors int) {
	d := s.diagnostics
	if d == nil {
		return int(s.lastWarnings), 0
	}
	errors = len(d.list(true))
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.count, errors
}

// showDiagnostics answers SHOW WARNINGS / SHOW ERRORS (and their COUNT(*)
// forms) from what an error or a multi-shard statement left, or nothing.
func (s *Session) showDiagnostics(st *ast.ShowStmt, more bool) error {
	errorsOnly := st.Tp == ast.ShowErrors
	if st.CountWarningsOrErrors {
		warnings, errors := s.diagnosticCounts()
		name, n := "@@session.warning_count", warnings
		if errorsOnly {
			name, n = "@@session.error_count", errors
		}
		count := wire.Field{Name: []byte(name), Charset: wire.CharsetBinary, Length: 21, Type: wire.TypeLongLong,
			Flags: wire.FlagUnsigned | wire.FlagBinary}
		return s.writeResult([]wire.Field{count}, [][][]byte{{strconv.AppendInt(nil, int64(n), 10)}}, more)
	}
	var rows [][][]byte
	if d := s.diagnostics; d != nil {
		rows = d.list(errorsOnly)
	}
	rows = s.logicalDiagnostics(rows)
	if st.Limit != nil {
		offset, count, _ := sqlparse.LimitBounds(st.Limit)
		rows = rows[min(offset, uint64(len(rows))):]
		rows = rows[:min(count, uint64(len(rows)))]
	}
	return s.writeResult(diagnosticsColumns, rows, more)
}

// logicalDiagnostics is SHOW WARNINGS' rows (Level, Code, Message) with
// the shards' databases in the messages named by their logical schema.
func (s *Session) logicalDiagnostics(rows [][][]byte) [][][]byte {
	t := s.topo()
	for i, r := range rows {
		if len(r) != 3 {
			continue
		}
		if msg := t.logicalMessage(string(r[2])); msg != string(r[2]) {
			rows[i] = [][]byte{r[0], r[1], []byte(msg)}
		}
	}
	return rows
}

// diagnosticsColumns are SHOW WARNINGS' columns as MariaDB types them.
var diagnosticsColumns = []wire.Field{
	{Name: []byte("Level"), Charset: wire.CharsetUTF8MB4, Length: 28, Type: wire.TypeVarString, Flags: wire.FlagNotNull, Decimals: 39},
	{Name: []byte("Code"), Charset: wire.CharsetBinary, Length: 4, Type: wire.TypeLong,
		Flags: wire.FlagNotNull | wire.FlagUnsigned | wire.FlagBinary},
	{Name: []byte("Message"), Charset: wire.CharsetUTF8MB4, Length: 2048, Type: wire.TypeVarString, Flags: wire.FlagNotNull, Decimals: 39},
}
