package sqlparse

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// LoadFormat is how LOAD DATA cuts its file into records and fields: the
// statement's FIELDS and LINES options with MariaDB's defaults.
type LoadFormat struct {
	FieldTerm, LineTerm, LineStart []byte
	Enclosed, Escaped              int // the byte, -1 when none
	// Fields is how many fields MariaDB reads of a record: the length of
	// the column list. Key is the field whose value Split reports.
	Fields, Key int
	Ignore      uint64 // IGNORE n LINES
}

// NewLoadFormat reads ld's options. It refuses what Split does not cut as
// MariaDB would: fixed-width rows (empty FIELDS TERMINATED BY and
// ENCLOSED BY), an empty LINES TERMINATED BY, TiDB's own options.
func NewLoadFormat(ld *ast.LoadDataStmt, fields, key int) (LoadFormat, error) {
	f := LoadFormat{FieldTerm: []byte("\t"), LineTerm: []byte("\n"), Enclosed: -1, Escaped: '\\', Fields: fields, Key: key}
	if ld.Format != nil || len(ld.Options) > 0 {
		return f, fmt.Errorf("FORMAT and WITH options are not MariaDB's")
	}
	oneByte := func(s *string, what string) (int, error) {
		switch {
		case s == nil:
			return -2, nil
		case *s == "":
			return -1, nil
		case len(*s) > 1:
			return 0, fmt.Errorf("%s must be one character", what)
		}
		return int((*s)[0]), nil
	}
	if fi := ld.FieldsInfo; fi != nil {
		if fi.DefinedNullBy != nil {
			return f, fmt.Errorf("DEFINED NULL BY is not MariaDB's")
		}
		if fi.Terminated != nil {
			f.FieldTerm = []byte(*fi.Terminated)
		}
		if b, err := oneByte(fi.Enclosed, "ENCLOSED BY"); err != nil {
			return f, err
		} else if b != -2 {
			f.Enclosed = b
		}
		if b, err := oneByte(fi.Escaped, "ESCAPED BY"); err != nil {
			return f, err
		} else if b != -2 {
			f.Escaped = b
		}
	}
	if li := ld.LinesInfo; li != nil {
		if li.Terminated != nil {
			f.LineTerm = []byte(*li.Terminated)
		}
		if li.Starting != nil {
			f.LineStart = []byte(*li.Starting)
		}
	}
	if ld.IgnoreLines != nil {
		f.Ignore = *ld.IgnoreLines
	}
	if ld.Charset != nil && !asciiSafe(*ld.Charset) {
		return f, fmt.Errorf("CHARACTER SET %s is not supported: its characters may hold bytes that read as terminators", *ld.Charset)
	}
	switch {
	case len(f.FieldTerm) == 0 && f.Enclosed < 0:
		return f, fmt.Errorf("fixed-width rows (empty FIELDS TERMINATED BY and ENCLOSED BY) are not supported")
	case len(f.LineTerm) == 0:
		return f, fmt.Errorf("an empty LINES TERMINATED BY is not supported")
	}
	return f, nil
}

// asciiSafe reports whether no character of charset but an ASCII one holds
// a byte below 0x80: where the proxy cuts a file by its bytes, MariaDB cuts
// it by characters.
func asciiSafe(charset string) bool {
	switch strings.ToLower(charset) {
	case "sjis", "cp932", "big5", "gbk", "gb18030", "ucs2", "utf16", "utf16le", "utf32":
		return false
	}
	return true
}

// Record is one record of a LOAD DATA file, as MariaDB reads it.
type Record struct {
	// Raw is the record's bytes from where the previous one ended, through
	// its line terminator: a file made of such records reads the same.
	Raw []byte
	// Key is the key field's value, unescaped; KeyNull when it is NULL,
	// KeyMissing when the record has fewer fields.
	Key        []byte
	KeyNull    bool
	KeyMissing bool
}

// Split finds the next record at the start of data. With eof false, data
// may end inside a record: more=true then asks for more data (call again
// with it appended). ok=false with more=false means the file has no more
// records; what is left of data is read by MariaDB as nothing.
func (f *LoadFormat) Split(data []byte, eof bool) (rec Record, ok, more bool) {
	c := cutter{f: f, data: data, eof: eof}
	ok = c.record(&rec)
	return rec, ok, c.short
}

// SkipLine is IGNORE n LINES for one line: it returns where the line
// after the first of data starts, as MariaDB skips it (to the line
// terminator, honouring escapes, not enclosures); more when data ends
// first and more may come.
func (f *LoadFormat) SkipLine(data []byte, eof bool) (end int, more bool) {
	c := cutter{f: f, data: data, eof: eof}
	c.skipLine()
	return c.pos, c.short
}

// cutter reads one record the way MariaDB's READ_INFO (sql_load.cc) reads
// fields and lines.
type cutter struct {
	f     *LoadFormat
	data  []byte
	eof   bool
	pos   int
	short bool // data ended where more would decide: need more
	key   []byte
}

