package engine

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode"

	"github.com/shardproxy/shardproxy/wire"
)

// NULL in test rows.
const null = "\x00NULL"

// fakeStream serves rows like a backend connection does: every Next
// overwrites one buffer, so a row is valid only until the next call. The
// previous row is scribbled over first, so that an operator keeping a row
// it does not own sees garbage.
type fakeStream struct {
	fields   []wire.Field
	rows     [][]string
	failAt   int // Next returns errFake at this row index; -1 never
	pos      int
	buf      []byte
	vals     [][]byte
	closed   int // Close calls
	readLate bool
}

var errFake = errors.New("shard 1: connection lost")

func newFakeStream(fields []wire.Field, rows [][]string) *fakeStream {
	return &fakeStream{fields: fields, rows: rows, failAt: -1}
}

func (s *fakeStream) Fields() []wire.Field { return s.fields }

func (s *fakeStream) Next() ([][]byte, error) {
	if s.closed > 0 {
		s.readLate = true
		return nil, errors.New("Next after Close")
	}
	if s.pos == s.failAt {
		return nil, errFake
	}
	if s.pos >= len(s.rows) {
		return nil, io.EOF
	}
	row := s.rows[s.pos]
	s.pos++
	for i := range s.buf {
		s.buf[i] = '#'
	}
	if s.buf == nil {
		s.buf = make([]byte, 0, 64) // non-nil: an empty value is not NULL
	}
	s.buf = s.buf[:0]
	for _, v := range row {
		if v != null {
			s.buf = append(s.buf, v...)
		}
	}
	s.vals = s.vals[:0]
	off := 0
	for _, v := range row {
		if v == null {
			s.vals = append(s.vals, nil)
			continue
		}
		s.vals = append(s.vals, s.buf[off:off+len(v):off+len(v)])
		off += len(v)
	}
	return s.vals, nil
}

func (s *fakeStream) Close() error {
	s.closed++
	return nil
}

// fakeShards hands out one fakeStream per shard result and records the SQL.
type fakeShards struct {
	fields  []wire.Field
	results [][][]string // per shard, its rows
	streams []*fakeStream
	sqls    []string
	openErr error
}

func (f *fakeShards) Open(_ context.Context, sql string) ([]Stream, error) {
	f.sqls = append(f.sqls, sql)
	if f.openErr != nil {
		return nil, f.openErr
	}
	f.streams = nil
	var out []Stream
	for _, rows := range f.results {
		s := newFakeStream(f.fields, rows)
		f.streams = append(f.streams, s)
		out = append(out, s)
	}
	return out, nil
}

// checkClosed fails unless every shard stream was closed exactly once and
// never read after.
func (f *fakeShards) checkClosed(t *testing.T) {
	t.Helper()
	for i, s := range f.streams {
		if s.closed != 1 || s.readLate {
			t.Errorf("shard %d: closed %d times, read after close %v", i, s.closed, s.readLate)
		}
	}
}

// readAll drains a stream into strings (NULL as null) and closes it.
func readAll(t *testing.T, s Stream) [][]string {
	t.Helper()
	defer s.Close()
	var out [][]string
	for {
		row, err := s.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if len(row) != len(s.Fields()) {
			t.Fatalf("row has %d values, fields %d", len(row), len(s.Fields()))
		}
		out = append(out, rowStrings(row))
	}
}

func rowStrings(row [][]byte) []string {
	r := make([]string, len(row))
	for i, v := range row {
		if v == nil {
			r[i] = null
		} else {
			r[i] = string(v)
		}
	}
	return r
}

func rowsText(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.ReplaceAll(strings.Join(r, "|"), null, "NULL"))
		b.WriteByte('\n')
	}
	return b.String()
}

func wantRows(t *testing.T, got [][]string, want string) {
	t.Helper()
	if g := rowsText(got); g != want {
		t.Errorf("rows:\n%s\nwant:\n%s", g, want)
	}
}

// Column definitions as MariaDB sends them.
func intField(name string) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeLong, Charset: wire.CharsetBinary, Length: 11}
}

func bigintField(name string) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeLongLong, Charset: wire.CharsetBinary, Length: 21, Flags: wire.FlagNotNull | wire.FlagBinary}
}

func decimalField(name string, decimals byte) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeNewDecimal, Charset: wire.CharsetBinary, Length: 33, Decimals: decimals, Flags: wire.FlagBinary}
}

func doubleField(name string, decimals byte) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeDouble, Charset: wire.CharsetBinary, Length: 23, Decimals: decimals, Flags: wire.FlagBinary}
}

func stringField(name string) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeVarString, Charset: wire.CharsetUTF8MB4, Length: 80}
}

func weightField() wire.Field {
	return wire.Field{Name: []byte("w"), Type: wire.TypeVarString, Charset: wire.CharsetBinary, Length: 22, Flags: wire.FlagBinary}
}

func datetimeField(name string) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeDatetime, Charset: wire.CharsetBinary, Length: 19, Flags: wire.FlagBinary}
}

func timeField(name string) wire.Field {
	return wire.Field{Name: []byte(name), Type: wire.TypeTime, Charset: wire.CharsetBinary, Length: 10, Flags: wire.FlagBinary}
}

// ciWeight is what the planner's weight column returns for s under
// utf8mb4_general_ci (PAD SPACE): two bytes per character of the
// upper-cased, right-trimmed text, then the weight of one space.
func ciWeight(s string) string {
	if s == null {
		return null
	}
	var b []byte
	for _, r := range strings.TrimRight(s, " ") + " " {
		r = unicode.ToUpper(r)
		b = append(b, byte(r>>8), byte(r))
	}
	return string(b)
}

// source is a test primitive returning fixed rows, to feed an operator.
type source struct {
	fields []wire.Field
	rows   [][]string
	stream *fakeStream // the last one opened
}

func (s *source) Inputs() []Primitive { return nil }
func (s *source) Description() string { return "Source" }
func (s *source) Execute(context.Context, *Env) (Stream, error) {
	s.stream = newFakeStream(s.fields, s.rows)
	return s.stream, nil
}

// run executes p and returns its rows.
func run(t *testing.T, p Primitive, env *Env) [][]string {
	t.Helper()
	if env == nil {
		env = &Env{}
	}
	s, err := p.Execute(context.Background(), env)
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	return readAll(t, s)
}

// runErr executes p and drains it, returning the first error.
func runErr(p Primitive, env *Env) error {
	s, err := p.Execute(context.Background(), env)
	if err != nil {
		return err
	}
	defer s.Close()
	for {
		if _, err := s.Next(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// wantCode checks that err is an engine error with code.
func wantCode(t *testing.T, err error, code uint16) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v, want code %d", err, code)
	}
}
