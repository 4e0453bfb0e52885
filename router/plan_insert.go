package router

import (
	"fmt"
	"slices"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// AutoIncrement tells how an INSERT gives the column the proxy fills from
// its global sequence.
type AutoIncrement struct {
	Column string
	Rows   []AutoSlot // one per VALUES row
}

// AutoSlot is how one row gives the auto_increment column.
type AutoSlot uint8

const (
	AutoGiven   AutoSlot = iota // a value: kept
	AutoAbsent                  // not in the column list: generated
	AutoNull                    // NULL: generated
	AutoZero                    // 0: generated
	AutoDefault                 // DEFAULT: generated
	AutoParam                   // `?`: generated when the parameter is NULL or 0
)

// insert binds INSERT/REPLACE ... VALUES into a sharded table, or into a
// global table whose ids the proxy fills: rows are regrouped per shard.
type insert struct {
	s         *Schema
	flags     Flags
	table     *Table
	prefix    *sqlparse.Template
	suffix    *sqlparse.Template
	rows      []insertRow
	fixedSize int // text size of prefix and suffix
	auto      int // index of the auto_increment value in a row, -1 none
	keyIsAuto bool
	broadcast bool // global table: every row to every shard
}

type insertRow struct {
	vals []*sqlparse.Template // the values; an absent auto_increment value is appended at Bind
	key  operand              // shard key value, unless it is the generated id
	slot AutoSlot
	auto operand // the auto_increment value of AutoParam, and of AutoGiven when a literal
	size int     // approximate text size, to size buffers
}

func (pl *planner) planInsert(ins *ast.InsertStmt) (binder, error) {
	pl.plan.Kind = KindInsert
	tn := insertTable(ins)
	if tn == nil {
		return nil, errorf(ErUnknown, "INSERT without a target table")
	}
	target := pl.s.lookup(tn, ast.CIStr{})
	switch {
	case target.system:
		return nil, errorf(ErNotSupported, "INSERT into system table %s.%s is not supported through the proxy", target.schema, target.name)
	case ins.Select != nil:
		return pl.copyInto(target, "INSERT ... SELECT")
	case target.kind() == Unsharded || target.kind() == Global && target.table.AutoIncrement == "":
		return pl.copyInto(target, "INSERT")
	}
	if other := pl.notGlobal(tn); other != nil && target.kind() == Sharded {
		return nil, errorf(ErNotSupported, "a subquery in INSERT ... VALUES into sharded table %s may read only global tables, not %s", target.name, other.name)
	}
	t := target.table
	if len(ins.Columns) == 0 {
		what := "the shard key " + t.Key
		if t.Kind == Global {
			what = "the auto_increment column " + t.AutoIncrement
		}
		return nil, errorf(ErUnknown, "INSERT into %s must list its columns, so the proxy can find %s", t.Name, what)
	}
	cols := make([]string, len(ins.Columns))
	for i, c := range ins.Columns {
		cols[i] = c.Name.L
	}
	b := &insert{s: pl.s, flags: pl.plan.Flags, table: t, auto: -1, broadcast: t.Kind == Global}
	extra := ""
	if t.AutoIncrement != "" {
		if b.auto = slices.Index(cols, t.AutoIncrement); b.auto < 0 {
			b.auto, extra = len(cols), t.AutoIncrement
		}
		b.keyIsAuto = t.Key == t.AutoIncrement
		pl.plan.AutoIncrement = &AutoIncrement{Column: t.AutoIncrement}
	}
	key := slices.Index(cols, t.Key)
	if t.Kind == Sharded && key < 0 && !b.keyIsAuto {
		return nil, missingKey(t)
	}
	if err := checkUpsert(t, ins.OnDuplicate); err != nil {
		return nil, err
	}
	parts, err := sqlparse.SplitInsert(ins, pl.schemas(), extra)
	if err == nil {
		n := parts.Prefix.Params() + parts.Suffix.Params()
		for _, row := range parts.Rows {
			for _, v := range row {
				n += v.Params()
			}
		}
		err = checkParams(n, pl.plan.Params)
	}
	if err != nil {
		return nil, errorf(ErUnknown, "cannot split the INSERT per shard: %v", err)
	}
	b.prefix, b.suffix = parts.Prefix, parts.Suffix
	b.fixedSize = b.prefix.Size() + b.suffix.Size() + 2*len(pl.s.Name) + 8 // an estimate
	for i, list := range ins.Lists {
		if len(list) != len(cols) {
			return nil, errorf(ErWrongValueCount, "Column count doesn't match value count at row %d", i+1)
		}
		row, err := b.newRow(list, parts.Rows[i], key)
		if err != nil {
			return nil, err
		}
		b.rows = append(b.rows, row)
		if b.auto >= 0 {
			pl.plan.AutoIncrement.Rows = append(pl.plan.AutoIncrement.Rows, row.slot)
		}
	}
	pl.plan.MultiShard = t.Kind == Sharded && len(b.rows) > 1 && pl.s.NumShards() > 1
	return b, nil
}

// newRow reads one VALUES row: its shard key (column key, -1 when absent)
// and how it gives the auto_increment column.
func (b *insert) newRow(list []ast.ExprNode, vals []*sqlparse.Template, key int) (insertRow, error) {
	row := insertRow{vals: vals, key: operand{param: -1}, size: len(list) + 24}
	for _, v := range vals {
		row.size += v.Size()
	}
	if b.auto >= 0 {
		row.slot, row.auto = autoSlot(list, b.auto)
	}
	if b.table.Kind == Sharded && key >= 0 {
		o, ok := operandOf(list[key])
		generated := b.keyIsAuto && row.slot != AutoGiven
		if !generated && (!ok || o.param < 0 && o.val.IsNull()) {
			return row, missingKey(b.table)
		}
		if ok {
			row.key = o
		}
	}
	return row, nil
}

func insertTable(ins *ast.InsertStmt) *ast.TableName {
	if ins.Table == nil {
		return nil
	}
	j, _ := ins.Table.TableRefs.Left.(*ast.TableSource)
	if j == nil {
		return nil
	}
	tn, _ := j.Source.(*ast.TableName)
	return tn
}

func missingKey(t *Table) *Error {
	return errorf(ErUnknown, "INSERT into %s must give the shard key %s for every row, as a value or a ? parameter", t.Name, t.Key)
}

// autoSlot classifies the auto_increment value of a row, and returns it
// when it is a parameter or a literal.
func autoSlot(list []ast.ExprNode, i int) (AutoSlot, operand) {
	none := operand{param: -1}
	if i >= len(list) {
		return AutoAbsent, none
	}
	if _, ok := list[i].(*ast.DefaultExpr); ok {
		return AutoDefault, none
	}
	o, ok := operandOf(list[i])
	switch {
	case !ok:
		return AutoGiven, none
	case o.param >= 0:
		return AutoParam, o
	case o.val.IsNull():
		return AutoNull, none
	case isZero(o.val):
		return AutoZero, none
	}
	return AutoGiven, o
}

func isZero(v Value) bool {
	n, ok := toInteger(v)
	return ok && n == integer{}
}

// checkUpsert refuses ON DUPLICATE KEY UPDATE that changes the shard key;
// key = VALUES(key) is allowed: the new key routes to this very shard.
func checkUpsert(t *Table, list []*ast.Assignment) error {
	for _, a := range list {
		if t.Kind != Sharded || a.Column.Name.L != t.Key {
			continue
		}
		switch e := a.Expr.(type) {
		case *ast.ValuesExpr:
			if e.Column.Name.Name.L == t.Key {
				continue
			}
		case *ast.ColumnNameExpr:
			if e.Name.Name.L == t.Key {
				continue
			}
		}
		return errorf(ErUnknown, "INSERT ... ON DUPLICATE KEY UPDATE may not change the shard key %s.%s", t.Name, t.Key)
	}
	return nil
}

func (b *insert) bind(params []Value, next IDSource) (*Route, error) {
	ids, first, given, err := b.ids(params, next)
	if err != nil {
		return nil, err
	}
	n := b.s.NumShards()
	shards := make([]int, len(b.rows)) // row i goes to shards[i], or everywhere
	size := make([]int, n)             // text size per shard, to allocate once
	for i, row := range b.rows {
		if b.broadcast {
			for sh := range size {
				size[sh] += row.size
			}
			continue
		}
		v := row.key.value(params)
		if b.keyIsAuto && ids != nil && ids[i] != 0 {
			v = UintValue(ids[i])
		}
		if v.IsNull() {
			return nil, missingKey(b.table)
		}
		sh, err := b.table.Algorithm.Shard(v)
		if err != nil {
			return nil, errorf(ErUnknown, "shard key %s.%s %v", b.table.Name, b.table.Key, err)
		}
		shards[i] = sh
		size[sh] += row.size
	}
	var sb sqlparse.Builder
	total := 0
	for _, s := range size {
		total += s
	}
	sb.Grow(total+n*b.fixedSize, len(params))
	r := &Route{Flags: b.flags, Broadcast: b.broadcast, InsertID: first, GivenID: given}
	var ends []sqlparse.Mark
	for sh, s := range size {
		if s == 0 {
			continue
		}
		b.prefix.AppendTo(&sb, b.s.dbs[sh])
		sep := ""
		for i, row := range b.rows {
			if shards[i] == sh || b.broadcast {
				sb.WriteString(sep)
				sep = ","
				b.writeRow(&sb, row, idOf(ids, i), b.s.dbs[sh])
			}
		}
		b.suffix.AppendTo(&sb, b.s.dbs[sh])
		ends = append(ends, sb.Mark())
		r.Targets = append(r.Targets, Target{Shard: sh})
	}
	for i, q := range sb.Split(ends) {
		r.Targets[i].Query = q
	}
	r.Scatter = len(r.Targets) > 1 && !b.broadcast
	if r.Scatter {
		r.RowShards = shards
	}
	return r, nil
}

func idOf(ids []uint64, i int) uint64 {
	if ids == nil {
		return 0
	}
	return ids[i]
}

func (b *insert) writeRow(sb *sqlparse.Builder, row insertRow, id uint64, dbs []string) {
	sb.WriteString("(")
	for j := 0; j < len(row.vals) || j == b.auto; j++ {
		if j > 0 {
			sb.WriteString(",")
		}
		if j == b.auto && id != 0 {
			sb.WriteLiteral(UintValue(id))
		} else {
			row.vals[j].AppendTo(sb, dbs)
		}
	}
	sb.WriteString(")")
}

// ids reserves the auto_increment ids the rows need, in row order: ids[i]
// is row i's generated id, 0 when it keeps its own value; nil when none.
// given is the largest positive value a row gives itself, 0 when none.
func (b *insert) ids(params []Value, next IDSource) (ids []uint64, first, given uint64, err error) {
	if b.auto < 0 {
		return nil, 0, 0, nil
	}
	var need []int
	for i, row := range b.rows {
		switch row.slot {
		case AutoGiven, AutoParam:
			v := row.auto.value(params)
			if row.slot == AutoParam && (v.IsNull() || isZero(v)) {
				need = append(need, i)
			} else if n, ok := toInteger(v); ok {
				given = max(given, n.positive())
			}
		default:
			need = append(need, i)
		}
	}
	if len(need) == 0 {
		return nil, 0, given, nil
	}
	if next == nil {
		return nil, 0, 0, errorf(ErUnknown, "INSERT into %s needs %d auto_increment ids and no id source was given", b.table.Name, len(need))
	}
	first, err = next(len(need))
	if err == nil && first == 0 {
		err = fmt.Errorf("the id source returned 0")
	}
	if err != nil {
		return nil, 0, 0, fmt.Errorf("reserving auto_increment ids for %s: %w", b.table.Name, err)
	}
	ids = make([]uint64, len(b.rows))
	for k, i := range need {
		ids[i] = first + uint64(k)
	}
	return ids, first, given, nil
}
