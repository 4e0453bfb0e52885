package engine

import "context"

// Distinct drops rows equal to the previous one on Keys (every visible
// column): the shards ran SELECT DISTINCT ordered by those columns, so
// after the merge the copies of a row are adjacent. Strings compare by
// their collation weights, as DISTINCT does.
type Distinct struct {
	Keys  []SortKey
	Input Primitive
}

var _ Primitive = (*Distinct)(nil)

func (d *Distinct) Inputs() []Primitive { return []Primitive{d.Input} }
func (d *Distinct) Description() string { return "Distinct keys=" + keysString(d.Keys) }

func (d *Distinct) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := d.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	cmp, err := bindKeys(d.Keys, in.Fields(), "DISTINCT")
	if err != nil {
		in.Close()
		return nil, err
	}
	return &distinctStream{passStream: passStream{in}, cmp: cmp}, nil
}

type distinctStream struct {
	passStream
	cmp  comparer
	prev ownedRow // the last row returned
	any  bool
}

func (d *distinctStream) Next() ([][]byte, error) {
	for {
		row, err := d.in.Next()
		if err != nil {
			return nil, err
		}
		if d.any && d.cmp.compare(row, d.prev.vals) == 0 {
			continue
		}
		d.prev.set(row)
		d.any = true
		return row, nil
	}
}
