package router

import "math/bits"

// shardSet is a set of shard indexes, one bit each.
type shardSet []uint64

func newSet(n int) shardSet { return make(shardSet, (n+63)/64) }

func fullSet(n int) shardSet {
	s := newSet(n)
	for i := range s {
		s[i] = ^uint64(0)
	}
	if r := n % 64; r != 0 {
		s[len(s)-1] = 1<<r - 1
	}
	return s
}

func (s shardSet) add(i int) { s[i/64] |= 1 << (i % 64) }

// addRun adds shards first..last.
func (s shardSet) addRun(first, last int) {
	for i := first; i <= last; i++ {
		s.add(i)
	}
}

func (s shardSet) and(t shardSet) {
	for i := range s {
		s[i] &= t[i]
	}
}

func (s shardSet) or(t shardSet) {
	for i := range s {
		s[i] |= t[i]
	}
}

func (s shardSet) count() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// first returns the lowest shard in s, or -1.
func (s shardSet) first() int {
	for i, w := range s {
		if w != 0 {
			return i*64 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

func (s shardSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }
