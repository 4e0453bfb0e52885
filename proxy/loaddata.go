package proxy

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// maxLoadRecord bounds one record of a LOAD DATA file held while its end
// has not arrived: an unclosed enclosure would otherwise hold the file.
const maxLoadRecord = 64 << 20

// execLoad runs LOAD DATA LOCAL INFILE into a sharded table. The client's
// file is read whole first, each record written to a temporary file of
// its key's shard (a transaction has one connection per node, so the
// shards of a node load one after another, and the file's order is not
// theirs); then each shard loads its records, all in one transaction, as
// MariaDB loads a file in one statement.
func (s *Session) execLoad(ctx context.Context, sc *schema, rt *router.Route, more bool) error {
	ld := rt.Load
	spools := make([]*loadSpool, len(sc.shards))
	defer func() {
		for _, sp := range spools {
			sp.remove()
		}
	}()
	maxID, err := s.readLoadFile(ld, spools)
	if err != nil {
		return err
	}
	warnings := s.newDiagnostics()
	var ok wire.OK
	err = s.writeWhole(ctx, true, len(rt.Targets), func(undo *statementUndo) (err error) {
		ok, err = s.loadShards(ctx, sc, rt, spools, warnings, undo)
		return err
	})
	if err != nil {
		return err
	}
	if maxID > 0 {
		// The ids the file gave are taken: the sequence moves past them, as
		// MariaDB's counter does.
		if err := sc.ids.pass(ctx, ld.Table.Name, ld.Table.AutoIncrement, maxID, s); err != nil {
			return err
		}
	}
	s.keepWarnings(warnings)
	return s.okPacket(ok, more)
}

// readLoadFile asks the client for the file and spools its records per
// shard. It reads the file to its end even after an error, so that the
// client's next packet is its next command. It returns the largest id of
// an auto_increment key.
func (s *Session) readLoadFile(ld *router.LoadData, spools []*loadSpool) (uint64, error) {
	if err := s.write(append([]byte{wire.LocalInfileHeader}, ld.Path...)); err != nil {
		return 0, err
	}
	if err := s.io.Flush(); err != nil {
		return 0, clientGone{err}
	}
	f := &ld.Format
	var (
		buf      []byte
		ignore   = f.Ignore
		records  uint64
		maxID    uint64
		firstErr error
		retryAt  int // parse again once buf holds this much: no rescans of a long record per packet
	)
	for {
		p, err := s.io.ReadPacket()
		if err != nil {
			return 0, clientGone{err}
		}
		eof := len(p) == 0
		if firstErr != nil {
			if eof {
				return 0, firstErr
			}
			continue
		}
		buf = append(buf, p...)
		if !eof && len(buf) < retryAt {
			continue
		}
		done := 0
		for firstErr == nil {
			data := buf[done:]
			if ignore > 0 {
				end, more := f.SkipLine(data, eof)
				if more {
					break
				}
				done += end
				ignore--
				if end == 0 {
					ignore = 0 // the file ended before its lines to ignore
				}
				continue
			}
			rec, ok, more := f.Split(data, eof)
			if more || !ok {
				break
			}
			records++
			done += len(rec.Raw)
			id, err := spoolRecord(ld, spools, rec, records)
			firstErr = err
			maxID = max(maxID, id)
		}
		buf = append(buf[:0], buf[done:]...)
		retryAt = 2 * len(buf)
		if firstErr == nil && len(buf) > maxLoadRecord {
			firstErr = errorf(erNotSupported, "LOAD DATA into %s: record %d is longer than %d MiB; check FIELDS ENCLOSED BY and LINES TERMINATED BY", ld.Table.Name, records+1, maxLoadRecord>>20)
		}
		if eof {
			return maxID, firstErr
		}
	}
}

// spoolRecord writes record n to its shard's spool; it returns the key as
// an id when the key is the proxy's auto_increment column.
func spoolRecord(ld *router.LoadData, spools []*loadSpool, rec sqlparse.Record, n uint64) (uint64, error) {
	t := ld.Table
	switch {
	case rec.KeyMissing:
		return 0, errorf(erUnknown, "LOAD DATA into %s: record %d has no field for the shard key %s", t.Name, n, t.Key)
	case rec.KeyNull:
		return 0, errorf(erUnknown, "LOAD DATA into %s: record %d gives the shard key %s as NULL", t.Name, n, t.Key)
	}
	shard, err := ld.Shard(rec.Key)
	if err != nil {
		return 0, errorf(erUnknown, "LOAD DATA into %s: record %d: %v", t.Name, n, err)
	}
	var id uint64
	if ld.KeyIsAuto {
		if id, err = strconv.ParseUint(string(rec.Key), 10, 64); err != nil || id == 0 {
			return 0, errorf(erUnknown, "LOAD DATA into %s: record %d gives %s as %q; the file must give every row its id (MariaDB would generate one on its shard, beside the proxy's sequence)", t.Name, n, t.Key, rec.Key)
		}
	}
	if spools[shard] == nil {
		if spools[shard], err = newLoadSpool(); err != nil {
			return 0, err
		}
	}
	spools[shard].rows.add(n)
	return id, spools[shard].write(rec.Raw)
}

