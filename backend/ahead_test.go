package backend

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

// TestSendAhead: a statement sent ahead runs before the next command, in
// the same write, and leaves that command's reply to be read as usual,
// whether the command waits for its reply or not.
func TestSendAhead(t *testing.T) {
	p, c := poolOfOne(t)
	ctx := context.Background()
	defer p.Put(c)
	for _, q := range []string{"CREATE DATABASE ahead", "CREATE TABLE ahead.t (id INT PRIMARY KEY) ENGINE=InnoDB"} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	// A result set after the statement sent ahead, which started a
	// transaction that the rows then belong to.
	c.SendAhead("START TRANSACTION")
	if _, err := c.Exec(ctx, "INSERT INTO ahead.t VALUES (1), (2)"); err != nil {
		t.Fatal(err)
	}
	res, err := c.Exec(ctx, "SELECT @@in_transaction, COUNT(*) FROM ahead.t")
	if err != nil {
		t.Fatal(err)
	}
	if got := rowText(res); got != "1 2" {
		t.Fatalf("in the transaction: %q, want \"1 2\"", got)
	}
	if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if res, err = c.Exec(ctx, "SELECT COUNT(*) FROM ahead.t"); err != nil {
		t.Fatal(err)
	} else if got := rowText(res); got != "0" {
		t.Fatalf("after ROLLBACK the table holds %s rows: the INSERT ran outside the transaction", got)
	}

	// A command sent without waiting (as to several shards at once).
	c.SendAhead("START TRANSACTION")
	if err := c.SendCommandString(ComQuery, "SELECT @@in_transaction"); err != nil {
		t.Fatal(err)
	}
	if res, err = c.readResult(); err != nil {
		t.Fatal(err)
	} else if got := rowText(res); got != "1" {
		t.Fatalf("@@in_transaction after a command sent without waiting: %s", got)
	}
	if _, err := c.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if c.Broken() {
		t.Fatal("the connection is broken after statements sent ahead succeeded")
	}
}

// TestSendAheadFailure: the error of a statement sent ahead comes back from
// the command after it, and the connection is not reused.
func TestSendAheadFailure(t *testing.T) {
	p, c := poolOfOne(t)
	ctx := context.Background()
	c.SendAhead("DO no_such_function()")
	_, err := c.Exec(ctx, "SELECT 1")
	var we *wire.Error
	if !errors.As(err, &we) || !strings.Contains(we.Message, "no_such_function") {
		t.Fatalf("error %v, want the failure of the statement sent ahead", err)
	}
	if !c.Broken() {
		t.Fatal("the connection stays usable: the reply of the command after it is unread")
	}
	p.Put(c)
	if s := p.Stats(); s.Open != 0 {
		t.Fatalf("the broken connection went back to the pool: %+v", s)
	}
}

// TestSendAheadNotSentIsForgotten: a connection given back before its next
// command does not carry the statement to its next user.
func TestSendAheadNotSentIsForgotten(t *testing.T) {
	p, c := poolOfOne(t)
	ctx := context.Background()
	c.SendAhead("START TRANSACTION")
	p.Put(c)
	c, err := p.Get(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Put(c)
	res, err := c.Exec(ctx, "SELECT @@in_transaction")
	if err != nil {
		t.Fatal(err)
	}
	if got := rowText(res); got != "0" {
		t.Fatalf("the next user of the connection is in a transaction (@@in_transaction = %s)", got)
	}
}

func rowText(res *Result) string {
	var parts []string
	for _, row := range res.Rows {
		for _, v := range row {
			parts = append(parts, string(v))
		}
	}
	return strings.Join(parts, " ")
}
