package router

import (
	"fmt"

	"github.com/shardproxy/shardproxy/conf"
)

// Algorithm maps a shard-key value to the shard that holds its rows. The
// router handles NULL itself (a NULL key matches no row), so Shard is never
// given one.
type Algorithm interface {
	Name() string // conf.AlgorithmMod, AlgorithmHash or AlgorithmRange
	Shards() int
	Shard(v Value) (int, error)
}

// Ranger is an Algorithm that keeps neighbouring keys together, so a range
// of keys maps to a contiguous run of shards.
type Ranger interface {
	Algorithm
	// ShardRange returns the shards [first, last] that can hold keys between
	// lo and hi; first > last when none can.
	ShardRange(lo, hi Bound) (first, last int, err error)
}

// Bound is one end of a key range.
type Bound struct {
	Value     Value
	Inclusive bool
	Open      bool // no bound on this side
}

// NewAlgorithm builds the algorithm a table declares, for n shards.
func NewAlgorithm(name string, n int, bounds []string) (Algorithm, error) {
	if n < 1 {
		return nil, fmt.Errorf("a schema needs at least one shard")
	}
	switch name {
	case conf.AlgorithmMod:
		return modAlgorithm(n), nil
	case conf.AlgorithmHash:
		return hashAlgorithm(n), nil
	case conf.AlgorithmRange:
		return newRangeAlgorithm(n, bounds)
	}
	return nil, fmt.Errorf("unknown algorithm %q (want mod, hash or range)", name)
}

func notInteger(v Value) error {
	return fmt.Errorf("needs an integer value, got %s", v)
}
