package proxy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/shardproxy/shardproxy/backend"
)

// sequenceTable holds the next free auto_increment id of every sharded
// table of a schema, on its default shard. Every proxy sharing the backends
// reserves blocks from it, so ids are unique across shards and proxies.
const sequenceTable = "_shardproxy_sequences"

const createSequenceTable = "CREATE TABLE IF NOT EXISTS `" + sequenceTable + "` (" +
	"name VARCHAR(191) NOT NULL PRIMARY KEY, next_id BIGINT UNSIGNED NOT NULL) ENGINE=InnoDB"

// idBlockSize is how many ids one reservation takes: one round trip to the
// default shard per this many generated ids.
const idBlockSize = 1000

// sequences hands out auto_increment ids for one schema.
type sequences struct {
	sc     *schema
	mu     sync.Mutex // guards blocks, not the blocks' contents
	blocks map[string]*idBlock
}

// idBlock is the range [next, end) of ids this proxy holds for a table.
// Its mutex is held while a new range is reserved: a session that waits
// for it (its first read of the table waits for another session's table
// lock, say) holds up inserts into that table only, as on one server.
type idBlock struct {
	mu        sync.Mutex
	next, end uint64
}

// lender lends the connections a sequence reads a table's ids with: the
// session's own where it holds table locks (any other connection would
// wait for them), else pooled ones with the session's settings (its
// lock_wait_timeout, say) applied.
type lender interface {
	borrow(ctx context.Context, pool *backend.Pool) (*backend.Conn, error)
	giveBack(c *backend.Conn)
}

func newSequences(sc *schema) *sequences {
	return &sequences{sc: sc, blocks: map[string]*idBlock{}}
}

// block returns table's block, locked.
func (q *sequences) block(table string) *idBlock {
	key := strings.ToLower(table)
	q.mu.Lock()
	b := q.blocks[key]
	if b == nil {
		b = &idBlock{}
		q.blocks[key] = b
	}
	q.mu.Unlock()
	b.mu.Lock()
	return b
}

// next returns the first of n consecutive ids for table.column.
func (q *sequences) next(ctx context.Context, table, column string, n int, l lender) (uint64, error) {
	b := q.block(table)
	defer b.mu.Unlock()
	if b.end-b.next < uint64(n) {
		if err := q.refill(ctx, b, table, column, max(uint64(n), idBlockSize), 0, l); err != nil {
			return 0, err
		}
	}
	first := b.next
	b.next += uint64(n)
	return first, nil
}

// pass makes sure no id the proxy generates later for table is given or
// below given, an id an INSERT gave itself, as MariaDB moves its counter
// past such a value. Inside this proxy's block that costs nothing; beyond
// it the table's counter moves past given and a new block starts there,
// one round trip per block for clients that give rising ids themselves.
func (q *sequences) pass(ctx context.Context, table, column string, given uint64, l lender) error {
	b := q.block(table)
	defer b.mu.Unlock()
	switch {
	case given < b.next:
		return nil
	case given < b.end:
		b.next = given + 1
		return nil
	}
	return q.refill(ctx, b, table, column, idBlockSize, given+1, l)
}

// refill reserves size ids for table from floor on (reserve) and makes
// them b's; b.mu is held.
func (q *sequences) refill(ctx context.Context, b *idBlock, table, column string, size, floor uint64, l lender) error {
	end, err := q.reserve(ctx, strings.ToLower(table), column, size, floor, l)
	if err != nil {
		return err
	}
	b.next, b.end = end-size, end
	return nil
}

// reserve moves the table's counter to at least floor, then forward by
// size, and returns its new value: ids [value-size, value) are this
// proxy's. LAST_INSERT_ID(expr) makes the UPDATE return the value in its
// OK packet, one round trip in all. Each step takes its own bookkeeping
// connection: none is held while maxID reads the shards.
func (q *sequences) reserve(ctx context.Context, table, column string, size, floor uint64, l lender) (uint64, error) {
	update := fmt.Sprintf("UPDATE `%s` SET next_id = LAST_INSERT_ID(GREATEST(next_id, %d) + %d) WHERE name = %s",
		sequenceTable, floor, size, quoteString(table))
	for attempt := 0; attempt < 2; attempt++ {
		var res *backend.Result
		err := onDefaultShard(ctx, q.sc, func(c *backend.Conn) (err error) {
			res, err = c.Exec(ctx, update)
			return err
		})
		if err != nil {
			return 0, err
		}
		if res.OK.AffectedRows == 1 {
			return res.OK.LastInsertID, nil
		}
		// First use of this table: start above the ids it already holds.
		start, err := q.maxID(ctx, table, column, l)
		if err != nil {
			return 0, err
		}
		insert := fmt.Sprintf("INSERT IGNORE INTO `%s` (name, next_id) VALUES (%s, %d)", sequenceTable, quoteString(table), start+1)
		if err := onDefaultShard(ctx, q.sc, func(c *backend.Conn) error {
			_, err := c.Exec(ctx, insert)
			return err
		}); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("cannot reserve ids for %s in %s", table, sequenceTable)
}

// maxID is the largest id already in the table on any shard.
func (q *sequences) maxID(ctx context.Context, table, column string, l lender) (uint64, error) {
	var max uint64
	for _, sh := range q.sc.shards {
		c, err := l.borrow(ctx, sh.node.Primary)
		if err != nil {
			return 0, err
		}
		err = c.UseDB(ctx, sh.db)
		var res *backend.Result
		if err == nil {
			res, err = c.Exec(ctx, fmt.Sprintf("SELECT MAX(`%s`) FROM `%s`", column, table))
		}
		l.giveBack(c)
		if err != nil {
			if isNoSuchTable(err) {
				continue
			}
			return 0, err
		}
		if len(res.Rows) == 1 && res.Rows[0][0] != nil {
			if v, err := strconv.ParseUint(string(res.Rows[0][0]), 10, 64); err == nil && v > max {
				max = v
			}
		}
	}
	return max, nil
}

func isNoSuchTable(err error) bool {
	return toWireError(err).Code == 1146
}
