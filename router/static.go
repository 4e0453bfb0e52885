package router

import (
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/sqlparse"
)

// static binds a statement whose text only varies by shard: the text for
// every shard and the single-shard and all-shard routes are built when
// planning, so Bind just resolves shards and returns a shared Route.
type static struct {
	s         *Schema
	routing   routing
	texts     []sqlparse.Query // per shard
	routes    []*Route         // routes[i]: shard i alone
	all       *Route           // every shard
	fixed     *Route           // the answer, when no parameter affects it
	keep      []*keyCheck      // UPDATE setting the shard key
	limit     *WriteLimit      // an UPDATE or DELETE with LIMIT, on several shards
	flags     Flags
	broadcast bool
}

// static builds the binder for routing r, or for every shard (broadcast).
func (pl *planner) static(r routing, broadcast bool) (*static, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	t, err := sqlparse.NewTemplate(pl.stmt, pl.schemas())
	if err == nil {
		err = checkParams(t.Params(), pl.plan.Params)
	}
	if err != nil {
		return nil, errorf(ErUnknown, "cannot rewrite the statement for the shards: %v", err)
	}
	st := &static{s: pl.s, routing: r, flags: pl.plan.Flags, broadcast: broadcast}
	n := pl.s.NumShards()
	st.texts = make([]sqlparse.Query, n)
	st.routes = make([]*Route, n)
	for i := range n {
		if i == 0 || t.UsesSchemas() {
			st.texts[i] = t.Expand(pl.s.dbs[i])
		} else {
			st.texts[i] = st.texts[0]
		}
		st.routes[i] = &Route{Flags: st.flags, Targets: []Target{{Shard: i, Query: st.texts[i]}}}
	}
	all := fullSet(n)
	st.all = st.route(all)
	return st, nil
}

// checkParams guards against a `?` the rewrite would lose track of.
func checkParams(got, want int) error {
	if got != want {
		return fmt.Errorf("the text has %d of the statement's %d parameters", got, want)
	}
	return nil
}

// route is static and finish, for statements with no further checks.
func (pl *planner) route(r routing, broadcast bool) (binder, error) {
	st, err := pl.static(r, broadcast)
	if err != nil {
		return nil, err
	}
	return st.finish(pl)
}

// finish resolves what planning can resolve; call once the checks are set.
func (st *static) finish(pl *planner) (*static, error) {
	switch {
	case st.broadcast:
		st.fixed = st.all
	case !st.routing.hasParams():
		r, err := st.resolve(nil)
		if err != nil {
			return nil, err
		}
		st.fixed = r
	}
	if st.fixed != nil {
		pl.plan.MultiShard = st.fixed.Scatter
	} else if m := st.routing.main; m != nil && len(st.routing.pinned) == 0 && m.alg.Shards() > 1 {
		_, point := m.pred.point()
		pl.plan.MultiShard = !point
	} else if len(st.routing.arms) > 0 {
		pl.plan.MultiShard = st.routing.arms[0].alg.Shards() > 1
	}
	return st, nil
}

func (st *static) bind(params []Value, _ IDSource) (*Route, error) {
	for _, k := range st.keep {
		if err := k.check(params); err != nil {
			return nil, err
		}
	}
	if st.fixed != nil {
		return st.fixed, nil
	}
	return st.resolve(params)
}

func (st *static) resolve(params []Value) (*Route, error) {
	one, set, err := st.routing.resolve(st.s, params)
	switch {
	case err != nil:
		return nil, err
	case set == nil:
		return st.routes[one], nil
	case set.count() == len(st.texts):
		return st.all, nil
	}
	return st.route(set), nil
}

// route builds the Route for several shards.
func (st *static) route(set shardSet) *Route {
	r := &Route{Flags: st.flags, Broadcast: st.broadcast, Limit: st.limit}
	for i := range st.texts {
		if set.has(i) {
			r.Targets = append(r.Targets, Target{Shard: i, Query: st.texts[i]})
		}
	}
	r.Scatter = len(r.Targets) > 1 && !st.broadcast
	return r
}

// keyCheck lets an UPDATE set the shard key only to the value its WHERE
// pins it to (what an ORM's full-row update does).
type keyCheck struct {
	set, pin operand
	key      string // "users.id"
}

func (k *keyCheck) check(params []Value) error {
	if !sameKey(k.set.value(params), k.pin.value(params)) {
		return keyChangeError(k.key)
	}
	return nil
}

func keyChangeError(key string) *Error {
	return errorf(ErUnknown, "UPDATE may not change the shard key %s: delete the row and insert it again instead", key)
}

// sameKey reports whether two values are the same key (5 and '5' are).
func sameKey(a, b Value) bool {
	ca, aok := canonical(a, nil)
	cb, bok := canonical(b, nil)
	return aok && bok && string(ca) == string(cb)
}

// WriteLimit is the LIMIT of an UPDATE or DELETE that reaches several
// shards. MariaDB changes any n of the rows the WHERE matches; here the
// shards run one after another, each given what the LIMIT leaves, until
// it is used up.
type WriteLimit struct {
	count operand
	texts []sqlparse.Query // per shard: the statement, its last `?` the count left
	// Rows, for a write with ORDER BY, is the SELECT ... FOR UPDATE of the
	// rows it changes, in its order and under its LIMIT (the engine's
	// PlanShares): how many of them each shard holds is that shard's
	// LIMIT. Its `?` markers are the statement's from RowsFrom on.
	Rows     string
	RowsFrom int
}

// limitWrites makes a multi-shard route of st run under its LIMIT.
func (st *static) limitWrites(pl *planner, limit *ast.Limit) error {
	count, ok := operandOf(limit.Count)
	if !ok || limit.Offset != nil {
		return errorf(ErWrongArguments, "Incorrect arguments to LIMIT")
	}
	t, err := sqlparse.LimitTemplate(pl.stmt, pl.schemas(), pl.plan.Params)
	if err == nil {
		want := pl.plan.Params + 1 // a `LIMIT ?` gave its marker up
		if count.param >= 0 {
			want--
		}
		err = checkParams(t.Params(), want)
	}
	if err != nil {
		return errorf(ErUnknown, "cannot rewrite the statement for the shards: %v", err)
	}
	l := &WriteLimit{count: count, texts: make([]sqlparse.Query, len(st.texts))}
	for i := range l.texts {
		l.texts[i] = t.Expand(pl.s.dbs[i])
	}
	st.limit = l
	st.all.Limit = l
	return nil
}

// Count is the LIMIT for one execution (Bind checked the parameters).
func (l *WriteLimit) Count(params []Value) uint64 {
	return sqlparse.LimitArgument(l.count.value(params))
}

// Inline returns shard's statement with the client's parameters and left
// as its LIMIT.
func (l *WriteLimit) Inline(shard int, params []Value, left uint64) (string, error) {
	return l.texts[shard].Inline(append(params[:len(params):len(params)], sqlparse.UintValue(left)))
}