// at reports whether term starts at i; when data ends inside a prefix of
// term and more may come, it sets short.
func (c *cutter) at(i int, term []byte) bool {
	rest := c.data[i:]
	if len(rest) >= len(term) {
		return bytes.HasPrefix(rest, term)
	}
	if !c.eof && bytes.HasPrefix(term, rest) {
		c.short = true
	}
	return false
}

// end reports whether data ends at i: with more to come that is short.
func (c *cutter) end(i int) bool {
	if i < len(c.data) {
		return false
	}
	if !c.eof {
		c.short = true
	}
	return true
}

func (c *cutter) record(rec *Record) bool {
	f := c.f
	if len(f.LineStart) > 0 {
		i := bytes.Index(c.data, f.LineStart)
		if i < 0 {
			// A prefix may still come, perhaps split across pieces.
			c.short = !c.eof
			return false
		}
		c.pos = i + len(f.LineStart)
	}
	rec.KeyMissing = true
	for field := 0; field < f.Fields; field++ {
		if c.end(c.pos) {
			if c.short {
				return false
			}
			if field == 0 {
				return false // the file ended
			}
			break
		}
		lineEnded, null := c.field(field == f.Key)
		if c.short {
			return false
		}
		if field == f.Key {
			rec.Key, rec.KeyNull, rec.KeyMissing = c.key, null, false
		}
		if lineEnded {
			rec.Raw = c.data[:c.pos]
			return true
		}
	}
	// Every field read and the line goes on: MariaDB skips the rest of it.
	c.skipLine()
	if c.short {
		return false
	}
	rec.Raw = c.data[:c.pos]
	return true
}

// field reads one field from pos; lineEnded when the record ended with
// it (line terminator or end of file). keep collects its value in c.key.
func (c *cutter) field(keep bool) (lineEnded, null bool) {
	f, d := c.f, c.data
	c.key = c.key[:0]
	add := func(b byte) {
		if keep {
			c.key = append(c.key, b)
		}
	}
	enclosed := f.Enclosed >= 0 && int(d[c.pos]) == f.Enclosed
	if enclosed {
		c.pos++
	}
	foundNull := false
	for {
		if c.end(c.pos) {
			// The file ended inside the field; an enclosed one keeps its
			// opening enclosure, as MariaDB reads it.
			if enclosed && keep {
				c.key = append([]byte{byte(f.Enclosed)}, c.key...)
			}
			return true, !enclosed && c.isNull(false, foundNull)
		}
		b := d[c.pos]
		if f.Escaped >= 0 && int(b) == f.Escaped {
			if c.end(c.pos + 1) {
				add(b)
				c.pos++
				return true, false
			}
			next := d[c.pos+1]
			if f.Escaped != f.Enclosed || int(next) == f.Escaped {
				if next == 'N' {
					foundNull = true
				}
				add(unescape(next))
				c.pos += 2
				continue
			}
			// ESCAPED BY equal to ENCLOSED BY: the byte is the enclosure.
		}
		if !enclosed && c.at(c.pos, f.LineTerm) {
			c.pos += len(f.LineTerm)
			return true, c.isNull(enclosed, foundNull)
		}
		if c.short {
			return false, false
		}
		if enclosed && int(b) == f.Enclosed {
			if c.end(c.pos + 1) {
				c.pos++
				return true, false
			}
			if int(d[c.pos+1]) == f.Enclosed { // a doubled enclosure is one
				add(b)
				c.pos += 2
				continue
			}
			if c.at(c.pos+1, f.LineTerm) {
				c.pos += 1 + len(f.LineTerm)
				return true, false
			}
			if len(f.FieldTerm) > 0 && c.at(c.pos+1, f.FieldTerm) {
				c.pos += 1 + len(f.FieldTerm)
				return false, false
			}
			if c.short {
				return false, false
			}
			add(b)
			c.pos++
			continue
		}
		if !enclosed && len(f.FieldTerm) > 0 && c.at(c.pos, f.FieldTerm) {
			c.pos += len(f.FieldTerm)
			return false, c.isNull(enclosed, foundNull)
		}
		if c.short {
			return false, false
		}
		add(b)
		c.pos++
	}
}

// isNull is MariaDB's test of a field just read: \N alone, or the word
// NULL unenclosed when fields may be enclosed.
func (c *cutter) isNull(enclosed, foundNull bool) bool {
	return (len(c.key) == 1 && foundNull) || (!enclosed && c.f.Enclosed >= 0 && string(c.key) == "NULL")
}

// skipLine moves pos past the next line terminator, an escaped byte never
// being one; at the end of the file it stops there.
func (c *cutter) skipLine() {
	f, d := c.f, c.data
	for !c.end(c.pos) {
		if f.Escaped >= 0 && int(d[c.pos]) == f.Escaped {
			if c.end(c.pos + 1) {
				if !c.short {
					c.pos = len(d)
				}
				return
			}
			c.pos += 2
			continue
		}
		if c.at(c.pos, f.LineTerm) {
			c.pos += len(f.LineTerm)
			return
		}
		if c.short {
			return
		}
		c.pos++
	}
}

func unescape(b byte) byte {
	switch b {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	case 'b':
		return '\b'
	case '0':
		return 0
	case 'Z':
		return 26
	}
	return b
}
