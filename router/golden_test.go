package router

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/sqlparse"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json with the current output")

// testConfig is the schema the golden cases route against.
func testConfig() *conf.Config {
	shards := func(prefix string, n int) []conf.Shard {
		var s []conf.Shard
		for i := range n {
			s = append(s, conf.Shard{Node: fmt.Sprintf("n%d", i%2), Database: fmt.Sprintf("%s_%d", prefix, i)})
		}
		return s
	}
	return &conf.Config{Schemas: []conf.Schema{
		{Name: "shop", Shards: shards("shop", 4), DefaultShard: 0, Tables: []conf.Table{
			{Name: "users", ShardKey: "id", Algorithm: "mod", AutoIncrement: "id"},
			{Name: "profiles", ShardKey: "user_id", Algorithm: "mod"},
			{Name: "orders", ShardKey: "user_id", Algorithm: "hash", AutoIncrement: "id"},
			{Name: "order_items", ShardKey: "user_id", Algorithm: "hash"},
			{Name: "events", ShardKey: "day", Algorithm: "range", Bounds: []string{"2025-01-01", "2026-01-01", "2027-01-01"}},
			{Name: "metrics", ShardKey: "id", Algorithm: "range", Bounds: []string{"100", "200", "300"}},
			{Name: "countries", Type: "global"},
			{Name: "currencies", Type: "global", AutoIncrement: "id"},
		}},
		{Name: "crm", Shards: shards("crm", 2), DefaultShard: 1, Tables: []conf.Table{
			{Name: "contacts", ShardKey: "id", Algorithm: "hash"},
		}},
		{Name: "solo", Shards: []conf.Shard{{Node: "n0", Database: "solo_db"}}},
	}}
}

// goldenCase is one statement routed with its parameters.
type goldenCase struct {
	Comment string            `json:"comment,omitempty"`
	Schema  string            `json:"schema,omitempty"` // session database: default shop, "-" none
	Query   string            `json:"query"`
	Params  []json.RawMessage `json:"params,omitempty"`
	FirstID uint64            `json:"first_id,omitempty"` // id source start, default 1000
	Result  json.RawMessage   `json:"result"`
}

type goldenResult struct {
	Kind          string      `json:"kind,omitempty"`
	Read          bool        `json:"read,omitempty"`
	Primary       bool        `json:"primary,omitempty"`
	MultiShard    bool        `json:"multi_shard,omitempty"`
	AutoIncrement *goldenAuto `json:"auto_increment,omitempty"`
	Scatter       bool        `json:"scatter,omitempty"`
	Broadcast     bool        `json:"broadcast,omitempty"`
	InsertID      uint64      `json:"insert_id,omitempty"`
	GivenID       uint64      `json:"given_id,omitempty"`
	RowShards     []int       `json:"row_shards,omitempty"`
	// LimitRows: the SELECT that shares an ordered LIMIT out (WriteLimit.Rows).
	LimitRows     string `json:"limit_rows,omitempty"`
	LimitRowsFrom int    `json:"limit_rows_from,omitempty"`
	// Copy: the SELECT and INSERT of rows the proxy copies.
	Copy *Copy `json:"copy,omitempty"`
	// Load: how LOAD DATA finds each record's shard key.
	Load    *goldenLoad    `json:"load,omitempty"`
	Targets []goldenTarget `json:"targets,omitempty"`
	Error   *goldenError   `json:"error,omitempty"`
}

type goldenLoad struct {
	Fields    int    `json:"fields"`
	Key       int    `json:"key"`
	Ignore    uint64 `json:"ignore,omitempty"`
	KeyIsAuto bool   `json:"key_is_auto,omitempty"`
}

type goldenAuto struct {
	Column string   `json:"column"`
	Rows   []string `json:"rows"`
}

type goldenTarget struct {
	Shard  int    `json:"shard"`
	SQL    string `json:"sql"`
	Params []int  `json:"params,omitempty"`
	Inline string `json:"inline,omitempty"`
	// Limited: the text run under a LIMIT across shards, here with 1 left.
	Limited string `json:"limited,omitempty"`
}

type goldenError struct {
	At      string `json:"at"` // plan or bind
	Code    uint16 `json:"code"`
	Message string `json:"message"`
}

var slotNames = []string{"given", "absent", "null", "zero", "default", "param"}

