package sqlparse

import (
	"fmt"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

func loadFormat(t *testing.T, options string, fields, key int) LoadFormat {
	t.Helper()
	st, err := ParseOne("LOAD DATA LOCAL INFILE 'f' INTO TABLE t " + options)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewLoadFormat(st.(*ast.LoadDataStmt), fields, key)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// splitAll cuts data into records, feeding it a byte at a time when
// piecewise (as packets may cut it anywhere), and describes each.
func splitAll(f LoadFormat, data string, piecewise bool) []string {
	var out []string
	buf := []byte{}
	rest := []byte(data)
	feed := func() bool {
		if len(rest) == 0 {
			return false
		}
		n := len(rest)
		if piecewise {
			n = 1
		}
		buf, rest = append(buf, rest[:n]...), rest[n:]
		return true
	}
	feed()
	for ignore := f.Ignore; ignore > 0; {
		end, more := f.SkipLine(buf, len(rest) == 0)
		if more && feed() {
			continue
		}
		buf = buf[end:]
		ignore--
	}
	for {
		rec, ok, more := f.Split(buf, len(rest) == 0)
		if more && feed() {
			continue
		}
		if !ok {
			return out
		}
		desc := fmt.Sprintf("%q key %q", rec.Raw, rec.Key)
		switch {
		case rec.KeyNull:
			desc = fmt.Sprintf("%q key NULL", rec.Raw)
		case rec.KeyMissing:
			desc = fmt.Sprintf("%q no key", rec.Raw)
		}
		out = append(out, desc)
		buf = buf[len(rec.Raw):]
	}
}

// TestLoadDataSplit: records and key values as MariaDB 10.11 reads them
// (each case was loaded into MariaDB to check the rows it makes).
func TestLoadDataSplit(t *testing.T) {
	cases := []struct {
		options     string
		fields, key int
		data        string
		want        []string
	}{
		{"", 2, 0, "1\ta\n2\tb\n", []string{`"1\ta\n" key "1"`, `"2\tb\n" key "2"`}},
		{"", 2, 1, "a\t1\nb\t2", []string{`"a\t1\n" key "1"`, `"b\t2" key "2"`}},
		{"FIELDS TERMINATED BY ','", 2, 0, "1\\,x,a\\\nb\n", []string{`"1\\,x,a\\\nb\n" key "1,x"`}},
		{"FIELDS TERMINATED BY ','", 2, 0, "\\N,a\n\\N\\N,b\n", []string{`"\\N,a\n" key NULL`, `"\\N\\N,b\n" key "NN"`}},
		{"FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'", 2, 1, "a,\"1\"\nb,NULL\nc,\"NULL\"\n",
			[]string{`"a,\"1\"\n" key "1"`, `"b,NULL\n" key NULL`, `"c,\"NULL\"\n" key "NULL"`}},
		{"FIELDS TERMINATED BY ',' ENCLOSED BY '\"'", 2, 1, "\"x,\ny\",\"1\"\"2\"\n\"a\"b\",3\n",
			[]string{`"\"x,\ny\",\"1\"\"2\"\n" key "1\"2"`, `"\"a\"b\",3\n" key "3"`}},
		{"FIELDS TERMINATED BY ',' ENCLOSED BY '\"' IGNORE 1 LINES", 2, 0, "\"id\nx\",name\n1,a\n",
			[]string{`"x\",name\n" key "x\""`, `"1,a\n" key "1"`}},
		{"FIELDS TERMINATED BY ','", 2, 0, "1,a,extra\n2\n3,c", []string{`"1,a,extra\n" key "1"`, `"2\n" key "2"`, `"3,c" key "3"`}},
		{"FIELDS TERMINATED BY ','", 3, 2, "1,a\n", []string{`"1,a\n" no key`}},
		{"FIELDS TERMINATED BY ','", 1, 0, "1,x\\\ny\n2\n", []string{`"1,x\\\ny\n" key "1"`, `"2\n" key "2"`}},
		{"FIELDS TERMINATED BY ',' LINES STARTING BY '>'", 2, 0, "xx>1,a\njunk\n>2,b\ntail", []string{`"xx>1,a\n" key "1"`, `"junk\n>2,b\n" key "2"`}},
		{"FIELDS TERMINATED BY '||' LINES TERMINATED BY '\r\n'", 2, 1, "a||7\r\nb|c||8\r\n", []string{`"a||7\r\n" key "7"`, `"b|c||8\r\n" key "8"`}},
		{"FIELDS TERMINATED BY ',' ESCAPED BY ''", 2, 0, "1\\,a\n", []string{`"1\\,a\n" key "1\\"`}},
		{"FIELDS TERMINATED BY ',' ENCLOSED BY '\"' ESCAPED BY '\"'", 2, 0, "\"a\"\"b\",1\n", []string{`"\"a\"\"b\",1\n" key "a\"b"`}},
		{"FIELDS TERMINATED BY ',' ENCLOSED BY '\"'", 2, 0, "1,a\n\"2", []string{`"1,a\n" key "1"`, `"\"2" key "\"2"`}},
		{"", 2, 0, "\n", []string{`"\n" key ""`}},
		{"", 2, 0, "", nil},
	}
	for _, c := range cases {
		f := loadFormat(t, c.options, c.fields, c.key)
		for _, piecewise := range []bool{false, true} {
			got := splitAll(f, c.data, piecewise)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s %q (piecewise %v):\n got %q\nwant %q", c.options, c.data, piecewise, got, c.want)
			}
		}
	}
}

func TestLoadFormatRefuses(t *testing.T) {
	for _, options := range []string{
		"FIELDS TERMINATED BY ''",
		"LINES TERMINATED BY ''",
		"FIELDS ENCLOSED BY 'ab'",
		"CHARACTER SET sjis",
	} {
		st, err := ParseOne("LOAD DATA LOCAL INFILE 'f' INTO TABLE t " + options)
		if err != nil {
			continue // the parser refuses it already
		}
		if _, err := NewLoadFormat(st.(*ast.LoadDataStmt), 2, 0); err == nil {
			t.Errorf("%s: accepted", options)
		}
	}
}
