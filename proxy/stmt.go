package proxy

import (
	"context"
	"encoding/binary"
	"errors"
	"unique"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/backend"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// clientStmt is a statement the client prepared. The proxy gives it its own
// id and prepares the text lazily on each backend connection that runs it.
type clientStmt struct {
	id         uint32
	sql        string
	kind       string // statementKind(sql), for the metrics of every execute
	backendSQL string
	sc         *schema
	shard      int
	read       bool
	infoSchema bool // string parameters naming the schema are translated
	params     int
	paramDefs  [][]byte
	columnDefs [][]byte
	types      []wire.ParamType // from the last execute that sent them
	longData   map[int][]byte
	plan       *router.Plan // routing on a sharded schema; nil: the default shard
	merge      *mergeSlot   // the plan's merge, when it reaches several shards
	table      string       // an INSERT's table, for its id sequence
	// sessionValues: the text calls functions the proxy answers from the
	// session (LAST_INSERT_ID(), @@warning_count), whose values change
	// between executions.
	sessionValues bool
	leaves        backendValues // read from the backend after each execution
	// keepsDiagnostics: no tables (Session.keepsDiagnostics).
	keepsDiagnostics bool
	// backendText keeps backendSQL interned while the statement lives:
	// sessions preparing the same text then share one string, and a backend
	// connection's lookup of its prepared statement (backend.Conn.Prepare)
	// compares pointers instead of the whole text.
	backendText unique.Handle[string]
	// runsAsText: a statement the proxy runs itself (SET, USE, transaction
	// brackets, KILL), each execution as text with its values inlined.
	runsAsText bool
	returning  bool // INSERT or DELETE ... RETURNING on a sharded schema, run as text
	commits    bool // DDL: commitsImplicitly
}

func (s *Session) handleStmtPrepare(sql string) error {
	ctx := s.beginStatement(sql)
	defer s.endStatement()
	st, err := s.prepare(ctx, sql)
	if err != nil {
		var gone clientGone
		if errors.As(err, &gone) {
			return err
		}
		return s.writeError(toWireError(s.interrupted(ctx, err)))
	}
	s.nextStmtID++
	st.id = s.nextStmtID
	s.stmts[st.id] = st

	b := append(s.scratch[:0], wire.OKHeader)
	b = binary.LittleEndian.AppendUint32(b, st.id)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(st.columnDefs)))
	b = binary.LittleEndian.AppendUint16(b, uint16(st.params))
	b = append(b, 0, 0, 0)
	if err := s.write(b); err != nil {
		return err
	}
	for _, defs := range [][][]byte{st.paramDefs, st.columnDefs} {
		if len(defs) == 0 {
			continue
		}
		for _, d := range defs {
			if err := s.write(s.logicalField(d, []byte(st.sc.shards[st.shard].db), relayOptions{logical: st.sc.name})); err != nil {
				return err
			}
		}
		if err := s.write(wire.AppendEOF(s.scratch[:0], 0, s.status())); err != nil {
			return err
		}
	}
	return nil
}

