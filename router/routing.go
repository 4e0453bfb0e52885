package router

import (
	"fmt"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// unit is a group of tables whose rows must come from the same shards: the
// co-located sharded tables of one block, or the unsharded tables of a block.
type unit struct {
	alg  Algorithm // nil: unsharded tables, on the default shard
	pred *pred     // shard key conditions, nil: every shard
	key  string    // "users.id", for value errors
	msg  string    // 1235 message when the unit cannot share one shard with the rest
}

func (u *unit) eval(params []Value) (shardSet, error) {
	s, err := u.pred.eval(u.alg, params)
	if err != nil {
		return nil, u.valueError(err)
	}
	return s, nil
}

func (u *unit) valueError(err error) error {
	return errorf(ErUnknown, "shard key %s %v", u.key, err)
}

// single returns the one shard the unit resolves to, -1 when no row can
// match (any shard will do), or an error when it spans shards.
func (u *unit) single(s *Schema, params []Value) (int, error) {
	if u.alg == nil {
		return s.DefaultShard, nil
	}
	set, err := u.eval(params)
	if err != nil {
		return -1, err
	}
	switch set.count() {
	case 0:
		return -1, nil
	case 1:
		return set.first(), nil
	}
	return -1, errorf(ErNotSupported, "%s", u.msg)
}

// routing says where a statement's rows are: main may span shards, each
// pinned unit (subqueries, UNION arms, joins that cannot run shard by
// shard) must resolve to a single shard, the same for all and for main.
type routing struct {
	main *unit
	// arms are UNION ALL arms that may each span shards (main is nil): the
	// statement runs wherever one of them has rows.
	arms   []*unit
	pinned []*unit
}

// check refuses, when planning, what will fail on every execution.
func (r *routing) check() error {
	for _, u := range r.pinned {
		if u.alg != nil && u.pred == nil && u.alg.Shards() > 1 {
			return errorf(ErNotSupported, "%s", u.msg)
		}
	}
	if m := r.main; m != nil && m.pred == nil && m.alg.Shards() > 1 && len(r.pinned) > 0 {
		return errorf(ErNotSupported, "%s", r.pinned[0].msg)
	}
	if len(r.arms) > 0 && len(r.pinned) > 0 {
		return errorf(ErNotSupported, "%s", r.pinned[0].msg)
	}
	return nil
}

func (r *routing) hasParams() bool {
	if r.main != nil && r.main.pred.hasParams() {
		return true
	}
	for _, units := range [][]*unit{r.pinned, r.arms} {
		for _, u := range units {
			if u.pred.hasParams() {
				return true
			}
		}
	}
	return false
}

// resolve returns the shards to run on: one shard, or (one == -1) a set of
// several. When the conditions admit no row at all, any single shard gives
// the right (empty) answer: the default shard is used.
func (r *routing) resolve(s *Schema, params []Value) (one int, set shardSet, err error) {
	if len(r.arms) > 0 {
		return r.resolveArms(s, params)
	}
	one = -1
	var pinMsg string
	for _, u := range r.pinned {
		sh, err := u.single(s, params)
		switch {
		case err != nil:
			return -1, nil, err
		case sh < 0:
			continue
		case one >= 0 && sh != one:
			return -1, nil, errorf(ErNotSupported, "%s", u.msg)
		}
		one, pinMsg = sh, u.msg
	}
	m := r.main
	if m == nil {
		if one < 0 {
			one = s.DefaultShard
		}
		return one, nil, nil
	}
	if o, ok := m.pred.point(); ok && !o.value(params).IsNull() { // key = v: no set needed
		sh, err := m.alg.Shard(o.value(params))
		if err != nil {
			return -1, nil, m.valueError(err)
		}
		if one >= 0 && sh != one {
			return -1, nil, errorf(ErNotSupported, "%s", pinMsg)
		}
		return sh, nil, nil
	}
	if set, err = m.eval(params); err != nil {
		return -1, nil, err
	}
	switch n := set.count(); {
	case n == 0:
		if one < 0 {
			one = s.DefaultShard
		}
		return one, nil, nil
	case one >= 0:
		if n == 1 && set.has(one) {
			return one, nil, nil
		}
		return -1, nil, errorf(ErNotSupported, "%s", pinMsg)
	case n == 1:
		return set.first(), nil, nil
	}
	return -1, set, nil
}

// resolveArms returns the shards where any UNION ALL arm has rows (check
// leaves no pinned unit beside arms).
func (r *routing) resolveArms(s *Schema, params []Value) (int, shardSet, error) {
	var all shardSet
	for _, a := range r.arms {
		set, err := a.eval(params)
		if err != nil {
			return -1, nil, err
		}
		if all == nil {
			all = newSet(a.alg.Shards())
		}
		all.or(set)
	}
	switch all.count() {
	case 0:
		return s.DefaultShard, nil, nil
	case 1:
		return all.first(), nil, nil
	}
	return -1, all, nil
}

// group is a unit and the tables it covers.
type group struct {
	*unit
	refs []*ref
}

// units groups a block's tables: one unit per set of sharded tables joined
// on their shard keys with the same sharding, and one for its unsharded
// tables (nil when none). Global tables need no unit.
func (b *block) units() (sharded []group, unsharded *group) {
	parent := make([]int, len(b.refs))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	join := func(x, y *ref) {
		if x.sharded() && y.sharded() && x.table.sharding == y.table.sharding {
			parent[find(b.index(x))] = find(b.index(y))
		}
	}
	var conds []ast.ExprNode
	for _, c := range append(b.conds, b.where) {
		conds = conjuncts(c, conds)
	}
	for _, c := range conds {
		if x, y := b.keyEquality(c); x != nil {
			join(x, y)
		}
	}
	for _, u := range b.usings {
		for _, x := range u.left {
			for _, y := range u.right {
				if x.sharded() && y.sharded() && x.table.Key == y.table.Key && (u.natural || slices.Contains(u.cols, x.table.Key)) {
					join(x, y)
				}
			}
		}
	}
	byRoot := map[int]int{} // root ref index -> index in sharded
	for i, r := range b.refs {
		switch r.kind() {
		case Sharded:
			k, ok := byRoot[find(i)]
			if !ok {
				k = len(sharded)
				byRoot[find(i)] = k
				sharded = append(sharded, group{unit: &unit{alg: r.table.Algorithm, key: r.name + "." + r.table.Key}})
			}
			sharded[k].refs = append(sharded[k].refs, r)
		case Unsharded:
			if unsharded == nil {
				unsharded = &group{unit: &unit{key: r.name}}
			}
			unsharded.refs = append(unsharded.refs, r)
		}
	}
	for root, k := range byRoot {
		_, ranged := sharded[k].alg.(Ranger)
		sharded[k].pred = extractPred(b.where, func(c *ast.ColumnName) bool {
			x := b.refOf(c)
			return x != nil && b.isKeyOf(c, x) && find(b.index(x)) == root
		}, ranged)
	}
	return sharded, unsharded
}

// keyEquality returns the two tables of `a.key = b.key`, each side the
// shard key of its table, or nils.
func (b *block) keyEquality(c ast.ExprNode) (*ref, *ref) {
	eq, ok := c.(*ast.BinaryOperationExpr)
	if !ok || eq.Op != opcode.EQ {
		return nil, nil
	}
	l, lok := eq.L.(*ast.ColumnNameExpr)
	r, rok := eq.R.(*ast.ColumnNameExpr)
	if !lok || !rok {
		return nil, nil
	}
	x, y := b.refOf(l.Name), b.refOf(r.Name)
	if x == nil || y == nil || !b.isKeyOf(l.Name, x) || !b.isKeyOf(r.Name, y) {
		return nil, nil
	}
	return x, y
}

func (b *block) index(r *ref) int { return slices.Index(b.refs, r) }

// addBlock adds a block's units to r. The main block may span shards when
// all its sharded tables are co-located; a nested one (what: "subquery",
// "UNION", ...) must resolve to one shard.
func (r *routing) addBlock(b *block, isMain bool, what string) {
	sharded, unsharded := b.units()
	switch {
	case isMain && len(sharded) == 1:
		r.main = sharded[0].unit
	case isMain && len(sharded) > 1:
		x, y := sharded[0].refs[0], sharded[1].refs[0]
		msg := fmt.Sprintf("join of %s and %s on a non-shard-key column is not supported across shards", x.name, y.name)
		if x.table.sharding != y.table.sharding {
			msg = fmt.Sprintf("join of %s and %s is not supported across shards: they are sharded differently", x.name, y.name)
		}
		for _, g := range sharded {
			g.msg = msg
			r.pinned = append(r.pinned, g.unit)
		}
	default:
		for _, g := range sharded {
			g.msg = fmt.Sprintf("%s across shards is not supported: the rows of %s must come from the same single shard as the rest of the statement", what, g.refs[0].name)
			r.pinned = append(r.pinned, g.unit)
		}
	}
	if b.outerKept != "" {
		// One shard may answer: a condition on the key in WHERE keeps the
		// unmatched rows out.
		for _, g := range sharded {
			g.msg = fmt.Sprintf("outer join keeping every %s row with sharded table %s across shards is not supported: each shard would return the %s rows its own %s rows do not match; use an inner join and add the unmatched rows in the client", b.outerKept, b.outerShard, b.outerKept, b.outerShard)
			if !slices.Contains(r.pinned, g.unit) {
				r.pinned = append(r.pinned, g.unit)
			}
		}
		if isMain && len(sharded) == 1 {
			r.main = nil
		}
	}
	if unsharded != nil {
		name := unsharded.refs[0].name
		unsharded.msg = fmt.Sprintf("%s with unsharded table %s across shards is not supported: %s lives on the default shard only", what, name, name)
		if isMain && len(sharded) > 0 {
			unsharded.msg = fmt.Sprintf("join of %s with unsharded table %s is not supported across shards: %s lives on the default shard only", sharded[0].refs[0].name, name, name)
		}
		// First, so that a conflict is reported by the sharded side.
		r.pinned = append([]*unit{unsharded.unit}, r.pinned...)
	}
}
