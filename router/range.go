package router

import (
	"fmt"
	"math"
	"sort"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// rangeAlgorithm keeps shard i for keys in [bounds[i-1], bounds[i]): the
// first shard is open below, the last open above. When every bound reads as
// an integer, keys compare as integers; otherwise keys and bounds compare as
// byte strings (so dates work as 'YYYY-MM-DD'), and a key must be a string.
type rangeAlgorithm struct {
	ints []int64 // integer bounds, or nil
	strs []string
}

func newRangeAlgorithm(n int, bounds []string) (*rangeAlgorithm, error) {
	if len(bounds) != n-1 {
		return nil, fmt.Errorf("range needs %d bounds for %d shards, got %d", n-1, n, len(bounds))
	}
	r := &rangeAlgorithm{strs: bounds, ints: make([]int64, 0, len(bounds))}
	for _, b := range bounds {
		k, ok := parseInteger(b)
		if !ok || k.big != 0 {
			r.ints = nil
			break
		}
		r.ints = append(r.ints, k.v)
	}
	for i := 1; i < len(bounds); i++ {
		if r.ints != nil && r.ints[i-1] >= r.ints[i] || r.ints == nil && bounds[i-1] >= bounds[i] {
			return nil, fmt.Errorf("range bounds must increase: %q then %q", bounds[i-1], bounds[i])
		}
	}
	return r, nil
}

func (r *rangeAlgorithm) Name() string { return conf.AlgorithmRange }
func (r *rangeAlgorithm) Shards() int  { return len(r.strs) + 1 }

// Shard is the number of bounds at or below the key.
func (r *rangeAlgorithm) Shard(v Value) (int, error) {
	i, _, err := r.locate(v)
	return i, err
}

// locate returns the key's shard, and whether the key equals that shard's
// lower bound.
func (r *rangeAlgorithm) locate(v Value) (int, bool, error) {
	if r.ints != nil {
		k, ok := toInteger(v)
		if !ok {
			return 0, false, notInteger(v)
		}
		i := sort.Search(len(r.ints), func(i int) bool { return k.compare(r.ints[i]) < 0 })
		return i, i > 0 && k.compare(r.ints[i-1]) == 0, nil
	}
	if v.Kind() != sqlparse.KindString && v.Kind() != sqlparse.KindBytes {
		return 0, false, fmt.Errorf("needs a quoted string value (range bounds are strings), got %s", v)
	}
	s := v.Str()
	i := sort.SearchStrings(r.strs, s)
	if i < len(r.strs) && r.strs[i] == s {
		return i + 1, true, nil
	}
	return i, false, nil
}

// ShardRange maps lo..hi to shards. An exclusive upper end equal to a
// bound stops before that bound's shard, and an exclusive integer lower end
// k starts at k+1; an exclusive string lower end is taken inclusively, which
// may add a shard holding no match but never misses one.
func (r *rangeAlgorithm) ShardRange(lo, hi Bound) (int, int, error) {
	first, last := 0, r.Shards()-1
	if !lo.Open {
		v := lo.Value
		if k, ok := toInteger(v); ok && r.ints != nil && !lo.Inclusive && k.big == 0 && k.v < math.MaxInt64 {
			v = IntValue(k.v + 1) // integers: k < x means k+1 <= x
		}
		i, _, err := r.locate(v)
		if err != nil {
			return 0, 0, err
		}
		first = i
	}
	if !hi.Open {
		i, onBound, err := r.locate(hi.Value)
		if err != nil {
			return 0, 0, err
		}
		if onBound && !hi.Inclusive {
			i--
		}
		last = i
	}
	return first, last, nil
}
