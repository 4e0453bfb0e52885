package proxy

import (
	"bytes"
	"context"
	"fmt"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/wire"
)

// relayOptions says what relay sends and how a backend's response is
// shown to the client.
type relayOptions struct {
	// The request relay sends first, inside its watch (the send also waits
	// for the reply): query as COM_QUERY, else command, a whole payload.
	query   string
	command []byte

	// A prepared statement's execution: the backend statement (whose
	// column definitions the backend may skip when unchanged) and the
	// definitions the client last received for its statement (which it
	// may be caching, Session.cacheMetadata).
	stmt       *backend.Stmt
	clientDefs *[][]byte

	more     bool   // the client's multi-statement continues after this one
	logical  string // schema name clients see
	physical string // the shard database the backend reports
	// translate rewrites physical database names in result values and
	// column names (SHOW and information_schema answers).
	translate bool
	// insertID is an auto_increment id the proxy generated: the OK packet
	// carries it, as MySQL's does for ids it generates.
	insertID uint64
	// hideInternal drops rows whose first value names one of the proxy's
	// own tables (SHOW TABLES): they are not the application's.
	hideInternal bool
	// leaves: values the statement leaves on the backend connection,
	// read from it after the answer.
	leaves backendValues
}

// internalTablePrefix starts the names of the tables the proxy keeps on
// default shards (sequences, XA decisions).
const internalTablePrefix = "_shardproxy_"

// relay sends a request and streams the backend's response to the client.
// Packets pass through unchanged except column definitions naming a
// physical database and the status flags, which must be the session's. It
// returns the response's warning count.
func (s *Session) relay(ctx context.Context, c *backend.Conn, opt relayOptions) (uint16, error) {
	stop := watch(ctx, c)
	defer stop()
	var err error
	if opt.command != nil {
		err = c.WriteRaw(opt.command)
	} else {
		err = c.WriteCommandString(backend.ComQuery, opt.query)
	}
	if err != nil {
		return 0, err
	}
	physical := []byte(opt.physical)
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return 0, err
		}
		switch p[0] {
		case wire.OKHeader:
			ok, valid := wire.ParseOK(p)
			if !valid {
				c.MarkBroken()
				return 0, fmt.Errorf("backend %s: malformed OK packet", c.Addr())
			}
			if opt.insertID != 0 {
				ok.LastInsertID = opt.insertID
			}
			if ok.LastInsertID != 0 {
				s.lastInsertID = ok.LastInsertID
			}
			s.rowCount = int64(ok.AffectedRows)
			s.followBackendTx(c, ok.Status)
			backendMore := ok.Status&wire.StatusMoreResults != 0
			ok.Status = s.patchStatus(ok.Status, opt.more || backendMore)
			if err := s.write(wire.AppendOK(s.scratch[:0], ok)); err != nil {
				c.MarkBroken()
				return 0, err
			}
			if !backendMore {
				return ok.Warnings, nil
			}
		case wire.ErrHeader:
			return 0, s.relayError(ctx, p)
		case wire.LocalInfileHeader:
			if err := s.relayLocalFile(c, p); err != nil {
				return 0, err
			}
		default:
			warnings, backendMore, err := s.relayResultSet(ctx, c, p, physical, opt)
			if err != nil || !backendMore {
				return warnings, err
			}
			// Only a statement's first result has definitions that may be
			// cached (CALL answers with several).
			opt.stmt, opt.clientDefs = nil, nil
		}
	}
}

