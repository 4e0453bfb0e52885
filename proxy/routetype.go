package proxy

// routeType is how a statement reached the backends, as metrics label it.
type routeType uint8

const (
	routeNone      routeType = iota // answered by the proxy itself
	routeSingle                     // one shard
	routeScatter                    // several shards, results merged
	routeBroadcast                  // every shard, same change (global tables, DDL)
)

func (r routeType) String() string {
	switch r {
	case routeSingle:
		return "single"
	case routeScatter:
		return "scatter"
	case routeBroadcast:
		return "broadcast"
	}
	return "none"
}
