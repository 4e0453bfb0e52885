package engine_test

import (
	"context"
	"fmt"
	"io"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/shardproxy/shardproxy/engine"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// shards stands for the proxy's backends: it answers the shard SQL with
// each shard's rows (here, canned partial counts per country, sorted by
// the pushed ORDER BY, with the hidden weight column at the end).
type shards struct{}

func (shards) Open(_ context.Context, sql string) ([]engine.Stream, error) {
	fields := []wire.Field{
		{Name: []byte("country"), Type: wire.TypeVarString, Charset: wire.CharsetUTF8MB4},
		{Name: []byte("n"), Type: wire.TypeLongLong, Charset: wire.CharsetBinary},
		{Name: []byte("w"), Type: wire.TypeVarString, Charset: wire.CharsetBinary},
	}
	return []engine.Stream{
		&rows{fields: fields, rows: [][][]byte{{[]byte("de"), []byte("2"), []byte("\x00D\x00E\x00 ")}, {[]byte("fr"), []byte("5"), []byte("\x00F\x00R\x00 ")}}},
		&rows{fields: fields, rows: [][][]byte{{[]byte("FR"), []byte("4"), []byte("\x00F\x00R\x00 ")}, {[]byte("it"), []byte("1"), []byte("\x00I\x00T\x00 ")}}},
	}, nil
}

type rows struct {
	fields []wire.Field
	rows   [][][]byte
}

func (r *rows) Fields() []wire.Field { return r.fields }
func (r *rows) Close() error         { return nil }
func (r *rows) Next() ([][]byte, error) {
	if len(r.rows) == 0 {
		return nil, io.EOF
	}
	row := r.rows[0]
	r.rows = r.rows[1:]
	return row, nil
}

func Example() {
	stmt, _ := sqlparse.ParseOne("SELECT country, COUNT(*) AS n FROM users GROUP BY country HAVING n > 1 ORDER BY n DESC LIMIT 2")

	// Once per statement shape: cache the plan next to the routing plan.
	plan, err := engine.PlanSelect(stmt.(*ast.SelectStmt))
	if err != nil {
		fmt.Println(err) // an *engine.Error: MySQLCode() 1235 for what cannot run across shards
		return
	}
	fmt.Println(plan.ShardSQL)
	fmt.Print(plan.Describe())

	// Per statement: the proxy's Shards runs ShardSQL (its schema
	// qualifiers rewritten per shard) on the routed shards.
	result, err := plan.Execute(context.Background(), shards{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer result.Close()
	fields := result.Fields() // the client's columns: hidden ones are gone
	fmt.Printf("%s %s\n", fields[0].Name, fields[1].Name)
	for {
		row, err := result.Next()
		if err != nil {
			break // io.EOF, or a shard's error as it came
		}
		fmt.Printf("%s %s\n", row[0], row[1])
	}
	// Output:
	// SELECT `country`,COUNT(1) AS `n`,IF(COLLATION(`country`)='binary', NULL, WEIGHT_STRING(IF(LEFT(`country`, 0)=' ', CONCAT(RTRIM(`country`), ' '), `country`))) FROM `users` GROUP BY 1 ORDER BY 1
	// Project hide=1
	//   Limit offset=0 count=2
	//     Sort keys=[#1 DESC] top=0+2
	//       Filter (#1 > 1)
	//         OrderedAggregate group=[#0 weight #2] aggregates=[count(#1)]
	//           MergeSort keys=[#0 weight #2]
	// country n
	// fr 9
	// de 2
}
