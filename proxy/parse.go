package proxy

import (
	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/charset"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver" // parser.New needs a value driver
)

func newParser() *parser.Parser {
	p := parser.New()
	p.EnableWindowFunc(true)
	return p
}

// collationName maps a collation id (handshake, column definition) to its name.
func collationName(id uint16) (string, bool) {
	c, err := charset.GetCollationByID(int(id))
	if err != nil || c == nil {
		return "", false
	}
	return c.Name, true
}
