package engine

import (
	"context"
	"testing"

	"github.com/shardproxy/shardproxy/wire"
)

func TestConcat(t *testing.T) {
	fields := []wire.Field{intField("id"), stringField("name")}
	shards := &fakeShards{fields: fields, results: [][][]string{
		{{"1", "a"}, {"5", null}},
		{},
		{{"2", "b"}},
	}}
	c := &Concat{SQL: "SELECT id, name FROM t", Columns: 2}
	got := run(t, c, &Env{Shards: shards})
	wantRows(t, got, "1|a\n5|NULL\n2|b\n")
	shards.checkClosed(t)
	if shards.sqls[0] != "SELECT id, name FROM t" {
		t.Errorf("sql %q", shards.sqls[0])
	}
}

func TestConcatErrors(t *testing.T) {
	fields := []wire.Field{intField("id")}
	shards := &fakeShards{fields: fields, results: [][][]string{{{"1"}, {"2"}}, {{"3"}}}}
	c := &Concat{SQL: "q"}

	// A shard's error passes through unchanged and every stream is closed.
	s, err := c.Execute(context.Background(), &Env{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	shards.streams[0].failAt = 1
	s.Next()
	if _, err := s.Next(); err != errFake {
		t.Errorf("error %v, want the shard's", err)
	}
	s.Close()
	shards.checkClosed(t)

	// A cancelled context stops the stream.
	ctx, cancel := context.WithCancel(context.Background())
	s, err = c.Execute(ctx, &Env{Shards: shards})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := s.Next(); err != context.Canceled {
		t.Errorf("error %v, want context.Canceled", err)
	}
	shards.checkClosed(t)

	// Width mismatches are plan errors, not panics.
	wantCode(t, runErr(&Concat{SQL: "q", Columns: 3}, &Env{Shards: shards}), ErUnknown)
	if _, err := (&Concat{SQL: "q"}).Execute(context.Background(), &Env{Shards: unevenShards{}}); err == nil {
		t.Error("shards with different widths accepted")
	}
}

// unevenShards returns streams whose widths differ.
type unevenShards struct{}

func (unevenShards) Open(context.Context, string) ([]Stream, error) {
	a := newFakeStream([]wire.Field{intField("a")}, nil)
	b := newFakeStream([]wire.Field{intField("a"), intField("b")}, nil)
	return []Stream{a, b}, nil
}
