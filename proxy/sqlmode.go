package proxy

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// A session's sql_mode changes what its text means: under ANSI_QUOTES
// "id" names a column, under PIPES_AS_CONCAT || concatenates, IGNORE_SPACE
// allows COUNT (*), HIGH_NOT_PRECEDENCE binds NOT tighter. The proxy
// parses the session's text in the same modes as the backend will, or it
// would route, rewrite and merge another statement than the one it sends.
// The statements it writes itself (backquoted names, CONCAT) mean the same
// in every mode.

// parseModes are the sql_mode flags that change how text parses.
var parseModes = map[string]mysql.SQLMode{
	"ANSI_QUOTES":          mysql.ModeANSIQuotes,
	"PIPES_AS_CONCAT":      mysql.ModePipesAsConcat,
	"IGNORE_SPACE":         mysql.ModeIgnoreSpace,
	"HIGH_NOT_PRECEDENCE":  mysql.ModeHighNotPrecedence,
	"NO_BACKSLASH_ESCAPES": mysql.ModeNoBackslashEscapes,
}

// parseModeOf reads the flags that change parsing from an @@sql_mode value
// as MariaDB reports it: combination modes (ANSI, ORACLE) come expanded.
func parseModeOf(sqlMode string) mysql.SQLMode {
	var m mysql.SQLMode
	for _, name := range strings.Split(sqlMode, ",") {
		m |= parseModes[strings.ToUpper(strings.TrimSpace(name))]
	}
	return m
}

// NO_BACKSLASH_ESCAPES changes what the proxy writes as well as what it
// reads: a statement it restores writes strings without backslash escapes
// (Session.restoreFlags), and statement shapes, whose scanner reads backslash
// escapes, are not used. A sharded schema's texts go through more writers
// (shard templates, merge plans parsed again), so there the mode is refused.

// noBackslashEscapes reports whether the session's strings take backslashes
// literally.
func (s *Session) noBackslashEscapes() bool { return s.parseMode&mysql.ModeNoBackslashEscapes != 0 }

// refuseShardedMode rejects a statement on sharded schema sc while the
// session is in a mode the proxy cannot write its shard texts in.
func (s *Session) refuseShardedMode(sc *schema) *wire.Error { return refuseModeIn(sc, s.parseMode) }

// refuseModeIn rejects parse mode m on schema sc.
func refuseModeIn(sc *schema, m mysql.SQLMode) *wire.Error {
	if m&mysql.ModeNoBackslashEscapes != 0 && !sc.passThrough() {
		return errorf(erNotSupported, "sql_mode NO_BACKSLASH_ESCAPES is not supported in sharded schema '%s': leave it out and write a backslash in a string as \\\\", sc.name)
	}
	return nil
}

// restoreFlags are the flags for restoring the session's statements.
func (s *Session) restoreFlags() format.RestoreFlags {
	if s.noBackslashEscapes() {
		return sqlparse.RestoreFlags &^ format.RestoreStringEscapeBackslash
	}
	return sqlparse.RestoreFlags
}

// restore writes n back as SQL the session's backends read as the client's
// text.
func (s *Session) restore(n ast.Node) (string, error) {
	return sqlparse.RestoreWith(n, s.restoreFlags())
}

// appendShape computes the shape of text into s.shape; false when it has
// no literal to replace or the shape scanner cannot read the session's
// strings.
func (s *Session) appendShape(text string) bool {
	if s.noBackslashEscapes() {
		return false
	}
	var replaced bool
	s.shape, replaced = sqlparse.AppendShape(s.shape[:0], text)
	return replaced
}

// setParseMode makes the session's parser read text as sql_mode m does.
func (s *Session) setParseMode(m mysql.SQLMode) {
	s.parseMode = m
	if s.parser != nil {
		s.parser.SetSQLMode(m)
	}
}

// plans is the cache of plans made for the session's texts: one per
// parse mode, since one text can be two statements in two modes.
func (s *Session) plans(sc *schema) *planCache {
	if s.parseMode == 0 {
		return sc.plans
	}
	return sc.plansFor(s.parseMode)
}

// plansFor is the plan cache of texts parsed in mode m (not the default).
func (sc *schema) plansFor(m mysql.SQLMode) *planCache {
	if c, ok := sc.modePlans.Load(m); ok {
		return c.(*planCache)
	}
	c, _ := sc.modePlans.LoadOrStore(m, newPlanCache())
	return c.(*planCache)
}
