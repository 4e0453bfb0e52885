package proxy

import (
	"sync"

	"github.com/shardproxy/shardproxy/router"
)

// maxCachedPlans bounds a schema's plan cache; when full it starts over,
// which costs one parse per statement shape.
const maxCachedPlans = 10000

// cachedPlan is what a statement's text needs to run again without a
// parse: its routing plan on a sharded schema, or, on a pass-through
// schema, only whether it may read from a replica.
type cachedPlan struct {
	plan  *router.Plan // nil on a pass-through schema: the text goes as it is
	table string       // an INSERT's table, for its id sequence
	read  bool
	// commits: DDL, which commits the session's transaction and runs
	// outside any (commitsImplicitly).
	commits bool
	// keepsDiagnostics: no tables (Session.keepsDiagnostics).
	keepsDiagnostics bool
	merge            mergeSlot // a SELECT reaching several shards: how rows merge
	// shaped: plan was made from the statement's shape (literals as `?`);
	// an execution binds the literals read from its text. With a nil plan
	// the shape is known not to plan that way: parse the text.
	shaped bool
	// mergeShape: the shape's text when a SELECT reaching several shards
	// can be merged by a plan made from it (its literals only in WHERE
	// and LIMIT); merge caches that plan.
	mergeShape string
}

// planCache maps a statement's exact text to its plan, so a repeated
// statement (and every execution of a prepared one) is routed without
// parsing. One per logical schema, dropped with it on reload. Texts are
// cached only when their plan depends on nothing but the text and the
// schema (not on DATABASE(), LAST_INSERT_ID(), ...).
type planCache struct {
	mu    sync.RWMutex
	plans map[string]*cachedPlan
	// shapes maps a pass-through statement's shape (its text with literals
	// replaced, sqlparse.AppendShape) to what parsing one of its texts
	// learnt: a client that inlines values (prepared statements off) is
	// served without parsing once per shape.
	shapes map[string]*cachedPlan
}

func newPlanCache() *planCache {
	return &planCache{plans: map[string]*cachedPlan{}, shapes: map[string]*cachedPlan{}}
}

// getShape looks a shape up without allocating a key.
func (c *planCache) getShape(shape []byte) *cachedPlan {
	c.mu.RLock()
	p := c.shapes[string(shape)]
	c.mu.RUnlock()
	return p
}

func (c *planCache) putShape(shape []byte, p *cachedPlan) {
	c.mu.Lock()
	if len(c.shapes) >= maxCachedPlans {
		c.shapes = map[string]*cachedPlan{}
	}
	c.shapes[string(shape)] = p
	c.mu.Unlock()
}

func (c *planCache) get(text string) *cachedPlan {
	c.mu.RLock()
	p := c.plans[text]
	c.mu.RUnlock()
	return p
}

func (c *planCache) put(text string, p *cachedPlan) {
	c.mu.Lock()
	if len(c.plans) >= maxCachedPlans {
		c.plans = map[string]*cachedPlan{}
	}
	c.plans[text] = p
	c.mu.Unlock()
}
