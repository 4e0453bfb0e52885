package router_test

import (
	"fmt"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/router"
	"github.com/shardproxy/shardproxy/sqlparse"
)

func Example() {
	rt, err := router.New(&conf.Config{Schemas: []conf.Schema{{
		Name: "shop",
		Shards: []conf.Shard{
			{Node: "n0", Database: "shop_0"}, {Node: "n0", Database: "shop_1"},
			{Node: "n1", Database: "shop_2"}, {Node: "n1", Database: "shop_3"},
		},
		Tables: []conf.Table{{Name: "users", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"}},
	}}})
	if err != nil {
		panic(err)
	}

	// Once per statement shape (cache the plan by its text).
	stmt, err := sqlparse.ParseOne("SELECT name FROM shop.users WHERE id = ?")
	if err != nil {
		panic(err)
	}
	plan, err := rt.Plan("shop", stmt)
	if err != nil {
		fmt.Println(router.AsError(err).Code, err)
		return
	}

	// Once per execution.
	args := []router.Value{router.IntValue(42)}
	route, err := plan.Bind(args)
	if err != nil {
		panic(err)
	}
	for _, t := range route.Targets {
		text, _ := t.Inline(args)
		fmt.Println(t.Shard, t.SQL, t.Params)
		fmt.Println(t.Shard, text)
	}
	fmt.Println("read:", route.Read, "scatter:", route.Scatter)

	// An INSERT that needs auto_increment ids asks for them once.
	stmt, _ = sqlparse.ParseOne("INSERT INTO users (name) VALUES ('a'), ('b')")
	plan, _ = rt.Plan("shop", stmt)
	next := uint64(100)
	route, _ = plan.BindIDs(nil, func(n int) (uint64, error) { first := next; next += uint64(n); return first, nil })
	for _, t := range route.Targets {
		fmt.Println(t.Shard, t.SQL)
	}
	fmt.Println("LAST_INSERT_ID:", route.InsertID)
	// Output:
	// 2 SELECT name FROM `shop_2`.users WHERE id = ? [0]
	// 2 SELECT name FROM `shop_2`.users WHERE id = 42
	// read: true scatter: false
	// 0 INSERT INTO `users` (`name`,`id`) VALUES ('a',100)
	// 1 INSERT INTO `users` (`name`,`id`) VALUES ('b',101)
	// LAST_INSERT_ID: 100
}
