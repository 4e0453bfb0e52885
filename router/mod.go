package router

import "github.com/shardproxy/shardproxy/conf"

// modAlgorithm places integer key k on shard ((k mod N) + N) mod N, so
// negative keys land on shards too. A string that reads as an integer
// (toInteger) is that integer; anything else is refused.
type modAlgorithm int

func (m modAlgorithm) Name() string { return conf.AlgorithmMod }
func (m modAlgorithm) Shards() int  { return int(m) }

func (m modAlgorithm) Shard(v Value) (int, error) {
	k, ok := toInteger(v)
	if !ok {
		return 0, notInteger(v)
	}
	n := int64(m)
	if k.big != 0 {
		return int(k.big % uint64(n)), nil
	}
	return int((k.v%n + n) % n), nil
}
