package router

import "github.com/shardproxy/shardproxy/sqlparse"

// Value is a shard-key or parameter value (NULL, integer, float, decimal,
// string or bytes). It is defined in sqlparse, which turns literals into
// Values and Values into literals; these are its constructors.
type Value = sqlparse.Value

var (
	NullValue    = sqlparse.NullValue
	IntValue     = sqlparse.IntValue
	UintValue    = sqlparse.UintValue
	FloatValue   = sqlparse.FloatValue
	DecimalValue = sqlparse.DecimalValue
	StringValue  = sqlparse.StringValue
	BytesValue   = sqlparse.BytesValue
)
