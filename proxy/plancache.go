package proxy

import (
	"sync"

	"github.com/shardproxy/shardproxy/router"
)

// maxCachedPlans bounds a schema's plan cache; when full it starts over,
// which costs one parse per statement shape.
const maxCachedPlans = 10000

// planCache maps a statement's exact text to its routing plan, so a
// repeated statement (and every execution of a prepared one) is routed
// without parsing. One per logical schema, dropped with it on reload.
type planCache struct {
	mu    sync.RWMutex
	plans map[string]*router.Plan
}

func newPlanCache() *planCache { return &planCache{plans: map[string]*router.Plan{}} }

func (c *planCache) get(text string) *router.Plan {
	c.mu.RLock()
	p := c.plans[text]
	c.mu.RUnlock()
	return p
}

func (c *planCache) put(text string, p *router.Plan) {
	c.mu.Lock()
	if len(c.plans) >= maxCachedPlans {
		c.plans = map[string]*router.Plan{}
	}
	c.plans[text] = p
	c.mu.Unlock()
}
