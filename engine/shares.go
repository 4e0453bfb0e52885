package engine

import (
	"context"
	"io"
	"strconv"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/shardproxy/shardproxy/wire"
)

// PlanShares plans the first step of an UPDATE or DELETE with ORDER BY and
// LIMIT across shards. sel selects the rows the write would change, in
// its order and under its LIMIT (FOR UPDATE, so that they stay until the
// write). Its root, Shares, answers how many of the first rows of the
// merged order each shard holds. Each shard then runs the write with its
// own share as LIMIT and changes its first rows in the same order: the
// rows one server would change (among ties, rows one server could pick).
func PlanShares(sel *ast.SelectStmt) (*Plan, error) {
	if sel.Limit == nil || sel.Limit.Offset != nil {
		return nil, errorf(ErUnknown, "plan error: shares need a LIMIT without offset")
	}
	plan, err := PlanSelect(sel)
	if err != nil {
		return nil, err
	}
	shares := &Shares{}
	var find func(Primitive)
	find = func(n Primitive) {
		switch x := n.(type) {
		case *MergeSort:
			shares.Sort = x
		case *Limit:
			shares.Window = x.Window
		}
		for _, in := range n.Inputs() {
			find(in)
		}
	}
	find(plan.Root)
	if shares.Sort == nil {
		return nil, unsupported("this ORDER BY gives the rows no order across shards; order by a column")
	}
	plan.Root = shares
	return plan, nil
}

// Shares answers, one row per shard in shard order, how many of the first
// Window.Count rows of Sort's merged order come from that shard.
type Shares struct {
	Window Window
	Sort   *MergeSort
}

var _ Primitive = (*Shares)(nil)

func (s *Shares) Inputs() []Primitive { return []Primitive{s.Sort} }
func (s *Shares) Description() string { return "Shares count=" + s.Window.Count.String() }

func (s *Shares) Execute(ctx context.Context, env *Env) (Stream, error) {
	_, n, _, err := s.Window.values(env.Params)
	if err != nil {
		return nil, err
	}
	in, err := s.Sort.Execute(ctx, env)
	if err != nil {
		return nil, err
	}
	merged := in.(*mergeStream)
	counts := make([]uint64, len(merged.streams))
	for taken := uint64(0); taken < n; taken++ {
		if _, err := merged.Next(); err == io.EOF {
			break
		} else if err != nil {
			merged.Close()
			return nil, err
		}
		counts[merged.last]++
	}
	if err := merged.Close(); err != nil {
		return nil, err
	}
	return &sharesStream{counts: counts}, nil
}

var sharesFields = []wire.Field{{Name: []byte("rows"), Charset: wire.CharsetBinary, Length: 21,
	Type: wire.TypeLongLong, Flags: wire.FlagNotNull | wire.FlagUnsigned | wire.FlagBinary}}

type sharesStream struct {
	counts []uint64
	next   int
}

func (s *sharesStream) Fields() []wire.Field { return sharesFields }
func (s *sharesStream) Close() error         { return nil }

func (s *sharesStream) Next() ([][]byte, error) {
	if s.next == len(s.counts) {
		return nil, io.EOF
	}
	s.next++
	return [][]byte{strconv.AppendUint(nil, s.counts[s.next-1], 10)}, nil
}
