package proxy

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// execRouted runs a statement that goes to backends.
func (s *Session) execRouted(ctx context.Context, st ast.StmtNode, text string, more bool) error {
	if commitsImplicitly(st) {
		if err := s.commitImplicitly(ctx); err != nil {
			return err
		}
	}
	sc, werr := s.targetSchema(st)
	if werr != nil {
		return werr
	}
	if !sc.passThrough() && !readsInformationSchema(st) {
		return s.execSharded(ctx, sc, st, text, more)
	}
	shard := sc.defaultShard
	rw := newRewriter(s, sc, sc.shards[shard].db)
	sql, err := rw.apply(st, text)
	if err != nil {
		return err
	}
	leaves := valuesLeftOnBackend(st)
	read := isRead(st) && !hasPrimaryHint(text) && !leaves.pins
	if !rw.needed && !leaves.left() && sc.passThrough() && sc.schemaOf(s) {
		c := &cachedPlan{read: read, commits: commitsImplicitly(st), keepsDiagnostics: s.keepsDiagnostics}
		if s.appendShape(text) {
			s.plans(sc).putShape(s.shape, c)
		} else {
			s.plans(sc).put(text, c)
		}
	}
	return s.execOnShardOpts(ctx, sc, shard, sql, read, relayOptions{
		more: more, logical: sc.name, physical: sc.shards[shard].db, translate: rw.infoSchema,
		leaves: leaves,
	})
}

// execOnShardOpts runs sql on one shard and relays the answer.
func (s *Session) execOnShardOpts(ctx context.Context, sc *schema, shard int, sql string, read bool, opt relayOptions) error {
	if s.route == routeNone {
		s.route = routeSingle
	}
	c, err := s.acquire(ctx, sc, shard, read)
	if err != nil {
		return err
	}
	sent := s.packetsOut
	opt.query = sql
	warnings, err := s.relay(ctx, c, opt)
	if opt.leaves.left() {
		s.takeBackendValues(ctx, c, opt.leaves, err, warnings)
	}
	s.release(c, warnings)
	if err != nil && read && c.Broken() && ctx.Err() == nil && s.packetsOut == sent && !s.inTx && c.Pool() != sc.shards[shard].node.Primary {
		// The replica died under the statement before answering anything:
		// a read can safely be asked again, of the primary.
		return s.execOnShardOpts(ctx, sc, shard, sql, false, opt)
	}
	return err
}

// acquire returns the connection a statement on shard uses, with the
// session's state applied: the transaction's on that node, the one the
// session keeps there (pin.go), or a pooled one.
func (s *Session) acquire(ctx context.Context, sc *schema, shard int, read bool) (*backend.Conn, error) {
	if !s.keepsDiagnostics {
		s.forgetWarnings()
	}
	s.noteShard(shard)
	sh := sc.shards[shard]
	var c *backend.Conn
	var err error
	switch pinned := s.pinnedConn(sh.node.Primary); {
	case (s.inTx || !s.autocommit) && !s.outsideTx:
		c, err = s.txConn(ctx, sc, sh, read)
	case pinned != nil && pinned.Broken():
		s.losePinned()
		err = errorf(erUnknown, "the backend connection holding this session's temporary tables, locks or prepared statements was lost; connect again")
	case pinned != nil:
		c = pinned
	default:
		c, err = s.pooledConn(ctx, sc, sh, read)
	}
	if err != nil {
		return nil, err
	}
	if err := c.ApplyState(ctx, &s.state); err != nil {
		if !s.keeps(c) {
			c.MarkBroken() // its state is half applied
			c.Pool().Put(c)
		}
		return nil, err
	}
	if err := c.UseDB(ctx, sh.db); err != nil {
		s.giveBack(c)
		return nil, err
	}
	return c, nil
}

// pooledConn takes a connection from the shard's primary, or from a
// replica for a read when the schema reads from replicas.
func (s *Session) pooledConn(ctx context.Context, sc *schema, sh shard, read bool) (*backend.Conn, error) {
	pool := sh.node.Primary
	if read && sc.readFromReplica {
		pool = sh.node.ReadPool()
	}
	foundRows := s.capability&wire.ClientFoundRows != 0
	c, err := pool.GetIn(ctx, foundRows, sh.db)
	if err != nil && pool != sh.node.Primary {
		// A replica that went down since its last health check: the
		// primary answers instead of the client seeing an error.
		c, err = sh.node.Primary.GetIn(ctx, foundRows, sh.db)
	}
	return c, err
}