// relayResultSet streams column definitions and rows after the column count.
func (s *Session) relayResultSet(ctx context.Context, c *backend.Conn, countPacket []byte, physical []byte, opt relayOptions) (uint16, bool, error) {
	s.rowCount = -1
	n, defsFollow, err := c.ColumnCount(countPacket)
	if err != nil {
		return 0, false, err
	}
	// The definitions: the backend's, or its statement's when it skipped
	// them as unchanged. The client that caches them skips them too when it
	// last received the same.
	var known [][]byte
	if !defsFollow {
		if opt.stmt == nil || len(opt.stmt.ColumnDefs) != n {
			c.MarkBroken()
			return 0, false, fmt.Errorf("backend %s: column definitions skipped that it never sent", c.Addr())
		}
		known = opt.stmt.ColumnDefs
	}
	clientSkips := s.cacheMetadata && known != nil && opt.clientDefs != nil && sameDefs(known, *opt.clientDefs)
	if err := s.write(s.appendColumnCount(s.scratch[:0], n, !clientSkips)); err != nil {
		c.MarkBroken()
		return 0, false, err
	}
	var received [][]byte // definitions to remember: the backend sent new ones
	remember := defsFollow && opt.stmt != nil && c.CachesMetadata()
	var fields []wire.Field // a text result the client gets in binary rows
	for i := 0; i < n && !clientSkips; i++ {
		var p []byte
		if defsFollow {
			if p, err = c.ReadPacket(); err != nil {
				return 0, false, err
			}
			if remember {
				received = append(received, bytes.Clone(p))
			}
		} else {
			p = known[i]
		}
		if len(physical) > 0 {
			p = s.logicalField(p, physical, opt)
		}
		if s.binaryRows {
			f, ok := wire.ParseField(bytes.Clone(p))
			if !ok {
				c.MarkBroken()
				return 0, false, fmt.Errorf("backend %s: malformed column definition", c.Addr())
			}
			fields = append(fields, f)
		}
		if err := s.write(p); err != nil {
			c.MarkBroken()
			return 0, false, err
		}
	}
	if remember {
		opt.stmt.ColumnDefs = received
		known = received
	}
	if s.cacheMetadata && opt.clientDefs != nil && known != nil {
		*opt.clientDefs = known
	}
	// Column definitions (sent or skipped) end with an EOF, then rows end
	// with another.
	p, err := c.ReadPacket()
	if err != nil {
		return 0, false, err
	}
	if !wire.IsEOF(p) {
		c.MarkBroken()
		return 0, false, fmt.Errorf("backend %s: expected EOF after column definitions", c.Addr())
	}
	if err := s.relayEOF(c, p, opt.more); err != nil {
		return 0, false, err
	}
	var values [][]byte
	// Rows that need no rewriting go over in bulk from the read buffer.
	asIs := !opt.hideInternal && !(opt.translate && len(physical) > 0) && !s.binaryRows
	var rows uint64
	for {
		if asIs {
			n, err := c.RelayRows(s.io)
			s.packetsOut += uint64(n)
			rows += uint64(n)
			if err != nil {
				c.MarkBroken()
				return 0, false, clientGone{err}
			}
		}
		p, err := c.ReadPacket()
		if err != nil {
			return 0, false, err
		}
		if wire.IsEOF(p) {
			s.foundRows = rows
			warnings, status := wire.EOFStatus(p)
			return warnings, status&wire.StatusMoreResults != 0, s.relayEOF(c, p, opt.more)
		}
		if p[0] == wire.ErrHeader {
			return 0, false, s.relayError(ctx, p)
		}
		if opt.hideInternal {
			var ok bool
			if values, ok = wire.RowValues(values, p, n); ok && len(values) > 0 && bytes.HasPrefix(values[0], []byte(internalTablePrefix)) {
				continue
			}
		}
		if opt.translate && len(physical) > 0 || s.binaryRows {
			var ok bool
			if values, ok = wire.RowValues(values, p, n); !ok {
				c.MarkBroken()
				return 0, false, fmt.Errorf("backend %s: malformed row", c.Addr())
			}
			if opt.translate && len(physical) > 0 {
				for i, v := range values {
					values[i] = logicalValue(v, physical, opt.logical)
				}
			}
			if p, err = s.appendRow(s.scratch[:0], fields, values); err != nil {
				c.MarkBroken()
				return 0, false, err
			}
		}
		rows++
		if err := s.write(p); err != nil {
			c.MarkBroken()
			return 0, false, err
		}
	}
}

// relayError forwards a backend's error packet, unless the proxy cancelled
// the statement (KILL QUERY, max_execution_time): the server's answer to
// the KILL then gives way to the proxy's own error, as for any cancelled
// statement (Session.interrupted).
func (s *Session) relayError(ctx context.Context, p []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.write(p); err != nil {
		return err
	}
	return errRelayed
}