// loadShards loads each shard's spooled records, shard after shard, and
// adds up their answers. Row numbers in errors and warnings are the
// client's file's, and the warnings are listed in its order.
func (s *Session) loadShards(ctx context.Context, sc *schema, rt *router.Route, spools []*loadSpool, warnings *diagnostics, undo *statementUndo) (wire.OK, error) {
	var total wire.OK
	var sum loadInfo
	var rows []loadWarning
	for _, t := range rt.Targets {
		sp := spools[t.Shard]
		if sp == nil {
			continue
		}
		file, err := sp.reader()
		if err != nil {
			return total, err
		}
		c, err := s.writeConn(ctx, sc, t.Shard, undo)
		if err != nil {
			return total, err
		}
		res, err := c.LoadLocal(ctx, t.SQL, file)
		shard := s.newDiagnostics()
		if err == nil {
			shard.collect(ctx, c, res.OK.Warnings)
		}
		s.release(c, 0)
		if e, ok := err.(*wire.Error); ok {
			msg, _ := sp.rows.fileRow([]byte(e.Message))
			err = &wire.Error{Code: e.Code, SQLState: e.SQLState, Message: string(msg)}
		}
		if err != nil {
			return total, err
		}
		total.AffectedRows += res.OK.AffectedRows
		sum.add(res.OK.Info)
		warnings.count += shard.count
		row := uint64(0)
		for _, w := range shard.rows {
			var n uint64
			if w[2], n = sp.rows.fileRow(w[2]); n > 0 {
				row = n
			}
			rows = append(rows, loadWarning{row: row, values: w})
		}
	}
	slices.SortStableFunc(rows, func(a, b loadWarning) int { return cmp.Compare(a.row, b.row) })
	for _, w := range rows[:min(len(rows), warnings.limit)] {
		warnings.rows = append(warnings.rows, w.values)
	}
	total.Warnings = warnings.total()
	sum.warnings = uint64(total.Warnings)
	total.Info = sum.text()
	return total, nil
}

// loadWarning is a shard's warning and the file's row it is about (that
// of the warning before it when it names none).
type loadWarning struct {
	row    uint64
	values [][]byte
}

// loadInfo is the info of LOAD DATA's OK packet ("Records: 3  Deleted: 0
// Skipped: 0  Warnings: 0"), which the mariadb client prints.
type loadInfo struct{ records, deleted, skipped, warnings uint64 }

const loadInfoFormat = "Records: %d  Deleted: %d  Skipped: %d  Warnings: %d"

func (l *loadInfo) add(info []byte) {
	var one loadInfo
	fmt.Sscanf(string(info), loadInfoFormat, &one.records, &one.deleted, &one.skipped, &one.warnings)
	l.records += one.records
	l.deleted += one.deleted
	l.skipped += one.skipped
}

func (l *loadInfo) text() []byte {
	return fmt.Appendf(nil, loadInfoFormat, l.records, l.deleted, l.skipped, l.warnings)
}

// loadSpool holds one shard's records in a temporary file, and which
// records of the client's file they are.
type loadSpool struct {
	file *os.File
	w    *bufio.Writer
	rows recordNumbers
}

// recordNumbers maps a shard's n-th record to its number in the client's
// file, for the row numbers of errors and warnings. Each number is kept as
// the varint of its distance from the previous one: about a byte a record.
type recordNumbers struct {
	deltas []byte
	last   uint64
}

func (r *recordNumbers) add(n uint64) {
	r.deltas = binary.AppendUvarint(r.deltas, n-r.last)
	r.last = n
}

// number returns the file's number of the shard's record k (from 1), or
// 0 when there is none.
func (r *recordNumbers) number(k uint64) uint64 {
	var n uint64
	rest := r.deltas
	for ; k > 0 && len(rest) > 0; k-- {
		d, size := binary.Uvarint(rest)
		if size <= 0 {
			return 0
		}
		n += d
		rest = rest[size:]
	}
	if k > 0 {
		return 0
	}
	return n
}

// fileRow rewrites the row number in a message of MariaDB's about a load
// ("Row 3 doesn't contain data for all columns", "... at row 3"), a row of
// the shard's records, as the number of that record in the client's
// file. It returns the number, 0 when the message has none.
func (r *recordNumbers) fileRow(msg []byte) ([]byte, uint64) {
	var start int
	switch {
	case bytes.HasPrefix(msg, []byte("Row ")):
		start = len("Row ")
	default:
		i := bytes.LastIndex(msg, []byte(" at row "))
		if i < 0 {
			return msg, 0
		}
		start = i + len(" at row ")
	}
	end := start
	for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
		end++
	}
	k, err := strconv.ParseUint(string(msg[start:end]), 10, 64)
	n := r.number(k)
	if err != nil || n == 0 {
		return msg, 0
	}
	out := append([]byte(nil), msg[:start]...)
	out = strconv.AppendUint(out, n, 10)
	return append(out, msg[end:]...), n
}

func newLoadSpool() (*loadSpool, error) {
	f, err := os.CreateTemp("", "shardproxy-load-*")
	if err != nil {
		return nil, errorf(erUnknown, "LOAD DATA cannot spool the file: %v", err)
	}
	return &loadSpool{file: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (sp *loadSpool) write(b []byte) error {
	if _, err := sp.w.Write(b); err != nil {
		return errorf(erUnknown, "LOAD DATA cannot spool the file: %v", err)
	}
	return nil
}

// reader returns the spooled records from their start.
func (sp *loadSpool) reader() (io.Reader, error) {
	if err := sp.w.Flush(); err != nil {
		return nil, errorf(erUnknown, "LOAD DATA cannot spool the file: %v", err)
	}
	if _, err := sp.file.Seek(0, io.SeekStart); err != nil {
		return nil, errorf(erUnknown, "LOAD DATA cannot read its spooled file: %v", err)
	}
	return bufio.NewReaderSize(sp.file, 64<<10), nil
}

func (sp *loadSpool) remove() {
	if sp == nil {
		return
	}
	sp.file.Close()
	os.Remove(sp.file.Name())
}