// release returns a connection after a statement. Transaction connections
// stay pinned; one that produced warnings is kept for SHOW WARNINGS.
func (s *Session) release(c *backend.Conn, warnings uint16) {
	if warnings > 0 {
		s.ownWarnings()
	}
	if !s.keepsDiagnostics {
		s.lastWarnings = warnings
	}
	if s.keeps(c) {
		if c.Broken() && s.pinnedConn(c.Pool()) == c {
			s.losePinned()
		}
		return
	}
	if warnings > 0 && !c.Broken() {
		s.warnConn = c
		return
	}
	c.Pool().Put(c)
}

// targetSchema is the logical schema a statement runs against: the one its
// tables name, else the session's current one.
func (s *Session) targetSchema(st ast.StmtNode) (*schema, *wire.Error) {
	t := s.topo()
	named := referencedSchemas(st)
	if len(named) > 1 {
		return nil, errorf(erNotSupported, "a statement may use one logical schema; this one names %v", named)
	}
	if len(named) == 1 {
		u := t.users[s.user]
		if err := checkSchemaAccess(t, u, named[0]); err != nil {
			return nil, err
		}
		return t.schema(named[0]), nil
	}
	if s.schemaName == "" && !usesCurrentSchema(st) {
		// SELECT 1, SELECT @@version, information_schema: any backend
		// answers.
		for _, name := range t.order {
			if mayUse(t.users[s.user], name) {
				return t.schema(name), nil
			}
		}
	}
	return s.currentSchema()
}

// execSharded routes a statement of a sharded schema.
func (s *Session) execSharded(ctx context.Context, sc *schema, st ast.StmtNode, text string, more bool) error {
	rt, src, err := s.routeSharded(ctx, sc, st, text, more)
	if isNotSupported(err) {
		if handled, werr := s.execWriteReadingIn(ctx, sc, st, more); handled {
			return werr
		}
	}
	if err != nil {
		return err
	}
	if rt.Kind == router.KindDDL {
		// Column orders may change: read them again after the DDL.
		sc.columns.forget()
		defer sc.columns.forget()
	}
	return s.execRoute(ctx, sc, rt, nil, more, src)
}

// routeSharded plans (or finds the plan of) a statement of a sharded
// schema and binds it.
func (s *Session) routeSharded(ctx context.Context, sc *schema, st ast.StmtNode, text string, more bool) (*router.Route, mergeSource, error) {
	// Session functions become literals first; such a text is not cached
	// since its plan depends on the session.
	rw := newRewriter(s, sc, "")
	st.Accept(rw)
	leaves := valuesLeftOnBackend(st)
	cacheable := !rw.needsSessionValues() && !leaves.any()
	if !cacheable {
		rw.rewriting = true
		rw.functionsOnly = true
		st.Accept(rw)
		// The router builds shard texts from the statement's text.
		restored, err := s.restore(st)
		if err != nil {
			return nil, mergeSource{}, err
		}
		st.SetText(nil, restored)
		text = restored
	}
	if listed, ok, err := s.listInsertColumns(ctx, sc, st); err != nil {
		return nil, mergeSource{}, err
	} else if ok {
		text = listed
	}
	plan, slot, err := s.planFor(sc, st, text, cacheable && !leaves.pins)
	if err == nil && cacheable && !leaves.pins && !more {
		s.rememberShape(sc, text)
	}
	var rt *router.Route
	if err == nil {
		rt, err = s.bind(ctx, sc, plan, insertTable(st), nil)
	}
	if _, isSelect := st.(*ast.SelectStmt); isSelect && isNotSupported(err) {
		// An IN subquery on other shards: its values, read first, do.
		// Not cached: the text holds this execution's values. (A write
		// reads them in its transaction: execWriteReadingIn.)
		ins, ierr := s.inSubqueries(ctx, sc, st)
		if ierr != nil {
			return nil, mergeSource{}, ierr
		}
		if len(ins) > 0 {
			withValues, fresh, merr := s.materializeIn(ctx, sc, st, ins)
			if merr != nil {
				return nil, mergeSource{}, merr
			}
			st, text, slot = fresh, withValues, nil
			if plan, err = sc.routing.Plan(st); err == nil {
				rt, err = s.bind(ctx, sc, plan, insertTable(st), nil)
			}
		}
	}
	if err != nil {
		return nil, mergeSource{}, err
	}
	return rt, mergeSource{slot: slot, stmt: st, text: text, leaves: leaves}, nil
}

