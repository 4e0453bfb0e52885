package sqlparse

import "math"

// ValueKind tells which field of a Value is meaningful.
type ValueKind uint8

const (
	KindNull ValueKind = iota
	KindInt
	KindUint
	KindFloat
	KindDecimal // exact number kept as its text, e.g. "12.50"
	KindString  // text in the connection character set
	KindBytes   // binary data: always inlined as a hex literal
)

// Value is a literal or parameter value: a shard key, or a prepared-statement
// argument. It is small, comparable with ==, and the zero Value is NULL.
type Value struct {
	kind ValueKind
	n    uint64 // Int (two's complement), Uint, Float (IEEE bits)
	s    string // Decimal, String, Bytes
}

// Constructors, one per kind.
func NullValue() Value            { return Value{} }
func IntValue(v int64) Value      { return Value{kind: KindInt, n: uint64(v)} }
func UintValue(v uint64) Value    { return Value{kind: KindUint, n: v} }
func FloatValue(v float64) Value  { return Value{kind: KindFloat, n: math.Float64bits(v)} }
func DecimalValue(s string) Value { return Value{kind: KindDecimal, s: s} }
func StringValue(s string) Value  { return Value{kind: KindString, s: s} }
func BytesValue(b []byte) Value   { return Value{kind: KindBytes, s: string(b)} }

// Accessors; each is meaningful for its kind only.
func (v Value) Kind() ValueKind { return v.kind }
func (v Value) IsNull() bool    { return v.kind == KindNull }
func (v Value) Int() int64      { return int64(v.n) }
func (v Value) Uint() uint64    { return v.n }
func (v Value) Float() float64  { return math.Float64frombits(v.n) }
func (v Value) Str() string     { return v.s } // Decimal, String, Bytes

// String returns v as a SQL literal.
func (v Value) String() string { return string(AppendLiteral(nil, v)) }
