package proxy

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/wire"
)

// mergePlan is how a SELECT that reaches several shards runs: the engine's
// operator tree, and the routing of the statement every shard runs (the
// client's, with ORDER BY, LIMIT and partial aggregates pushed down).
type mergePlan struct {
	engine *engine.Plan
	shard  *router.Plan
}

// mergeSlot keeps a statement text's merge plan, made the first time the
// text reaches several shards and reused by every later execution.
type mergeSlot struct{ plan atomic.Pointer[mergePlan] }

// mergeSource is what a merge plan is made from: the statement's AST when
// the caller has it, else its text, parsed again on first need.
type mergeSource struct {
	slot *mergeSlot // nil: plan every time (the text is not cached)
	stmt ast.StmtNode
	text string
	// leaves: what a parsed statement leaves on its connection
	// (valuesLeftOnBackend); a cached one leaves nothing.
	leaves backendValues
	// shares: the text selects the rows of an ordered LIMIT write
	// (engine.PlanShares), not rows for the client.
	shares bool
}

// mergePlanFor returns the merge plan of a statement, planning it once.
func (s *Session) mergePlanFor(sc *schema, src mergeSource) (*mergePlan, error) {
	if src.slot != nil {
		if p := src.slot.plan.Load(); p != nil {
			return p, nil
		}
	}
	st := src.stmt
	if st == nil {
		var err error
		if st, err = s.sqlParser().ParseOneStmt(src.text, "", ""); err != nil {
			return nil, errorf(erParse, "You have an error in your SQL syntax: %s", err.Error())
		}
	}
	var ep *engine.Plan
	var err error
	switch x := st.(type) {
	case *ast.SelectStmt:
		if src.shares {
			ep, err = engine.PlanShares(x)
		} else {
			ep, err = engine.PlanSelectKeyed(x, sc.routing.ShardKeyTest(x))
		}
	case *ast.SetOprStmt:
		ep, err = engine.PlanUnion(x)
	default:
		err = errorf(erNotSupported, "this statement reaches several shards and only a SELECT's or a UNION ALL's rows can be merged; add the shard key to the WHERE clause")
	}
	if err != nil {
		return nil, err
	}
	rp, err := sc.routing.Plan(ep.ShardStmt)
	if err != nil {
		return nil, err
	}
	p := &mergePlan{engine: ep, shard: rp}
	if src.slot != nil {
		src.slot.plan.Store(p)
	}
	return p, nil
}

// execMerge runs a SELECT on several shards and streams the merged result
// to the client, as text rows or, for a prepared statement, binary rows.
func (s *Session) execMerge(ctx context.Context, sc *schema, src mergeSource, params []router.Value, binary, more bool) error {
	if werr := s.refuseShardedMode(sc); werr != nil {
		return werr
	}
	mp, err := s.mergePlanFor(sc, src)
	if err != nil {
		return err
	}
	if params, err = mp.engine.ShardValues(params); err != nil {
		return err
	}
	rt, err := mp.shard.Bind(params)
	if err != nil {
		return err
	}
	// The session's statement context outlives the statement; what the
	// merge starts (shard readers) ends with it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	maxRows := s.topo().cfg.MaxMergeRows
	// A locking read (FOR UPDATE, LOCK IN SHARE MODE) takes its locks shard
	// after shard, as ordered writes do (shardSet.inOrder).
	locking := rt.Kind == router.KindSelect && !rt.Read
	shards := &shardSet{s: s, sc: sc, rt: rt, params: params, maxRows: maxRows, warnings: s.newDiagnostics(), inOrder: locking}
	// Concatenation relays batches as the shards send them; that needs a
	// connection per shard, which a transaction's or a kept connection
	// shares between the shards of its node.
	if _, plain := mp.engine.Root.(*engine.Concat); plain && !binary && !s.inTx && s.autocommit && len(s.pinned) == 0 {
		return s.relayConcat(ctx, shards, more)
	}
	rows, err := mp.engine.ExecuteEnv(ctx, &engine.Env{Shards: shards, Params: params, MaxSortRows: maxRows})
	if err != nil {
		return err
	}
	defer rows.Close()
	fields := rows.Fields()
	if err := s.writeFields(fields); err != nil {
		return err
	}
	sent := uint64(0)
	for {
		row, err := rows.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// An error packet may replace the next row: the client sees
			// the statement fail, never a result cut short.
			return err
		}
		sent++
		var p []byte
		if binary {
			if p, err = wire.AppendBinaryRow(s.scratch[:0], fields, row); err != nil {
				return err
			}
		} else {
			p = wire.AppendTextRow(s.scratch[:0], row)
		}
		s.scratch = p[:0]
		if err := s.write(p); err != nil {
			return err
		}
	}
	return s.endMerged(shards, sent, more)
}

// endMerged sends the EOF that ends a merged result of rows rows, with the
// warnings the shards reported.
func (s *Session) endMerged(ss *shardSet, rows uint64, more bool) error {
	s.foundRows = rows
	s.keepWarnings(ss.warnings)
	return s.write(wire.AppendEOF(s.scratch[:0], ss.warnings.total(), s.patchStatus(0, more)))
}

// relayConcat answers a SELECT whose rows need no merge (no order, limit
// or aggregate): the shards' row packets go to the client as they arrive,
// from whichever shard has some, without being decoded. The engine's
// Concat would re-encode every row and read the shards one after another.
func (s *Session) relayConcat(ctx context.Context, ss *shardSet, more bool) error {
	n := len(ss.rt.Targets)
	ss.fanIn = make(chan *rowBatch, n*batchesPerShard)
	opened, err := ss.Open(ctx, "")
	if err != nil {
		return err
	}
	streams := make([]*shardStream, n)
	for i, st := range opened {
		streams[i] = st.(*shardStream) // each shard has its own connection: every one streams
	}
	defer func() {
		for _, st := range streams {
			st.Close()
		}
	}()
	fields := streams[0].fields
	for i, st := range streams[1:] {
		if len(st.fields) != len(fields) {
			return errorf(erUnknown, "shards disagree on the result columns: shard 0 returned %d, shard %d returned %d", len(fields), i+1, len(st.fields))
		}
	}
	if err := s.writeFields(fields); err != nil {
		return err
	}
	sent := uint64(0)
	for live := n; live > 0; {
		b := <-ss.fanIn
		sent += uint64(len(b.ends))
		start := 0
		for _, end := range b.ends {
			if err := s.write(b.buf[start:end]); err != nil {
				return err
			}
			start = end
		}
		// Every batch goes back to its stream, the last one too: Close
		// returns a stream's batches to the pool from there.
		err := b.err
		if b.eof {
			b.owner.ended = true
			live--
		}
		b.owner.free <- b
		if err != nil {
			return err
		}
	}
	return s.endMerged(ss, sent, more)
}

// writeFields sends a result's column count and definitions.
func (s *Session) writeFields(fields []wire.Field) error {
	s.rowCount = -1
	if err := s.write(s.appendColumnCount(s.scratch[:0], len(fields), true)); err != nil {
		return err
	}
	for i := range fields {
		if err := s.write(wire.AppendField(s.scratch[:0], &fields[i])); err != nil {
			return err
		}
	}
	return s.write(wire.AppendEOF(s.scratch[:0], 0, s.patchStatus(0, false)))
}
