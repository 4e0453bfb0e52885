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
		if st, err = s.parser.ParseOneStmt(src.text, "", ""); err != nil {
			return nil, errorf(erParse, "You have an error in your SQL syntax: %s", err.Error())
		}
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok {
		return nil, errorf(erNotSupported, "this statement reaches several shards and only a single SELECT's rows can be merged (UNION across shards is not supported); add the shard key to the WHERE clause")
	}
	ep, err := engine.PlanSelect(sel)
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
	mp, err := s.mergePlanFor(sc, src)
	if err != nil {
		return err
	}
	rt, err := mp.shard.Bind(params)
	if err != nil {
		return err
	}
	maxRows := s.topo().cfg.MaxMergeRows
	shards := &shardSet{s: s, sc: sc, rt: rt, params: params, maxRows: maxRows}
	rows, err := mp.engine.ExecuteEnv(ctx, &engine.Env{Shards: shards, Params: params, MaxSortRows: maxRows})
	if err != nil {
		return err
	}
	defer rows.Close()
	fields := rows.Fields()
	if err := s.write(wire.AppendLenEncInt(s.scratch[:0], uint64(len(fields)))); err != nil {
		return err
	}
	for i := range fields {
		if err := s.write(wire.AppendField(s.scratch[:0], &fields[i])); err != nil {
			return err
		}
	}
	if err := s.write(wire.AppendEOF(s.scratch[:0], 0, s.patchStatus(0, false))); err != nil {
		return err
	}
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
	return s.write(wire.AppendEOF(s.scratch[:0], 0, s.patchStatus(0, more)))
}
