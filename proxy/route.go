package proxy

import (
	"bytes"
	"context"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// planFor returns the routing plan of a statement on a sharded schema,
// from the cache when the same text was planned before.
// The returned slot keeps the text's merge plan; nil when not cached.
func (s *Session) planFor(sc *schema, st ast.StmtNode, text string, cacheable bool) (*router.Plan, *mergeSlot, error) {
	if cacheable {
		if c := s.plans(sc).get(text); c != nil && c.plan != nil {
			return c.plan, &c.merge, nil
		}
	}
	p, err := sc.routing.Plan(st)
	if err != nil {
		return nil, nil, err
	}
	if cacheable {
		c := &cachedPlan{plan: p, table: insertTable(st), commits: commitsImplicitly(st)}
		s.plans(sc).put(text, c)
		return p, &c.merge, nil
	}
	return p, nil, nil
}

// execCached runs a statement whose text was planned before.
func (s *Session) execCached(ctx context.Context, sc *schema, c *cachedPlan, text string) error {
	if c.commits {
		if err := s.commitImplicitly(ctx); err != nil {
			return err
		}
	}
	s.keepsDiagnostics = c.keepsDiagnostics
	if c.plan == nil {
		return s.execOnShardOpts(ctx, sc, sc.defaultShard, text, c.read, relayOptions{
			logical: sc.name, physical: sc.shards[sc.defaultShard].db,
		})
	}
	rt, err := s.bind(ctx, sc, c.plan, c.table, nil)
	if err != nil {
		return err
	}
	return s.execRoute(ctx, sc, rt, nil, false, mergeSource{slot: &c.merge, text: text})
}

// bind routes one execution of a plan, reserving auto_increment ids from
// the schema's sequence when the INSERT needs them, and moving the
// sequence past ids the INSERT gives itself.
func (s *Session) bind(ctx context.Context, sc *schema, plan *router.Plan, table string, params []router.Value) (*router.Route, error) {
	if plan.AutoIncrement == nil {
		return plan.Bind(params)
	}
	column := plan.AutoIncrement.Column
	rt, err := plan.BindIDs(params, func(n int) (uint64, error) {
		return sc.ids.next(ctx, table, column, n, s)
	})
	if err == nil && rt.GivenID > 0 {
		err = sc.ids.pass(ctx, table, column, rt.GivenID, s)
	}
	return rt, err
}

// insertTable names the table an INSERT writes, for its id sequence.
func insertTable(st ast.StmtNode) string {
	ins, ok := st.(*ast.InsertStmt)
	if !ok || ins.Table == nil || ins.Table.TableRefs == nil {
		return ""
	}
	if ts, ok := ins.Table.TableRefs.Left.(*ast.TableSource); ok {
		if tn, ok := ts.Source.(*ast.TableName); ok {
			return tn.Name.O
		}
	}
	return ""
}

// execRoute runs a bound route with text statements and answers the client.
func (s *Session) execRoute(ctx context.Context, sc *schema, rt *router.Route, params []router.Value, more bool, src mergeSource) error {
	if werr := s.refuseShardedMode(sc); werr != nil {
		return werr
	}
	if rt.Load != nil {
		s.route = routeScatter
		return s.execLoad(ctx, sc, rt, more)
	}
	if rt.Copy != nil {
		s.route = routeScatter
		return s.execCopy(ctx, sc, rt, more)
	}
	read := rt.Read && !rt.Primary
	s.route = routeScatter
	if rt.Broadcast {
		s.route = routeBroadcast
	}
	if len(rt.Targets) == 1 {
		s.route = routeSingle
		t := rt.Targets[0]
		sql, err := t.Inline(params)
		if err != nil {
			return err
		}
		s.noteInsertID(rt)
		return s.execOnShardOpts(ctx, sc, t.Shard, sql, read, relayOptions{
			more: more, logical: sc.name, physical: sc.shards[t.Shard].db, insertID: rt.InsertID,
			leaves: src.leaves,
		})
	}
	if rt.Kind == router.KindSelect && !rt.Broadcast {
		return s.execMerge(ctx, sc, src, params, s.binaryRows, more) // binary: a prepared statement run as text
	}
	return s.execWriteEverywhere(ctx, sc, rt, params, more, src.slot)
}

// execWriteEverywhere runs a write on each target and answers with one OK:
// affected rows added up for a scatter, one shard's count for a broadcast
// (every shard applied the same change).
// slot keeps the merge plan of an ordered LIMIT's rows (WriteLimit.Rows).
func (s *Session) execWriteEverywhere(ctx context.Context, sc *schema, rt *router.Route, params []router.Value, more bool, slot *mergeSlot) error {
	warnings := s.newDiagnostics()
	var ok wire.OK
	err := s.writeWhole(ctx, rt.Kind != router.KindDDL, len(rt.Targets), func(undo *statementUndo) (err error) {
		ok, err = s.writeEverywhere(ctx, sc, rt, params, warnings, slot, undo)
		return err
	})
	if err != nil {
		return err
	}
	s.keepWarnings(warnings)
	return s.okPacket(ok, more)
}

func (s *Session) writeEverywhere(ctx context.Context, sc *schema, rt *router.Route, params []router.Value, warnings *diagnostics, slot *mergeSlot, undo *statementUndo) (wire.OK, error) {
	var total wire.OK
	var left uint64     // what the LIMIT leaves (rt.Limit)
	var shares []uint64 // per shard, its LIMIT, when the rows are ordered
	if rt.Limit != nil {
		left = rt.Limit.Count(params)
		if rt.Limit.Rows != "" {
			var err error
			if shares, err = s.limitShares(ctx, sc, rt.Limit, params, slot); err != nil {
				return total, err
			}
		}
	}
	for i, t := range rt.Targets {
		if shares != nil {
			left = shares[t.Shard]
		}
		var sql string
		var err error
		switch {
		case rt.Limit == nil:
			sql, err = t.Inline(params)
		case left == 0:
			continue // the shards before used the LIMIT up, or hold none of the first rows
		default:
			sql, err = rt.Limit.Inline(t.Shard, params, left)
		}
		if err != nil {
			return total, err
		}
		c, err := s.writeConn(ctx, sc, t.Shard, undo)
		if err != nil {
			return total, err
		}
		res, err := c.Exec(ctx, sql)
		if err == nil && (!rt.Broadcast || i == 0) {
			warnings.collect(ctx, c, res.OK.Warnings)
		}
		s.release(c, 0)
		if err != nil {
			return total, err
		}
		if rt.Broadcast {
			if i == 0 {
				total = res.OK
			}
			continue
		}
		total.AffectedRows += res.OK.AffectedRows
		if rt.Limit != nil {
			left -= min(left, rowsMatched(res.OK))
		}
		if total.LastInsertID == 0 {
			total.LastInsertID = res.OK.LastInsertID
		}
	}
	total.Info = nil
	total.Warnings = warnings.total()
	if rt.InsertID != 0 {
		total.LastInsertID = rt.InsertID
	}
	s.noteInsertID(rt)
	if total.LastInsertID != 0 {
		s.lastInsertID = total.LastInsertID
	}
	return total, nil
}

// limitShares runs the SELECT ... FOR UPDATE of the rows an ordered UPDATE
// or DELETE changes across shards and returns, per shard, how many of them
// it holds: that shard's LIMIT.
func (s *Session) limitShares(ctx context.Context, sc *schema, l *router.WriteLimit, params []router.Value, slot *mergeSlot) ([]uint64, error) {
	mp, err := s.mergePlanFor(sc, mergeSource{slot: slot, text: l.Rows, shares: true})
	if err != nil {
		return nil, err
	}
	if params, err = mp.engine.ShardValues(params[l.RowsFrom:]); err != nil {
		return nil, err
	}
	rt, err := mp.shard.Bind(params)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss := &shardSet{s: s, sc: sc, rt: rt, params: params, maxRows: s.topo().cfg.MaxMergeRows, warnings: s.newDiagnostics(), inOrder: true}
	rows, err := mp.engine.ExecuteEnv(ctx, &engine.Env{Shards: ss, Params: params})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	shares := make([]uint64, len(sc.shards))
	for _, t := range rt.Targets {
		row, err := rows.Next()
		if err != nil {
			return nil, err
		}
		shares[t.Shard], _ = strconv.ParseUint(string(row[0]), 10, 64)
	}
	return shares, nil
}

// rowsMatched is how many rows an UPDATE or DELETE found, which its LIMIT
// counts: an UPDATE's OK packet says it ("Rows matched: 3  Changed: 1
// Warnings: 0"), as its affected rows count only the rows it changed.
func rowsMatched(ok wire.OK) uint64 {
	const prefix = "Rows matched: "
	if info := ok.Info; bytes.HasPrefix(info, []byte(prefix)) {
		var n uint64
		for _, c := range info[len(prefix):] {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + uint64(c-'0')
		}
		return n
	}
	return ok.AffectedRows
}

// noteInsertID records an id the proxy generated, as LAST_INSERT_ID() shows.
func (s *Session) noteInsertID(rt *router.Route) {
	if rt.InsertID != 0 {
		s.lastInsertID = rt.InsertID
	}
}

// readsInformationSchema reports a statement about metadata, which the
// default shard answers with names translated.
func readsInformationSchema(st ast.StmtNode) bool {
	return sqlparse.Contains(st, func(n ast.Node) bool {
		t, ok := n.(*ast.TableName)
		return ok && strings.EqualFold(t.Schema.O, "information_schema")
	})
}