// relayEOF forwards an EOF packet with the session's status flags.
func (s *Session) relayEOF(c *backend.Conn, p []byte, more bool) error {
	_, status := wire.EOFStatus(p)
	s.followBackendTx(c, status)
	wire.SetEOFStatus(p, s.patchStatus(status, more || status&wire.StatusMoreResults != 0))
	if err := s.write(p); err != nil {
		c.MarkBroken()
		return err
	}
	return nil
}

// relayLocalFile passes a LOAD DATA LOCAL INFILE request to the client and
// the file's packets back, up to the empty packet that ends it.
func (s *Session) relayLocalFile(c *backend.Conn, request []byte) error {
	if err := s.write(request); err != nil {
		c.MarkBroken()
		return err
	}
	if err := s.io.Flush(); err != nil {
		c.MarkBroken()
		return clientGone{err}
	}
	for {
		p, err := s.io.ReadPacket()
		if err != nil {
			c.MarkBroken()
			return clientGone{err}
		}
		if err := c.WriteContinued(p); err != nil {
			return err
		}
		if len(p) == 0 {
			return nil
		}
	}
}

// write buffers one packet for the client.
func (s *Session) write(p []byte) error {
	s.packetsOut++
	if len(p) > 0 && p[0] == wire.ErrHeader {
		// No other packet to the client starts with 0xff: count the error.
		e := wire.ParseError(p)
		if msg := s.topo().logicalMessage(e.Message); msg != e.Message {
			e.Message = msg
			p = wire.AppendError(nil, e)
		}
		s.noteErrorPacket(p)
		s.keepError(e)
	}
	if err := s.io.WritePacket(p); err != nil {
		return clientGone{err}
	}
	return nil
}

// logicalField rewrites a column definition so that it names the logical
// schema instead of the shard's database.
func (s *Session) logicalField(p []byte, physical []byte, opt relayOptions) []byte {
	// Equal names need no rewrite (a pass-through schema named like its
	// database): the packet relays as it is, and only its schema is read.
	schema, ok := wire.FieldSchema(p)
	if !ok {
		return p
	}
	schemaHit := bytes.EqualFold(schema, physical) && string(schema) != opt.logical
	if !schemaHit && !opt.translate {
		return p
	}
	if !opt.translate {
		if out, ok := wire.AppendWithSchema(s.scratch[:0], p, opt.logical); ok {
			return out
		}
		return p
	}
	f, ok := wire.ParseField(p)
	if !ok {
		return p
	}
	nameHit := opt.translate && bytes.Contains(f.Name, physical)
	if !schemaHit && !nameHit {
		return p
	}
	if schemaHit {
		f.Schema = []byte(opt.logical)
	}
	if nameHit {
		f.Name = bytes.ReplaceAll(f.Name, physical, []byte(opt.logical))
		f.OrgName = bytes.ReplaceAll(f.OrgName, physical, []byte(opt.logical))
	}
	return wire.AppendField(s.scratch[:0], &f)
}

// logicalValue maps a result value naming the physical database back to the
// logical schema, as a whole value or as a quoted identifier inside DDL text.
func logicalValue(v, physical []byte, logical string) []byte {
	if v == nil {
		return nil
	}
	if bytes.EqualFold(v, physical) {
		return []byte(logical)
	}
	quoted := append(append([]byte{'`'}, physical...), '`')
	if bytes.Contains(v, quoted) {
		return bytes.ReplaceAll(v, quoted, []byte("`"+logical+"`"))
	}
	return v
}

// watch makes ctx cancellation interrupt the backend connection's I/O.
func watch(ctx context.Context, c *backend.Conn) func() {
	return c.Watch(ctx)
}

// appendColumnCount encodes a result's column count for the client, with
// the byte saying whether the definitions follow when it caches metadata.
func (s *Session) appendColumnCount(b []byte, n int, defsFollow bool) []byte {
	b = wire.AppendLenEncInt(b, uint64(n))
	if s.cacheMetadata {
		if defsFollow {
			return append(b, 1)
		}
		return append(b, 0)
	}
	return b
}

// sameDefs reports whether two lists of column definitions are identical.
func sameDefs(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
