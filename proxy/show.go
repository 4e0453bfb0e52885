package proxy

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// execShow answers SHOW: the proxy's own view where clients must see logical
// names, the default shard's answer (translated) for table metadata.
func (s *Session) execShow(ctx context.Context, st *ast.ShowStmt, text string, more bool) error {
	switch st.Tp {
	case ast.ShowDatabases:
		return s.showDatabases(st, more)
	case ast.ShowProcessList:
		return s.showProcessList(more)
	case ast.ShowWarnings, ast.ShowErrors:
		if s.diagnostics != nil {
			return s.showDiagnostics(st, more)
		}
		if c := s.warnConn; c != nil {
			// A SHOW does not clear the diagnostics: the connection stays
			// kept for the next SHOW, until a statement reaches a backend
			// or one fails. In use, it is not kept meanwhile.
			s.warnConn = nil
			res, err := c.Exec(ctx, text)
			if c.Broken() || err != nil {
				c.Pool().Put(c)
			} else {
				s.warnConn = c
			}
			if err != nil {
				return err
			}
			return s.writeResult(res.Fields, s.logicalDiagnostics(res.Rows), more)
		}
		if s.inTx && len(s.branches) > 0 {
			break
		}
		return s.showDiagnostics(st, more)
	}
	// Everything else runs on the default shard of the schema it names.
	var sc *schema
	var werr *wire.Error
	if st.DBName != "" {
		t := s.topo()
		if werr = checkSchemaAccess(t, t.users[s.user], st.DBName); werr != nil {
			return werr
		}
		sc = t.schema(st.DBName)
	} else if st.Table != nil && st.Table.Schema.O != "" {
		t := s.topo()
		if werr = checkSchemaAccess(t, t.users[s.user], st.Table.Schema.O); werr != nil {
			return werr
		}
		sc = t.schema(st.Table.Schema.O)
	} else {
		sc, werr = s.anySchema()
		if werr != nil {
			return werr
		}
	}
	shard := sc.defaultShard
	physical := sc.shards[shard].db
	sql := text
	if st.DBName != "" || (st.Table != nil && st.Table.Schema.O != "") || st.Where != nil {
		if st.DBName != "" {
			st.DBName = physical
		}
		if st.Table != nil && st.Table.Schema.O != "" {
			st.Table.Schema = ast.NewCIStr(physical)
		}
		if st.Where != nil {
			// WHERE Db = 'shop' (mariadb-dump --routines) means the
			// shard's database, as in information_schema queries.
			rw := newRewriter(s, sc, physical)
			rw.infoSchema, rw.rewriting = true, true
			where, _ := st.Where.Accept(rw)
			st.Where = where.(ast.ExprNode)
		}
		var err error
		if sql, err = s.restore(st); err != nil {
			return err
		}
	}
	return s.execOnShardOpts(ctx, sc, shard, sql, false, relayOptions{
		more: more, logical: sc.name, physical: physical, translate: true,
		hideInternal: st.Tp == ast.ShowTables,
	})
}

func (s *Session) showDatabases(st *ast.ShowStmt, more bool) error {
	t := s.topo()
	var rows [][][]byte
	for _, name := range t.order {
		if !mayUse(t.users[s.user], name) {
			continue
		}
		if st.Pattern != nil {
			if pat, ok := literal(st.Pattern.Pattern); !ok || !likeMatch(fmt.Sprint(pat), name) {
				continue
			}
		}
		rows = append(rows, [][]byte{[]byte(name)})
	}
	return s.writeRows([]string{"Database"}, rows, more)
}

func (s *Session) showProcessList(more bool) error {
	var rows [][][]byte
	s.srv.sessions.Range(func(_, v any) bool {
		o := v.(*Session)
		if o.user != s.user {
			return true
		}
		o.mu.Lock()
		command, info, db := "Sleep", o.info, o.infoDB
		if o.busy {
			command = "Query"
		}
		o.mu.Unlock()
		var infoVal []byte
		if info != "" {
			infoVal = []byte(info)
		}
		rows = append(rows, [][]byte{
			[]byte(fmt.Sprint(o.id)), []byte(o.user), []byte(o.io.Conn().RemoteAddr().String()),
			nullable(db), []byte(command), []byte(fmt.Sprint(int(time.Since(o.started).Seconds()))),
			[]byte(""), infoVal,
		})
		return true
	})
	return s.writeRows([]string{"Id", "User", "Host", "db", "Command", "Time", "State", "Info"}, rows, more)
}