// prepare routes the statement and prepares it on its backend once, to
// learn its parameters and result columns.
func (s *Session) prepare(ctx context.Context, sql string) (*clientStmt, error) {
	st := &clientStmt{sql: sql, backendSQL: sql, kind: statementKind(sql)}
	node, err := s.parseOne(sql)
	if err != nil {
		sc, werr := s.currentSchema()
		if werr != nil {
			return nil, errorf(erParse, "You have an error in your SQL syntax: %s", err.Error())
		}
		if !sc.passThrough() {
			if r, ok := s.returningStatement(sql); ok {
				return s.prepareReturning(ctx, sc, r, sql)
			}
			// As for a query: MariaDB judges the syntax.
			return nil, s.unroutable(ctx, sc, sql, err)
		}
		st.sc, st.shard = sc, sc.defaultShard
	} else {
		switch node.(type) {
		case *ast.SetStmt, *ast.UseStmt, *ast.BeginStmt, *ast.CommitStmt, *ast.RollbackStmt,
			*ast.KillStmt, *ast.SavepointStmt, *ast.ReleaseSavepointStmt, *ast.ShowStmt,
			*ast.LockTablesStmt, *ast.UnlockTablesStmt, *ast.CreateDatabaseStmt:
			return s.prepareAsText(node, sql)
		}
		sc, werr := s.targetSchema(node)
		if werr != nil {
			return nil, werr
		}
		st.sc, st.shard = sc, sc.defaultShard
		rw := newRewriter(s, sc, sc.shards[st.shard].db)
		if st.backendSQL, err = rw.apply(node, sql); err != nil {
			return nil, err
		}
		st.sessionValues = rw.needsSessionValues()
		st.commits = commitsImplicitly(node)
		st.leaves = valuesLeftOnBackend(node)
		st.keepsDiagnostics = leavesDiagnostics(node)
		st.read = isRead(node) && !hasPrimaryHint(sql) && !st.leaves.pins
		st.infoSchema = rw.infoSchema
		if !sc.passThrough() && !st.infoSchema {
			// Plan from a fresh parse: the rewriter changed this AST.
			fresh, err := s.sqlParser().ParseOneStmt(sql, "", "")
			if err != nil {
				return nil, err
			}
			planText := sql
			if listed, ok, err := s.listInsertColumns(ctx, sc, fresh); err != nil {
				return nil, err
			} else if ok {
				planText = listed
			}
			if st.plan, st.merge, err = s.planFor(sc, fresh, planText, !rw.needsSessionValues()); err != nil {
				if ins, ierr := s.inSubqueries(ctx, sc, fresh); isNotSupported(err) && ierr == nil && len(ins) > 0 {
					// Its IN subquery runs first, each execution, with
					// the values inlined.
					return s.prepareAsText(node, sql)
				}
				return nil, err
			}
			if st.merge == nil {
				st.merge = &mergeSlot{}
			}
			st.table = insertTable(fresh)
		}
	}
	st.backendText = unique.Make(st.backendSQL)
	st.backendSQL = st.backendText.Value()
	s.keepsDiagnostics = st.keepsDiagnostics // preparing is no more than running
	c, err := s.acquire(ctx, st.sc, st.shard, st.read)
	if err != nil {
		return nil, err
	}
	defer s.release(c, 0)
	bst, err := c.Prepare(ctx, st.backendSQL)
	if err != nil {
		return nil, err
	}
	st.params, st.paramDefs, st.columnDefs = bst.Params, bst.ParamDefs, bst.ColumnDefs
	return st, nil
}

// prepareAsText prepares a statement the proxy runs itself. MariaDB
// prepares them, and connectors send them so: go-sql-driver prepares
// SET time_zone = ? when given an argument, PHP's PDO every query unless
// it emulates. No result columns are announced, as MariaDB announces none
// for SHOW WARNINGS: each execution's result carries its own.
func (s *Session) prepareAsText(node ast.StmtNode, sql string) (*clientStmt, error) {
	sc, werr := s.anySchema()
	if werr != nil {
		return nil, werr
	}
	st := &clientStmt{sql: sql, kind: statementKind(sql), sc: sc, shard: sc.defaultShard, runsAsText: true}
	st.params = sqlparse.NumberParams(node)
	for range st.params {
		st.paramDefs = append(st.paramDefs, paramDef)
	}
	return st, nil
}

// paramDef describes a parameter of a statement the proxy runs itself.
var paramDef = wire.AppendField(nil, &wire.Field{Catalog: []byte("def"), Name: []byte("?"),
	Type: wire.TypeVarString, Charset: wire.CharsetBinary, Flags: wire.FlagBinary})