// parseParam reads a JSON parameter: a number (Int, or Float with a
// fraction or exponent), a string, null, or {"uint"|"decimal": "..."},
// {"bytes": "hex"}.
func parseParam(raw json.RawMessage) (Value, error) {
	var x any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&x); err != nil {
		return Value{}, err
	}
	switch v := x.(type) {
	case nil:
		return NullValue(), nil
	case string:
		return StringValue(v), nil
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return IntValue(i), nil
		}
		f, err := v.Float64()
		return FloatValue(f), err
	case map[string]any:
		for k, s := range v {
			switch k {
			case "uint":
				var u uint64
				_, err := fmt.Sscan(s.(string), &u)
				return UintValue(u), err
			case "decimal":
				return DecimalValue(s.(string)), nil
			case "bytes":
				b, err := hex.DecodeString(s.(string))
				return BytesValue(b), err
			}
		}
	}
	return Value{}, fmt.Errorf("bad parameter %s", raw)
}

func runCase(t *testing.T, r *Router, c *goldenCase) goldenResult {
	var params []Value
	for _, raw := range c.Params {
		v, err := parseParam(raw)
		if err != nil {
			t.Fatalf("%s: %v", c.Query, err)
		}
		params = append(params, v)
	}
	fail := func(at string, err error) goldenResult {
		e := AsError(err)
		return goldenResult{Error: &goldenError{At: at, Code: e.Code, Message: e.Message}}
	}
	schema := c.Schema
	switch schema {
	case "":
		schema = "shop"
	case "-":
		schema = ""
	}
	stmt, err := sqlparse.ParseOne(c.Query)
	if err != nil {
		return fail("parse", err)
	}
	plan, err := r.Plan(schema, stmt)
	if err != nil {
		return fail("plan", err)
	}
	next := c.FirstID
	if next == 0 {
		next = 1000
	}
	route, err := plan.BindIDs(params, func(n int) (uint64, error) {
		first := next
		next += uint64(n)
		return first, nil
	})
	if err != nil {
		return fail("bind", err)
	}
	res := goldenResult{
		Kind: plan.Kind.String(), Read: plan.Read, Primary: plan.Primary, MultiShard: plan.MultiShard,
		Scatter: route.Scatter, Broadcast: route.Broadcast, InsertID: route.InsertID,
		GivenID: route.GivenID, RowShards: route.RowShards,
	}
	if route.Flags != plan.Flags {
		t.Errorf("%s: route flags %+v differ from plan flags %+v", c.Query, route.Flags, plan.Flags)
	}
	if a := plan.AutoIncrement; a != nil {
		res.AutoIncrement = &goldenAuto{Column: a.Column}
		for _, s := range a.Rows {
			res.AutoIncrement.Rows = append(res.AutoIncrement.Rows, slotNames[s])
		}
	}
	res.Copy = route.Copy
	if l := route.Load; l != nil {
		res.Load = &goldenLoad{Fields: l.Format.Fields, Key: l.Format.Key, Ignore: l.Format.Ignore, KeyIsAuto: l.KeyIsAuto}
	}
	if route.Limit != nil {
		res.LimitRows, res.LimitRowsFrom = route.Limit.Rows, route.Limit.RowsFrom
	}
	for _, tg := range route.Targets {
		gt := goldenTarget{Shard: tg.Shard, SQL: tg.SQL, Params: tg.Params}
		if len(tg.Params) > 0 {
			if gt.Inline, err = tg.Inline(params); err != nil {
				t.Errorf("%s: inline: %v", c.Query, err)
			}
		}
		if route.Limit != nil {
			if gt.Limited, err = route.Limit.Inline(tg.Shard, params, 1); err != nil {
				t.Errorf("%s: limited: %v", c.Query, err)
			}
		}
		res.Targets = append(res.Targets, gt)
	}
	return res
}

func TestGolden(t *testing.T) {
	r, err := New(testConfig())
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/*.json")
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".json"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var cases []*goldenCase
			if err := json.Unmarshal(data, &cases); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, c := range cases {
				got := marshal(t, runCase(t, r, c))
				if *update {
					c.Result = got
					continue
				}
				var want bytes.Buffer
				if json.Compact(&want, c.Result) != nil || !bytes.Equal(want.Bytes(), got) {
					t.Errorf("%s\n%s\n got: %s\nwant: %s", c.Comment, c.Query, got, c.Result)
				}
			}
			if *update {
				var out bytes.Buffer
				if err := json.Indent(&out, marshal(t, cases), "", "  "); err != nil {
					t.Fatal(err)
				}
				out.WriteByte('\n')
				if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// marshal is json.Marshal without HTML escaping, so SQL stays readable.
func marshal(t *testing.T, v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