func nullable(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// writeRows sends a result set the proxy built itself (text columns).
func (s *Session) writeRows(columns []string, rows [][][]byte, more bool) error {
	fields := make([]wire.Field, len(columns))
	for i, name := range columns {
		fields[i] = wire.Field{Name: []byte(name), OrgName: []byte(name), Charset: wire.CharsetUTF8MB4, Length: 1024, Type: wire.TypeVarString}
	}
	return s.writeResult(fields, rows, more)
}

// writeResult sends a result set the proxy built itself: rows are text
// values of fields, whose text columns get the connection's collation.
func (s *Session) writeResult(fields []wire.Field, rows [][][]byte, more bool) error {
	s.rowCount = -1
	b := s.appendColumnCount(s.scratch[:0], len(fields), true)
	if err := s.write(b); err != nil {
		return err
	}
	collation := s.resultCollation()
	for _, f := range fields {
		if f.Charset != wire.CharsetBinary {
			f.Charset = collation
		}
		if err := s.write(wire.AppendField(s.scratch[:0], &f)); err != nil {
			return err
		}
	}
	if err := s.write(wire.AppendEOF(s.scratch[:0], 0, s.patchStatus(0, more))); err != nil {
		return err
	}
	for _, r := range rows {
		p, err := s.appendRow(s.scratch[:0], fields, r)
		if err != nil {
			return err
		}
		if err := s.write(p); err != nil {
			return err
		}
	}
	return s.write(wire.AppendEOF(s.scratch[:0], 0, s.patchStatus(0, more)))
}

// resultCollation is the collation MariaDB gives the text columns of the
// results it builds (SHOW WARNINGS): the connection's, from SET NAMES or
// the handshake.
func (s *Session) resultCollation() uint16 {
	if v, ok := s.state.Get(backend.NamesVar); ok {
		if i := strings.LastIndex(v, " COLLATE "); i >= 0 {
			if c, err := charset.GetCollationByName(v[i+len(" COLLATE "):]); err == nil {
				return uint16(c.ID)
			}
		}
	}
	if _, ok := s.handshakeCollation(); ok {
		return uint16(s.charset)
	}
	return wire.CharsetUTF8MB4
}

// appendRow appends a row of text values in the protocol the client
// expects for the running statement.
func (s *Session) appendRow(b []byte, fields []wire.Field, values [][]byte) ([]byte, error) {
	if s.binaryRows {
		return wire.AppendBinaryRow(b, fields, values)
	}
	return wire.AppendTextRow(b, values), nil
}

// likeMatch evaluates a LIKE pattern (% and _, backslash escapes),
// case-insensitively as MySQL's default collations do.
func likeMatch(pattern, s string) bool {
	p, v := []rune(strings.ToLower(pattern)), []rune(strings.ToLower(s))
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for i < len(p) {
			switch p[i] {
			case '%':
				for k := j; k <= len(v); k++ {
					if match(i+1, k) {
						return true
					}
				}
				return false
			case '_':
				if j >= len(v) {
					return false
				}
			case '\\':
				if i+1 < len(p) {
					i++
				}
				fallthrough
			default:
				if j >= len(v) || v[j] != p[i] {
					return false
				}
			}
			i++
			j++
		}
		return j == len(v)
	}
	return match(0, 0)
}

// showPackages runs SHOW PACKAGE [BODY] STATUS, which the SQL parser does
// not know, on the schema's default shard, as any SHOW, with strings
// naming the schema turned into its database there.
func (s *Session) showPackages(ctx context.Context, sc *schema, sql string) error {
	physical := sc.shards[sc.defaultShard].db
	sql = sqlparse.ReplaceStrings(sql, func(v string) (string, bool) { return physicalSchemaValue(v, sc.name, physical) })
	return s.execOnShardOpts(ctx, sc, sc.defaultShard, sql, false, relayOptions{
		logical: sc.name, physical: physical, translate: true,
	})
}
