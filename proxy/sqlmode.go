package proxy

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/mysql"

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
	"ANSI_QUOTES":         mysql.ModeANSIQuotes,
	"PIPES_AS_CONCAT":     mysql.ModePipesAsConcat,
	"IGNORE_SPACE":        mysql.ModeIgnoreSpace,
	"HIGH_NOT_PRECEDENCE": mysql.ModeHighNotPrecedence,
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

// refuseMode rejects an @@sql_mode value the proxy cannot follow.
// NO_BACKSLASH_ESCAPES would need every text the proxy writes (rewritten
// statements, values bound into text, shard statements of a merge) to
// escape strings its way; written the usual way, 'C:\path' would reach the
// table as "C:path". Refused rather than risk the data.
func refuseMode(sqlMode string) *wire.Error {
	for _, name := range strings.Split(sqlMode, ",") {
		if strings.EqualFold(strings.TrimSpace(name), "NO_BACKSLASH_ESCAPES") {
			return errorf(erNotSupported, "sql_mode NO_BACKSLASH_ESCAPES is not supported through shardproxy: leave it out and write a backslash in a string as \\\\")
		}
	}
	return nil
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
