package engine

import "context"

// Filter returns the rows for which Predicate is true: the HAVING of a
// grouped query, evaluated on the combined groups (the shards only saw
// partial groups, so it cannot run there).
type Filter struct {
	Predicate evalExpr
	Input     Primitive
}

var _ Primitive = (*Filter)(nil)

func (f *Filter) Inputs() []Primitive { return []Primitive{f.Input} }
func (f *Filter) Description() string { return "Filter " + f.Predicate.String() }

func (f *Filter) Execute(ctx context.Context, env *Env) (Stream, error) {
	in, err := f.Input.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	return &filterStream{passStream: passStream{in}, pred: f.Predicate, x: newEvalCtx(in.Fields(), env.Params)}, nil
}

type filterStream struct {
	passStream
	pred evalExpr
	x    *evalCtx
}

func (f *filterStream) Next() ([][]byte, error) {
	for {
		row, err := f.in.Next()
		if err != nil {
			return nil, err
		}
		f.x.row = row
		v, err := f.pred.eval(f.x)
		if err != nil {
			return nil, err
		}
		ok, known, err := truth(v)
		if err != nil {
			return nil, err
		}
		if ok && known {
			return row, nil
		}
	}
}