// executeAsText runs a statement prepareAsText prepared, its values
// inlined, as the same text sent as a query runs; result rows go out in
// the binary protocol.
func (s *Session) executeAsText(ctx context.Context, st *clientStmt, params []wire.Param) error {
	s.binaryRows = true
	defer func() { s.binaryRows = false }()
	if st.returning {
		r, ok := s.returningStatement(st.sql)
		if !ok {
			return errorf(erUnknown, "the prepared statement no longer reads as INSERT or DELETE ... RETURNING in this session's sql_mode; prepare it again")
		}
		var err error
		if r.text, r.st, err = s.inlineParams(r.text, r.st, params); err != nil {
			return err
		}
		return s.execReturning(ctx, st.sc, r)
	}
	// A prepared BEGIN or COMMIT (sysbench prepares both) is read-only
	// once parsed: every session shares it, as for a query's.
	node := s.srv.control.get(st.sql)
	if node == nil {
		var err error
		if node, err = s.parseOne(st.sql); err != nil {
			return err
		}
		s.srv.control.remember(st.sql, node)
	}
	text, node, err := s.inlineParams(st.sql, node, params)
	if err != nil {
		return err
	}
	return s.execStmt(ctx, node, text, false)
}

// inlineParams writes an execution's values into the text of statement
// node, and parses the result.
func (s *Session) inlineParams(sql string, node ast.StmtNode, params []wire.Param) (string, ast.StmtNode, error) {
	if len(params) == 0 {
		return sql, node, nil
	}
	values := make([]router.Value, len(params))
	for i := range params {
		values[i] = routerValue(&params[i])
	}
	text, err := sqlparse.InlineParams(sql, node, values)
	if err != nil {
		return "", nil, err
	}
	node, err = s.sqlParser().ParseOneStmt(text, "", "")
	return text, node, err
}

func (s *Session) stmtByID(data []byte) *clientStmt {
	if len(data) < 4 {
		return nil
	}
	return s.stmts[binary.LittleEndian.Uint32(data)]
}

// handleStmtExecute runs st, the statement pkt (a COM_STMT_EXECUTE) names.
func (s *Session) handleStmtExecute(st *clientStmt, pkt []byte) error {
	var args execArgs
	if st.relaysValues() && st.longData == nil {
		args.packet = s.rebindExecute(st, pkt)
	}
	if args.packet == nil {
		exec, err := wire.ParseExecuteInto(s.execParams, pkt, st.params, st.types, st.longData)
		s.execParams = exec.Params
		st.longData = nil
		if err != nil {
			return s.writeError(errorf(erParse, "malformed COM_STMT_EXECUTE: %v", err))
		}
		if exec.TypesSent {
			st.types = exec.ParamTypes()
		}
		args.params = exec.Params
	}
	var err error
	ctx := s.beginStatement(st.sql)
	defer s.endStatement()
	s.lastFailed = false
	s.keepsDiagnostics = st.keepsDiagnostics
	if st.commits {
		err = s.commitImplicitly(ctx)
	}
	switch {
	case err != nil:
	case st.runsAsText:
		err = s.executeAsText(ctx, st, args.params)
	case st.plan != nil:
		err = s.executeRouted(ctx, st, args.params)
	default:
		err = s.executeOnBackend(ctx, st, args)
	}
	if err == nil || err == errRelayed {
		return nil
	}
	var gone clientGone
	if errors.As(err, &gone) {
		return err
	}
	return s.writeError(toWireError(s.interrupted(ctx, err)))
}

// execArgs are an execution's values: decoded, or left in the client's
// packet, rebound for the backend (Session.rebindExecute).
type execArgs struct {
	params []wire.Param
	packet []byte
}

// relaysValues reports whether the statement's values go to the backend
// as the client sent them: it runs there as prepared, unchanged.
func (st *clientStmt) relaysValues() bool {
	return st.plan == nil && !st.runsAsText && !st.sessionValues && !st.infoSchema
}

// rebindExecute returns the client's execute as the backend takes it, its
// values not decoded (nil: decode them, the packet cannot be relayed). The
// statement ID is the backend's to set (wire.SetExecuteStmtID).
func (s *Session) rebindExecute(st *clientStmt, pkt []byte) []byte {
	cmd, sent, ok := wire.RebindExecute(s.execPacket[:0], pkt, 0, st.params, st.types)
	if !ok {
		return nil
	}
	s.execPacket = cmd
	if sent != nil {
		st.types = wire.ParamTypesOf(sent, st.types)
	}
	return cmd
}

