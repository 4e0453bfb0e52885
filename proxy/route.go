package proxy

import (
	"context"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/wire"
)

// planFor returns the routing plan of a statement on a sharded schema,
// from the cache when the same text was planned before.
func (s *Session) planFor(sc *schema, st ast.StmtNode, text string, cacheable bool) (*router.Plan, error) {
	if cacheable {
		if p := sc.plans.get(text); p != nil {
			return p, nil
		}
	}
	p, err := sc.routing.Plan(st)
	if err != nil {
		return nil, err
	}
	if cacheable {
		sc.plans.put(text, p)
	}
	return p, nil
}

// execRoute runs a bound route with text statements and answers the client.
func (s *Session) execRoute(ctx context.Context, sc *schema, rt *router.Route, params []router.Value, more bool) error {
	read := rt.Read && !rt.Primary
	if len(rt.Targets) == 1 {
		t := rt.Targets[0]
		sql, err := t.Inline(params)
		if err != nil {
			return err
		}
		if err := s.execOnShard(ctx, sc, t.Shard, sql, read, more); err != nil {
			return err
		}
		s.noteInsertID(rt)
		return nil
	}
	if rt.Kind == router.KindSelect && !rt.Broadcast {
		return errorf(erNotSupported, "this SELECT reaches %d shards and merging their rows is not supported yet; add the shard key to the WHERE clause", len(rt.Targets))
	}
	return s.execWriteEverywhere(ctx, sc, rt, params, more)
}

// execWriteEverywhere runs a write on each target and answers with one OK:
// affected rows added up for a scatter, one shard's count for a broadcast
// (every shard applied the same change).
func (s *Session) execWriteEverywhere(ctx context.Context, sc *schema, rt *router.Route, params []router.Value, more bool) error {
	var total wire.OK
	for i, t := range rt.Targets {
		sql, err := t.Inline(params)
		if err != nil {
			return err
		}
		c, err := s.acquire(ctx, sc, t.Shard, false)
		if err != nil {
			return err
		}
		res, err := c.Exec(ctx, sql)
		s.release(c, 0)
		if err != nil {
			return err
		}
		if rt.Broadcast {
			if i == 0 {
				total = res.OK
			}
			continue
		}
		total.AffectedRows += res.OK.AffectedRows
		total.Warnings += res.OK.Warnings
		if total.LastInsertID == 0 {
			total.LastInsertID = res.OK.LastInsertID
		}
	}
	total.Info = nil
	if rt.InsertID != 0 {
		total.LastInsertID = rt.InsertID
	}
	s.noteInsertID(rt)
	if total.LastInsertID != 0 {
		s.lastInsertID = total.LastInsertID
	}
	return s.okPacket(total, more)
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
	v := &infoSchemaFinder{}
	st.Accept(v)
	return v.found
}

type infoSchemaFinder struct{ found bool }

func (v *infoSchemaFinder) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok && strings.EqualFold(t.Schema.O, "information_schema") {
		v.found = true
	}
	return n, v.found
}

func (v *infoSchemaFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