// isNotSupported reports whether err is a 1235 refusal.
func isNotSupported(err error) bool {
	var e *wire.Error
	return errors.As(err, &e) && e.Code == erNotSupported
}

// backendValues are session values a statement leaves on the backend
// connection that ran it, where no OK packet carries them: the session
// reads them from there before the connection serves anyone else.
type backendValues struct {
	foundRows bool // SELECT SQL_CALC_FOUND_ROWS: the count FOUND_ROWS() returns
	insertID  bool // a statement that called LAST_INSERT_ID(expr): the id it set
	// pins: state only the connection holds (pin.go); the statement runs on
	// the primary, and the session keeps its connection.
	pins bool
	// opaque: a CALL, or a text the parser rejected: what it leaves is
	// unknown. It may assign any user variable, set the insert id or the
	// found rows, and begin a transaction and then fail (its error packet
	// does not tell).
	opaque bool
	// userVars: user variables the statement assigns (@v := expr); their
	// values join the session's state.
	userVars []string
	// sequences: those the statement advances (NEXTVAL): their LASTVAL()
	// becomes the session's.
	sequences []*ast.TableName
}

// any reports whether values are to be read back after the statement.
func (v backendValues) any() bool {
	return v.foundRows || v.insertID || len(v.userVars) > 0 || v.opaque || len(v.sequences) > 0
}

// sequenceDB is the physical database of sequence t: db, the one of the
// connection it is used on, when its name has none; a logical schema's
// default shard (where its unsharded tables live) when it names one.
func (s *Session) sequenceDB(t *ast.TableName, db string) string {
	if t.Schema.O == "" {
		return db
	}
	if sc := s.topo().schema(t.Schema.O); sc != nil {
		return sc.shards[sc.defaultShard].db
	}
	return t.Schema.O
}

// sequenceKey names a sequence in Session.lastvals by its physical place.
func (s *Session) sequenceKey(t *ast.TableName, db string) string {
	return strings.ToLower(s.sequenceDB(t, db) + "." + t.Name.O)
}

// left reports whether the statement leaves anything on its connection;
// inlined, it keeps the call below off the path of most statements.
func (v backendValues) left() bool { return v.any() || v.pins }

// valuesLeftOnBackend tells what st leaves on its backend connection. An
// UPDATE's LAST_INSERT_ID(expr) reaches the session through its OK packet.
func valuesLeftOnBackend(st ast.StmtNode) backendValues {
	var v backendValues
	dml := false
	switch st := st.(type) {
	case *ast.SelectStmt:
		v.foundRows = st.SelectStmtOpts != nil && st.SelectStmtOpts.CalcFoundRows
	case *ast.SetOprStmt, *ast.DoStmt, *ast.SetStmt: // a UNION's selects, DO, SET: they may call functions
	case *ast.InsertStmt, *ast.UpdateStmt, *ast.DeleteStmt:
		dml = true
	case *ast.CallStmt:
		v.opaque = true
	case *ast.CreateTableStmt:
		v.pins = st.TemporaryKeyword != ast.TemporaryNone
		return v
	case *ast.PrepareStmt, *ast.LockTablesStmt:
		v.pins = true
		return v
	case *ast.FlushStmt:
		v.pins = st.Tp == ast.FlushTables && st.ReadLock
		return v
	default:
		return v
	}
	sqlparse.Contains(st, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncCallExpr:
			switch n.FnName.L {
			case "last_insert_id":
				v.insertID = v.insertID || len(n.Args) > 0 && !dml
			case "get_lock":
				v.pins = true
			case "nextval":
				if len(n.Args) == 1 {
					if t, ok := n.Args[0].(*ast.TableNameExpr); ok {
						v.sequences = append(v.sequences, t.Name)
					}
				}
			}
		case *ast.VariableExpr:
			if !n.IsSystem && n.Value != nil {
				v.userVars = append(v.userVars, n.Name)
			}
		}
		return false
	})
	return v
}