func (s *Session) executeOnBackend(ctx context.Context, st *clientStmt, args execArgs) error {
	if !st.sessionValues {
		return s.executePrepared(ctx, st, st.shard, st.backendSQL, st.read, args, 0, false)
	}
	_, sql, err := s.withSessionValues(st, st.sc.shards[st.shard].db, false)
	if err != nil {
		return err
	}
	return s.executePrepared(ctx, st, st.shard, sql, st.read, args, 0, true)
}

// withSessionValues parses a prepared statement again and puts in this
// execution's session values: the text prepared once holds the values of
// its prepare. functionsOnly leaves schema names for the router to map.
func (s *Session) withSessionValues(st *clientStmt, physical string, functionsOnly bool) (ast.StmtNode, string, error) {
	node, err := s.sqlParser().ParseOneStmt(st.sql, "", "")
	if err != nil {
		return nil, "", err
	}
	rw := newRewriter(s, st.sc, physical)
	rw.functionsOnly = functionsOnly
	text, err := rw.apply(node, st.sql)
	if err != nil {
		return nil, "", err
	}
	node.SetText(nil, text)
	return node, text, nil
}

// executeRouted binds a prepared statement's values to its plan. One target
// runs as a backend prepared statement (binary rows relay unchanged);
// several run as text with the values inlined.
func (s *Session) executeRouted(ctx context.Context, st *clientStmt, params []wire.Param) error {
	values := make([]router.Value, len(params))
	for i := range params {
		values[i] = routerValue(&params[i])
	}
	plan, merge, text := st.plan, st.merge, st.sql
	if st.sessionValues {
		node, withValues, err := s.withSessionValues(st, "", true)
		if err != nil {
			return err
		}
		// Planned for this execution only: no slot keeps its merge plan.
		if plan, merge, err = s.planFor(st.sc, node, withValues, false); err != nil {
			return err
		}
		text = withValues
	}
	rt, err := s.bind(ctx, st.sc, plan, st.table, values)
	if err != nil {
		return err
	}
	if rt.Copy != nil {
		return s.execCopyInlined(ctx, st.sc, text, values)
	}
	if len(rt.Targets) != 1 {
		s.route = routeScatter
		if rt.Broadcast {
			s.route = routeBroadcast
		}
		if rt.Kind == router.KindSelect && !rt.Broadcast {
			return s.execMerge(ctx, st.sc, mergeSource{slot: merge, text: text}, values, true, false)
		}
		return s.execWriteEverywhere(ctx, st.sc, rt, values, false, merge)
	}
	s.route = routeSingle
	t := rt.Targets[0]
	ordered := make([]wire.Param, len(t.Params))
	for k, i := range t.Params {
		ordered[k] = params[i]
	}
	s.noteInsertID(rt)
	return s.executePrepared(ctx, st, t.Shard, t.SQL, rt.Read && !rt.Primary, execArgs{params: ordered}, rt.InsertID, st.sessionValues)
}

// executePrepared runs sql as a prepared statement on shard's connection;
// oneOff deallocates it there afterwards (a text holding one execution's
// values).
func (s *Session) executePrepared(ctx context.Context, st *clientStmt, shard int, sql string, read bool, args execArgs, insertID uint64, oneOff bool) error {
	c, err := s.acquire(ctx, st.sc, shard, read)
	if err != nil {
		return err
	}
	bst, err := c.Prepare(ctx, sql)
	if err != nil {
		s.release(c, 0)
		return err
	}
	params := args.params
	if st.infoSchema {
		physical := st.sc.shards[st.shard].db
		for i := range params {
			if v, ok := physicalSchemaValue(string(params[i].Value), st.sc.name, physical); ok && !params[i].Null {
				params[i].Value = []byte(v)
			}
		}
	}
	command := args.packet
	if command != nil {
		wire.SetExecuteStmtID(command, bst.ID)
	} else {
		command = wire.AppendExecute(s.scratch[:0], bst.ID, params)
	}
	warnings, err := s.relay(ctx, c, relayOptions{
		command: command,
		stmt:    bst, clientDefs: &st.columnDefs,
		logical: st.sc.name, physical: st.sc.shards[shard].db, insertID: insertID,
	})
	if st.leaves.left() {
		s.takeBackendValues(ctx, c, st.leaves, err, warnings)
	}
	if oneOff {
		c.ForgetStmt(sql)
	}
	s.release(c, warnings)
	return err
}

