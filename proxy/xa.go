package proxy

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/backend"
)

// decisionTable records the outcome of every two-phase commit before any
// branch commits. Its primary key makes the coordinator's "commit" and a
// recovering proxy's "rollback" mutually exclusive: whoever writes first
// decides.
const decisionTable = "_shardproxy_xa"

const createDecisionTable = "CREATE TABLE IF NOT EXISTS `" + decisionTable + "` (" +
	"gtrid VARBINARY(128) NOT NULL PRIMARY KEY, outcome ENUM('commit','rollback') NOT NULL, " +
	"decided TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB"

var errDecidedOtherwise = errors.New("another proxy decided this transaction's outcome")

// recordDecision durably records outcome for gtrid on the schema's default
// shard, or reports errDecidedOtherwise when the other outcome was recorded.
func recordDecision(ctx context.Context, sc *schema, gtrid, outcome string) error {
	err := onDefaultShard(ctx, sc, func(c *backend.Conn) error {
		_, err := c.Exec(ctx, fmt.Sprintf("INSERT INTO `%s` (gtrid, outcome) VALUES (X'%x', '%s')", decisionTable, gtrid, outcome))
		return err
	})
	if err == nil {
		return nil
	}
	if toWireError(err).Code != 1062 {
		return err
	}
	recorded, lookErr := lookupDecision(ctx, sc, gtrid)
	if lookErr != nil {
		return lookErr
	}
	if recorded != outcome {
		return errDecidedOtherwise
	}
	return nil
}

// lookupDecision returns the recorded outcome, "" when none is.
func lookupDecision(ctx context.Context, sc *schema, gtrid string) (outcome string, err error) {
	err = onDefaultShard(ctx, sc, func(c *backend.Conn) error {
		res, err := c.Exec(ctx, fmt.Sprintf("SELECT outcome FROM `%s` WHERE gtrid = X'%x'", decisionTable, gtrid))
		if err == nil && len(res.Rows) > 0 {
			outcome = string(res.Rows[0][0])
		}
		return err
	})
	return outcome, err
}

// forgetDecision drops the record of a transaction whose branches all
// finished; recovery needs it no more.
func forgetDecision(sc *schema, gtrid string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = onDefaultShard(ctx, sc, func(c *backend.Conn) error {
		_, err := c.Exec(ctx, fmt.Sprintf("DELETE FROM `%s` WHERE gtrid = X'%x'", decisionTable, gtrid))
		return err
	})
}

// onDefaultShard runs f on a bookkeeping connection (backend.Node) to sc's
// default shard, and gives it back before returning.
func onDefaultShard(ctx context.Context, sc *schema, f func(*backend.Conn) error) error {
	sh := sc.shards[sc.defaultShard]
	pool := sh.node.Bookkeeping
	c, err := pool.Get(ctx, false)
	if err != nil {
		return err
	}
	defer pool.Put(c)
	if err := c.UseDB(ctx, sh.db); err != nil {
		return err
	}
	return f(c)
}

// failpoints are crash points for tests, named in SHARDPROXY_FAILPOINT; the
// process exits at once, as if killed, leaving backends as they are.
var failpoints = os.Getenv("SHARDPROXY_FAILPOINT")

func failpoint(name string) {
	if failpoints != "" && strings.Contains(","+failpoints+",", ","+name+",") {
		fmt.Fprintf(os.Stderr, "failpoint %s: exiting\n", name)
		os.Exit(86)
	}
}

// recoveryInterval is how often prepared branches are looked for. A branch
// without a decision is rolled back only when two scans this far apart both
// saw it, which no live coordinator takes between PREPARE and its decision.
const recoveryInterval = 5 * time.Second

// recoverXA finishes the XA branches that crashed coordinators left
// prepared (holding locks) on every primary: commit where the decision says
// commit, roll back where no commit was decided.
func (s *Server) recoverXA(ctx context.Context) {
	seen := map[string]bool{}
	t := time.NewTicker(recoveryInterval)
	defer t.Stop()
	first := true
	for {
		seen = s.recoverOnce(ctx, seen)
		wait := t.C
		if first {
			// Right after a start, look again soon: a crash we follow left
			// branches that nobody else will finish.
			first = false
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-wait:
		}
	}
}

// recoverOnce resolves what it can and returns the undecided branches seen.
func (s *Server) recoverOnce(ctx context.Context, seenBefore map[string]bool) map[string]bool {
	topo := s.topo.Load()
	seen := map[string]bool{}
	for _, n := range topo.nodes {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		c, err := n.Primary.Get(cctx, false)
		if err != nil {
			cancel()
			continue
		}
		res, err := c.Exec(cctx, "XA RECOVER")
		if err != nil {
			n.Primary.Put(c)
			cancel()
			continue
		}
		for _, row := range res.Rows {
			gtrid, bqual, ok := parseRecoveredXid(row)
			if !ok || !strings.HasPrefix(gtrid, gtridPrefix) {
				continue
			}
			if _, live := s.inflight.Load(gtrid); live {
				continue
			}
			key := gtrid + "\x00" + bqual
			outcome := s.decide(cctx, topo, gtrid, seenBefore[key])
			if outcome == "" {
				seen[key] = true
				continue
			}
			verb := "COMMIT"
			if outcome == "rollback" {
				verb = "ROLLBACK"
			}
			if _, err := c.Exec(cctx, "XA "+verb+" "+xid(gtrid, bqual)); err != nil {
				s.log.Warn("XA recovery failed", zap.String("gtrid", gtrid), zap.String("node", n.Name), zap.Error(err))
				continue
			}
			s.log.Info("XA branch recovered", zap.String("gtrid", gtrid), zap.String("node", n.Name), zap.String("outcome", outcome))
			s.metricsXA("recovered_" + outcome)
		}
		n.Primary.Put(c)
		cancel()
	}
	return seen
}

// decide returns the branch's outcome: the recorded one, or "rollback"
// (recorded now, so a late coordinator cannot commit) when the branch was
// already undecided at the previous scan; "" to wait.
func (s *Server) decide(ctx context.Context, topo *topology, gtrid string, seenBefore bool) string {
	name := strings.TrimPrefix(gtrid, gtridPrefix)
	if i := strings.LastIndexByte(name, ':'); i >= 0 {
		name = name[:i]
	}
	sc := topo.schema(name)
	if sc == nil {
		return ""
	}
	outcome, err := lookupDecision(ctx, sc, gtrid)
	if err != nil || outcome != "" || !seenBefore {
		return outcome
	}
	switch err := recordDecision(ctx, sc, gtrid, "rollback"); {
	case err == nil:
		return "rollback"
	case errors.Is(err, errDecidedOtherwise):
		return "commit"
	}
	return ""
}

// parseRecoveredXid splits an XA RECOVER row (formatID, gtrid_length,
// bqual_length, data).
func parseRecoveredXid(row [][]byte) (gtrid, bqual string, ok bool) {
	if len(row) < 4 || row[1] == nil || row[2] == nil || row[3] == nil {
		return "", "", false
	}
	var gl, bl int
	if _, err := fmt.Sscan(string(row[1]), &gl); err != nil {
		return "", "", false
	}
	if _, err := fmt.Sscan(string(row[2]), &bl); err != nil {
		return "", "", false
	}
	data := row[3]
	if len(data) != gl+bl {
		// Some servers print data as hex.
		if d, err := hex.DecodeString(strings.TrimPrefix(string(data), "0x")); err == nil && len(d) == gl+bl {
			data = d
		} else {
			return "", "", false
		}
	}
	return string(data[:gl]), string(data[gl:]), true
}