// takeBackendValues makes what a statement left on c, which ran it and
// answered err with warnings, the session's (valuesLeftOnBackend).
func (s *Session) takeBackendValues(ctx context.Context, c *backend.Conn, v backendValues, err error, warnings uint16) {
	if v.opaque && err == errRelayed {
		// A procedure fails after it began a transaction or set variables.
		s.askBackendTx(ctx, c)
	}
	if v.any() && (err == nil || v.opaque && err == errRelayed && !c.Broken()) {
		if err == nil {
			s.collectWarnings(ctx, c, warnings)
		}
		s.readBackendValues(ctx, c, v)
	}
	if v.pins {
		s.pin(c)
	}
}

// readBackendValues asks the connection that just ran a statement for the
// values it left (valuesLeftOnBackend). The client has its whole answer
// already: a failure cannot be reported, and the session keeps its values
// (FOUND_ROWS() then counts the rows sent).
func (s *Session) readBackendValues(ctx context.Context, c *backend.Conn, v backendValues) {
	keys := make([]string, 0, len(v.userVars))
	for _, name := range v.userVars {
		keys = append(keys, userVarKey(name))
	}
	q := "SELECT FOUND_ROWS(), LAST_INSERT_ID()"
	if v.opaque {
		// The session's own variables are read with the rest; the
		// statement's new ones are named by the last column (MariaDB's
		// USER_VARIABLES, read after FOUND_ROWS(), which a subquery resets).
		keys = s.state.AppendUserVars(keys)
	}
	for _, key := range keys {
		q += ", " + key
	}
	for _, seq := range v.sequences {
		// Named as the connection knows it: a logical schema's name
		// means nothing to a backend.
		physical := &ast.TableName{Schema: ast.NewCIStr(s.sequenceDB(seq, c.DB())), Name: seq.Name}
		name, _ := s.restore(physical)
		q += ", LASTVAL(" + name + ")"
	}
	if v.opaque {
		q += ", (SELECT JSON_ARRAYAGG(VARIABLE_NAME) FROM information_schema.USER_VARIABLES WHERE VARIABLE_VALUE IS NOT NULL)"
	}
	res, err := c.Exec(ctx, q)
	if err != nil || len(res.Rows) != 1 || len(res.Rows[0]) < 2+len(keys)+len(v.sequences) {
		// The session keeps its values (on MySQL backends the query always
		// fails); say why for whoever debugs a value that did not follow.
		s.log().Debug("values left on the backend not read back", zap.Uint32("conn", s.id), zap.String("query", q), zap.Error(err))
		return
	}
	row := res.Rows[0]
	for i, key := range keys {
		s.recordVar(key, &res.Fields[2+i], row[2+i])
	}
	for i, seq := range v.sequences {
		if s.lastvals == nil {
			s.lastvals = map[string][]byte{}
		}
		s.lastvals[s.sequenceKey(seq, c.DB())] = row[2+len(keys)+i]
	}
	if v.opaque && len(row) == 3+len(keys)+len(v.sequences) {
		s.readNewUserVars(ctx, c, keys, row[len(row)-1])
	}
	if len(keys) > 0 || v.opaque {
		c.AdoptState(&s.state)
	}
	if n, err := strconv.ParseUint(string(row[0]), 10, 64); err == nil && (v.foundRows || v.opaque) {
		s.foundRows = n
	}
	if n, err := strconv.ParseUint(string(row[1]), 10, 64); err == nil && (v.insertID || v.opaque) {
		s.lastInsertID = n
	}
}

// readNewUserVars records the user variables that names (a JSON array of
// the connection's variable names) lists beyond known: those an opaque
// statement created.
func (s *Session) readNewUserVars(ctx context.Context, c *backend.Conn, known []string, names []byte) {
	var all []string
	if names == nil || json.Unmarshal(names, &all) != nil {
		return
	}
	var fresh []string
	for _, name := range all {
		if key := userVarKey(name); !slices.Contains(known, key) {
			fresh = append(fresh, key)
		}
	}
	if len(fresh) == 0 {
		return
	}
	res, err := c.Exec(ctx, "SELECT "+strings.Join(fresh, ", "))
	if err != nil || len(res.Rows) != 1 || len(res.Rows[0]) != len(fresh) {
		return
	}
	for i, key := range fresh {
		s.recordVar(key, &res.Fields[i], res.Rows[0][i])
	}
}