func (s *Session) handleStmtSendLongData(data []byte) {
	st := s.stmtByID(data)
	if st == nil || len(data) < 6 {
		return // no response is defined for this command
	}
	param := int(binary.LittleEndian.Uint16(data[4:]))
	if param >= st.params {
		return
	}
	if st.longData == nil {
		st.longData = map[int][]byte{}
	}
	st.longData[param] = append(st.longData[param], data[6:]...)
}

func (s *Session) handleStmtClose(data []byte) {
	if st := s.stmtByID(data); st != nil {
		delete(s.stmts, st.id)
	}
}

func (s *Session) handleStmtReset(data []byte) error {
	st := s.stmtByID(data)
	if st == nil {
		return s.writeError(errorf(erUnknownStmtHandler, "Unknown prepared statement handler given to RESET"))
	}
	st.longData = nil
	return s.writeOK(wire.OK{})
}

// handleFieldList serves the deprecated COM_FIELD_LIST from the default shard.
func (s *Session) handleFieldList(data []byte) error {
	sc, werr := s.currentSchema()
	if werr != nil {
		return s.writeError(werr)
	}
	ctx := s.beginStatement("FIELD LIST")
	defer s.endStatement()
	c, err := s.acquire(ctx, sc, sc.defaultShard, false)
	if err != nil {
		return s.writeError(toWireError(err))
	}
	defer s.release(c, 0)
	stop := watch(ctx, c)
	defer stop()
	if err := c.WriteCommand(backend.ComFieldList, data); err != nil {
		return s.writeError(toWireError(err))
	}
	physical := []byte(sc.shards[sc.defaultShard].db)
	for {
		p, err := c.ReadPacket()
		if err != nil {
			return s.writeError(toWireError(err))
		}
		if p[0] == wire.ErrHeader || wire.IsEOF(p) {
			return s.write(p)
		}
		if err := s.write(s.logicalField(p, physical, relayOptions{logical: sc.name})); err != nil {
			return err
		}
	}
}

// routerValue converts a bound parameter to a shard-key value.
func routerValue(p *wire.Param) router.Value {
	if p.Null {
		return router.NullValue()
	}
	switch p.Type {
	case wire.TypeTiny, wire.TypeShort, wire.TypeLong, wire.TypeLongLong, wire.TypeInt24, wire.TypeYear:
		if p.Unsigned {
			if u, ok := p.Uint(); ok {
				return router.UintValue(u)
			}
		} else if i, ok := p.Int(); ok {
			return router.IntValue(i)
		}
	case wire.TypeFloat, wire.TypeDouble:
		if f, ok := p.Float(); ok {
			return router.FloatValue(f)
		}
	case wire.TypeDecimal, wire.TypeNewDecimal:
		return router.DecimalValue(string(p.Value))
	case wire.TypeDate, wire.TypeDatetime, wire.TypeTimestamp, wire.TypeTime:
		return router.StringValue(p.Text())
	case wire.TypeVarString, wire.TypeString, wire.TypeVarchar, wire.TypeEnum, wire.TypeSet, wire.TypeJSON:
		// Characters, as MariaDB takes a string parameter (in the
		// connection's character set): inlined into text, a string
		// literal, not bytes. BLOB-typed parameters stay bytes.
		return router.StringValue(string(p.Value))
	}
	return router.BytesValue(p.Value)
}
