package proxy

import (
	"context"
	"errors"
	"io"

	"github.com/pingcap/tidb/pkg/parser/charset"

	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// copyBatch is how many selected rows one INSERT of a copy carries.
const copyBatch = 500

// execCopy runs an INSERT ... SELECT whose rows the shards cannot copy
// themselves (router.Copy): the proxy runs the SELECT as it runs any,
// holds its rows (at most max_merge_rows), and inserts them with INSERT
// ... VALUES statements routed as a client's would be, all in the
// statement's transaction. Reading everything first is what MariaDB does
// when a statement selects from the table it inserts into.
func (s *Session) execCopy(ctx context.Context, sc *schema, rt *router.Route, more bool) error {
	warnings := s.newDiagnostics()
	var ok wire.OK
	// The rows may go to any shard: count it as a write on several.
	err := s.writeWhole(ctx, true, 2, func(undo *statementUndo) (err error) {
		ok, err = s.copyRows(ctx, sc, rt.Copy, warnings, undo)
		return err
	})
	if err != nil {
		return err
	}
	s.keepWarnings(warnings)
	return s.okPacket(ok, more)
}

// execCopyInlined runs a prepared INSERT ... SELECT the proxy copies: its
// SELECT and INSERTs run as texts, so the values go in first.
func (s *Session) execCopyInlined(ctx context.Context, sc *schema, text string, values []router.Value) error {
	node, err := s.sqlParser().ParseOneStmt(text, "", "")
	if err != nil {
		return errorf(erParse, "You have an error in your SQL syntax: %s", err.Error())
	}
	inlined, err := sqlparse.InlineParams(text, node, values)
	if err != nil {
		return errorf(erUnknown, "Incorrect arguments to EXECUTE: %v", err)
	}
	if node, err = s.sqlParser().ParseOneStmt(inlined, "", ""); err != nil {
		return errorf(erUnknown, "INSERT ... SELECT with its values does not parse: %v", err)
	}
	plan, err := sc.routing.Plan(node)
	if err != nil {
		return err
	}
	rt, err := plan.Bind(nil)
	if err != nil {
		return err
	}
	if rt.Copy == nil {
		return s.execRoute(ctx, sc, rt, nil, false, mergeSource{stmt: node, text: inlined})
	}
	return s.execCopy(ctx, sc, rt, false)
}

func (s *Session) copyRows(ctx context.Context, sc *schema, cp *router.Copy, warnings *diagnostics, undo *statementUndo) (wire.OK, error) {
	var total wire.OK
	limit := s.topo().cfg.MaxMergeRows
	tooMany := errorf(erNotSupported, "INSERT ... SELECT across shards holds the selected rows until they are inserted, at most max_merge_rows (%d); copy fewer rows at a time (a range of the key), or raise max_merge_rows", limit)
	fields, rows, err := s.selectRows(ctx, sc, cp.Select, tooMany)
	if err != nil {
		return total, err
	}
	var firstID uint64
	for start := 0; start < len(rows); start += copyBatch {
		text, err := copyValues(cp, fields, rows[start:min(start+copyBatch, len(rows))])
		if err != nil {
			return total, err
		}
		st, err := s.sqlParser().ParseOneStmt(text, "", "")
		if err != nil {
			return total, errorf(erUnknown, "INSERT ... SELECT: the rows' INSERT does not parse: %v", err)
		}
		if _, _, err := s.listInsertColumns(ctx, sc, st); err != nil {
			return total, err
		}
		plan, err := sc.routing.Plan(st)
		if err != nil {
			return total, err
		}
		batch, err := s.bind(ctx, sc, plan, insertTable(st), nil)
		if err != nil {
			return total, err
		}
		ok, err := s.writeEverywhere(ctx, sc, batch, nil, warnings, nil, undo)
		if err != nil {
			return total, err
		}
		total.AffectedRows += ok.AffectedRows
		if firstID == 0 {
			firstID = ok.LastInsertID
		}
	}
	// LAST_INSERT_ID() is the statement's first generated id, not the
	// last batch's.
	if firstID != 0 {
		s.lastInsertID = firstID
	}
	total.LastInsertID = firstID
	total.Warnings = warnings.total()
	return total, nil
}

// selectRows runs a SELECT the proxy needs the rows of (a copy's, an IN
// subquery's) on the shards it reaches and returns its rows; more than
// max_merge_rows of them is tooMany.
func (s *Session) selectRows(ctx context.Context, sc *schema, text string, tooMany error) ([]wire.Field, [][][]byte, error) {
	limit := s.topo().cfg.MaxMergeRows
	st, err := s.sqlParser().ParseOneStmt(text, "", "")
	if err != nil {
		return nil, nil, errorf(erUnknown, "the proxy's SELECT %q does not parse: %v", text, err)
	}
	plan, err := sc.routing.Plan(st)
	if err != nil {
		return nil, nil, err
	}
	rt, err := plan.Bind(nil)
	if err != nil {
		return nil, nil, err
	}
	if len(rt.Targets) == 1 {
		t := rt.Targets[0]
		c, err := s.acquire(ctx, sc, t.Shard, false)
		if err != nil {
			return nil, nil, err
		}
		res, err := c.Exec(ctx, t.SQL)
		s.release(c, 0)
		if err != nil {
			return nil, nil, err
		}
		if len(res.Rows) > limit {
			return nil, nil, tooMany
		}
		return res.Fields, res.Rows, nil
	}
	mp, err := s.mergePlanFor(sc, mergeSource{stmt: st, text: text})
	if err != nil {
		return nil, nil, err
	}
	if rt, err = mp.shard.Bind(nil); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss := &shardSet{s: s, sc: sc, rt: rt, maxRows: limit, warnings: s.newDiagnostics()}
	stream, err := mp.engine.ExecuteEnv(ctx, &engine.Env{Shards: ss, MaxSortRows: limit})
	if err != nil {
		return nil, nil, err
	}
	defer stream.Close()
	var rows [][][]byte
	for {
		row, err := stream.Next()
		if errors.Is(err, io.EOF) {
			return stream.Fields(), rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if len(rows) == limit {
			return nil, nil, tooMany
		}
		kept := make([][]byte, len(row))
		for i, v := range row {
			if v != nil {
				kept[i] = append([]byte{}, v...)
			}
		}
		rows = append(rows, kept)
	}
}

// copyValues writes the INSERT of a batch of selected rows, each value a
// literal MariaDB reads back as the value the SELECT gave.
func copyValues(cp *router.Copy, fields []wire.Field, rows [][][]byte) (string, error) {
	b := append([]byte(cp.Prefix), " VALUES "...)
	for i, row := range rows {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '(')
		for j, v := range row {
			if j > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCopyValue(b, &fields[j], v); err != nil {
				return "", err
			}
		}
		b = append(b, ')')
	}
	return string(append(b, cp.Suffix...)), nil
}

// appendCopyValue writes one text-protocol value as a literal: numbers as
// they are, dates and times quoted, binary strings, BIT and GEOMETRY in
// hex, other strings quoted after the introducer of the character set
// they came in (character_set_results), so that a latin1 column gets its
// own characters back.
func appendCopyValue(b []byte, f *wire.Field, v []byte) ([]byte, error) {
	switch {
	case v == nil:
		return append(b, "NULL"...), nil
	case isNumberType(f.Type):
		return append(b, v...), nil
	case isTemporalType(f.Type):
		return sqlparse.AppendLiteral(b, sqlparse.StringValue(string(v))), nil
	case f.Type == wire.TypeBit || f.Type == wire.TypeGeometry || f.Charset == wire.CharsetBinary:
		return sqlparse.AppendLiteral(b, sqlparse.BytesValue(v)), nil
	}
	coll, err := charset.GetCollationByID(int(f.Charset))
	if err != nil {
		return b, errorf(erNotSupported, "INSERT ... SELECT across shards cannot copy column %s: its character set (collation %d) is unknown to the proxy", f.Name, f.Charset)
	}
	b = append(append(b, '_'), coll.CharsetName...)
	b = append(b, ' ')
	return sqlparse.AppendLiteral(b, sqlparse.StringValue(string(v))), nil
}

func isNumberType(t byte) bool {
	switch t {
	case wire.TypeTiny, wire.TypeShort, wire.TypeLong, wire.TypeLongLong, wire.TypeInt24, wire.TypeYear,
		wire.TypeDecimal, wire.TypeNewDecimal, wire.TypeFloat, wire.TypeDouble:
		return true
	}
	return false
}

func isTemporalType(t byte) bool {
	switch t {
	case wire.TypeDate, wire.TypeDatetime, wire.TypeTimestamp, wire.TypeTime:
		return true
	}
	return false
}
