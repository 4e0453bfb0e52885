// Package router decides where each statement runs: it maps the logical
// schemas of the configuration to shards (mod, hash and range algorithms,
// global and unsharded tables) and turns a parsed statement into a Plan.
//
// Planning does the AST work once per statement shape: which tables, which
// shard key conditions, the text to send to each shard with schema
// qualifiers rewritten. Binding evaluates the plan for one execution's
// parameters and returns a Route: cheap (no parsing, and no allocation for
// a point lookup), and safe to call concurrently on a cached Plan.
//
//	stmt, err := sqlparse.ParseOne(sql)          // *sqlparse.ParseError → 1064
//	plan, err := rt.Plan(session.DB, stmt)       // *router.Error: 1046, 1049, 1105, 1235
//	route, err := plan.BindIDs(args, seq.Next)   // or plan.Bind(args) when no ids are needed
//	for _, t := range route.Targets {
//		// t.Shard: index into Schema.Shards; t.SQL with `?` for args:
//		// prepare t.SQL and send args[t.Params[k]] for its k-th `?`,
//		// or send t.Inline(args) as a text query.
//	}
//	// route.Read, route.Primary: replica or primary; route.Scatter: merge
//	// rows or add up affected rows; route.Broadcast: answer with one shard's
//	// result; route.InsertID: LAST_INSERT_ID().
//
// Errors are *Error values carrying the MySQL code to answer with; AsError
// converts any error from this package or sqlparse.
package router
