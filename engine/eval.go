package engine

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/shardproxy/shardproxy/sqlparse"
	"github.com/shardproxy/shardproxy/wire"
)

// The evaluator of HAVING and of select-list expressions over aggregates.
// The planner leaves to the shards every part that does not involve an
// aggregate (they compute it as a hidden column, with their own
// collations, dates and functions), so what is evaluated here is only
// comparisons, logic, arithmetic and COALESCE over numbers: the combined
// aggregates, those hidden columns, literals and parameters.

// valKind is the kind of an evaluated value.
type valKind uint8

const (
	valNull  valKind = iota
	valInt           // int64
	valDec           // exact decimal
	valFloat         // float64
	valStr           // a string literal or parameter: a number when compared with one
	valOther         // a column value that is not a number (string, date...)
)

type value struct {
	kind valKind
	i    int64
	d    decimal
	f    float64
	s    []byte // valStr, valOther: the text
	name []byte // valOther: the column's name, for errors
	// shown (valDec) is the fraction digits of the value's type, which a
	// comparison rounds it to; d may hold more, as a quotient does.
	shown int
	// asDouble (valDec): f is the value as MariaDB reads it as a double,
	// where that is not d's nearest double (an AVG: its sum over its count
	// divided as doubles).
	asDouble bool
}

// decValue is an exact decimal whose type has as many fraction digits.
func decValue(d decimal) value { return value{kind: valDec, d: d, shown: d.scale} }

// shownScale is the fraction digits of v's type (0 for integers).
func (v value) shownScale() int {
	if v.kind == valDec {
		return v.shown
	}
	return 0
}

// compared is v's decimal as a comparison sees it: rounded to its type.
func (v value) compared() decimal {
	d := v.decimal()
	if v.kind == valDec && v.shown < d.scale {
		return d.round(v.shown)
	}
	return d
}

var (
	valueNull  = value{}
	valueTrue  = value{kind: valInt, i: 1}
	valueFalse = value{kind: valInt, i: 0}
)

func boolValue(b bool) value {
	if b {
		return valueTrue
	}
	return valueFalse
}

func (v value) decimal() decimal {
	if v.kind == valInt {
		return decimalFromInt(v.i)
	}
	return v.d
}

func (v value) float() float64 {
	switch v.kind {
	case valInt:
		return float64(v.i)
	case valDec:
		if v.asDouble {
			return v.f
		}
		return v.d.float()
	case valStr:
		return stringToFloat(v.s)
	}
	return v.f
}

// stringToFloat reads the leading number of s as MySQL converts a string
// to a number ('12abc' is 12, 'abc' is 0).
func stringToFloat(s []byte) float64 {
	t := strings.TrimLeft(string(s), " \t\n\r")
	i := 0
	digits := func() {
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	}
	if i < len(t) && (t[i] == '-' || t[i] == '+') {
		i++
	}
	digits()
	if i < len(t) && t[i] == '.' {
		i++
		digits()
	}
	end := i
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '-' || t[i] == '+') {
			i++
		}
		mark := i
		digits()
		if i > mark {
			end = i
		}
	}
	f, _ := strconv.ParseFloat(t[:end], 64)
	return f
}

// evalCtx is one row's evaluation.
type evalCtx struct {
	row    [][]byte
	fields []wire.Field
	kinds  []valueKind
	params []sqlparse.Value
}

// newEvalCtx prepares the evaluation of rows with these fields.
func newEvalCtx(fields []wire.Field, params []sqlparse.Value) *evalCtx {
	x := &evalCtx{fields: fields, kinds: make([]valueKind, len(fields)), params: params}
	for i := range fields {
		x.kinds[i] = kindOf(&fields[i])
	}
	return x
}

// evalExpr is a compiled expression over combined groups; immutable, shared by executions.
type evalExpr interface {
	eval(x *evalCtx) (value, error)
	String() string
}

type colExpr struct{ col int }

func (e *colExpr) String() string { return colName(e.col) }

func (e *colExpr) eval(x *evalCtx) (value, error) {
	v := x.row[e.col]
	if v == nil {
		return valueNull, nil
	}
	switch x.kinds[e.col] {
	case kindInt:
		if i, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(v), len(v)), 10, 64); err == nil {
			return value{kind: valInt, i: i}, nil
		}
		fallthrough // beyond int64 (BIGINT UNSIGNED)
	case kindDecimal:
		if d, ok := parseDecimal(v); ok {
			return decValue(d), nil
		}
	case kindFloat:
		return value{kind: valFloat, f: parseFloat(v)}, nil
	}
	return value{kind: valOther, s: v, name: x.fields[e.col].Name}, nil
}

type litExpr struct {
	v    value
	text string
}

func (e *litExpr) String() string               { return e.text }
func (e *litExpr) eval(*evalCtx) (value, error) { return e.v, nil }

// literalValue converts a literal or parameter value.
func literalValue(v sqlparse.Value) value {
	switch v.Kind() {
	case sqlparse.KindInt:
		return value{kind: valInt, i: v.Int()}
	case sqlparse.KindUint:
		if v.Uint() <= math.MaxInt64 {
			return value{kind: valInt, i: int64(v.Uint())}
		}
		d, _ := parseDecimal(strconv.AppendUint(nil, v.Uint(), 10))
		return decValue(d)
	case sqlparse.KindFloat:
		return value{kind: valFloat, f: v.Float()}
	case sqlparse.KindDecimal:
		if d, ok := parseDecimal([]byte(v.Str())); ok {
			return decValue(d)
		}
		return value{kind: valFloat, f: stringToFloat([]byte(v.Str()))} // 1e3 style
	case sqlparse.KindString, sqlparse.KindBytes:
		return value{kind: valStr, s: []byte(v.Str())}
	}
	return valueNull
}

type paramExpr struct{ index int }

func (e *paramExpr) String() string { return "?" + strconv.Itoa(e.index) }

func (e *paramExpr) eval(x *evalCtx) (value, error) {
	if e.index >= len(x.params) {
		return valueNull, errorf(ErWrongArguments, "Incorrect arguments to EXECUTE: the statement needs %d parameters, %d were given", e.index+1, len(x.params))
	}
	return literalValue(x.params[e.index]), nil
}

// cmpExpr is =, <>, <, <=, >, >= or <=>.
type cmpExpr struct {
	op   opcode.Op
	l, r evalExpr
}

func (e *cmpExpr) String() string { return binaryString(e.op, e.l, e.r) }

// opText spells the evaluator's operators as SQL, for descriptions.
var opText = map[opcode.Op]string{
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=", opcode.NullEQ: "<=>",
	opcode.LogicAnd: "AND", opcode.LogicOr: "OR", opcode.LogicXor: "XOR",
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.IntDiv: "DIV", opcode.Mod: "%",
}

func binaryString(op opcode.Op, l, r evalExpr) string {
	return "(" + l.String() + " " + opText[op] + " " + r.String() + ")"
}

func (e *cmpExpr) eval(x *evalCtx) (value, error) {
	l, r, err := evalBoth(x, e.l, e.r)
	if err != nil {
		return valueNull, err
	}
	if l.kind == valNull || r.kind == valNull {
		if e.op == opcode.NullEQ {
			return boolValue(l.kind == r.kind), nil
		}
		return valueNull, nil
	}
	c, err := compareNumbers(l, r)
	if err != nil {
		return valueNull, err
	}
	switch e.op {
	case opcode.EQ, opcode.NullEQ:
		return boolValue(c == 0), nil
	case opcode.NE:
		return boolValue(c != 0), nil
	case opcode.LT:
		return boolValue(c < 0), nil
	case opcode.LE:
		return boolValue(c <= 0), nil
	case opcode.GT:
		return boolValue(c > 0), nil
	}
	return boolValue(c >= 0), nil
}

// compareNumbers compares non-NULL values as MySQL compares numbers: exact
// unless a float (or a string, read as a float) is involved.
func compareNumbers(l, r value) (int, error) {
	if err := numeric(l); err != nil {
		return 0, err
	}
	if err := numeric(r); err != nil {
		return 0, err
	}
	switch {
	case l.kind == valStr && r.kind == valStr:
		return 0, unsupported("comparing two strings in HAVING across shards is not supported")
	case l.kind == valInt && r.kind == valInt:
		return cmpOrdered(l.i, r.i), nil
	case l.kind == valFloat || r.kind == valFloat || l.kind == valStr || r.kind == valStr:
		return cmpOrdered(l.float(), r.float()), nil
	}
	// MariaDB compares decimals rounded to their types: a/3 > 0.33333 is
	// false, though a/3 holds 0.333333333.
	return l.compared().cmp(r.compared()), nil
}

func cmpOrdered[T int64 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// numeric refuses values the evaluator cannot compare as MariaDB would.
func numeric(v value) error {
	if v.kind == valOther {
		return unsupported("across shards, aggregates combine only with numbers; column '%s' is not numeric", v.name)
	}
	return nil
}

// truth is a value's truth: true, false, or NULL (known false).
func truth(v value) (isTrue, known bool, err error) {
	switch v.kind {
	case valNull:
		return false, false, nil
	case valInt:
		return v.i != 0, true, nil
	case valDec:
		return v.d.sign() != 0, true, nil
	case valOther:
		return false, false, numeric(v)
	}
	return v.float() != 0, true, nil
}

// logicExpr is AND, OR or XOR, with SQL's three-valued logic.
type logicExpr struct {
	op   opcode.Op
	l, r evalExpr
}

func (e *logicExpr) String() string { return binaryString(e.op, e.l, e.r) }

func (e *logicExpr) eval(x *evalCtx) (value, error) {
	lv, err := e.l.eval(x)
	if err != nil {
		return lv, err
	}
	l, lknown, err := truth(lv)
	if err != nil {
		return valueNull, err
	}
	// Short cuts: FALSE AND x, TRUE OR x.
	if lknown && (e.op == opcode.LogicAnd && !l || e.op == opcode.LogicOr && l) {
		return boolValue(l), nil
	}
	rv, err := e.r.eval(x)
	if err != nil {
		return rv, err
	}
	r, rknown, err := truth(rv)
	if err != nil {
		return valueNull, err
	}
	switch e.op {
	case opcode.LogicAnd:
		if rknown && !r {
			return valueFalse, nil
		}
		if lknown && rknown {
			return valueTrue, nil
		}
	case opcode.LogicOr:
		if rknown && r {
			return valueTrue, nil
		}
		if lknown && rknown {
			return valueFalse, nil
		}
	default: // XOR
		if lknown && rknown {
			return boolValue(l != r), nil
		}
	}
	return valueNull, nil
}

type notExpr struct{ e evalExpr }

func (e *notExpr) String() string { return "NOT " + e.e.String() }

func (e *notExpr) eval(x *evalCtx) (value, error) {
	v, err := e.e.eval(x)
	if err != nil {
		return v, err
	}
	t, known, err := truth(v)
	if err != nil || !known {
		return valueNull, err
	}
	return boolValue(!t), nil
}

// isExpr is IS [NOT] NULL (what 'n'), IS [NOT] TRUE ('t'), IS [NOT] FALSE ('f').
type isExpr struct {
	e    evalExpr
	what byte
	not  bool
}

func (e *isExpr) String() string {
	s := e.e.String() + " IS "
	if e.not {
		s += "NOT "
	}
	return s + map[byte]string{'n': "NULL", 't': "TRUE", 'f': "FALSE"}[e.what]
}

func (e *isExpr) eval(x *evalCtx) (value, error) {
	v, err := e.e.eval(x)
	if err != nil {
		return v, err
	}
	var res bool
	if e.what == 'n' {
		res = v.kind == valNull
	} else {
		t, known, err := truth(v)
		if err != nil {
			return valueNull, err
		}
		res = known && t == (e.what == 't')
	}
	return boolValue(res != e.not), nil
}

// inExpr is [NOT] IN (list).
type inExpr struct {
	e    evalExpr
	list []evalExpr
	not  bool
}

func (e *inExpr) String() string {
	parts := make([]string, len(e.list))
	for i, l := range e.list {
		parts[i] = l.String()
	}
	op := " IN ("
	if e.not {
		op = " NOT IN ("
	}
	return e.e.String() + op + strings.Join(parts, ", ") + ")"
}

func (e *inExpr) eval(x *evalCtx) (value, error) {
	v, err := e.e.eval(x)
	if err != nil || v.kind == valNull {
		return valueNull, err
	}
	sawNull := false
	for _, item := range e.list {
		w, err := item.eval(x)
		if err != nil {
			return w, err
		}
		if w.kind == valNull {
			sawNull = true
			continue
		}
		c, err := compareNumbers(v, w)
		if err != nil {
			return valueNull, err
		}
		if c == 0 {
			return boolValue(!e.not), nil
		}
	}
	if sawNull {
		return valueNull, nil
	}
	return boolValue(e.not), nil
}

// arithExpr is +, -, *, /, DIV or %.
type arithExpr struct {
	op   opcode.Op
	l, r evalExpr
}

func (e *arithExpr) String() string { return binaryString(e.op, e.l, e.r) }

// divPrecisionIncrement is MariaDB's default div_precision_increment: a
// division has the dividend's scale plus 4.
const divPrecisionIncrement = 4

func (e *arithExpr) eval(x *evalCtx) (value, error) {
	l, r, err := evalBoth(x, e.l, e.r)
	if err != nil {
		return valueNull, err
	}
	if l.kind == valNull || r.kind == valNull {
		return valueNull, nil
	}
	if err := numeric(l); err != nil {
		return valueNull, err
	}
	if err := numeric(r); err != nil {
		return valueNull, err
	}
	switch {
	case l.kind == valFloat || r.kind == valFloat || l.kind == valStr || r.kind == valStr:
		return floatArith(e.op, l.float(), r.float()), nil
	case l.kind == valInt && r.kind == valInt && e.op != opcode.Div:
		return e.intArith(l.i, r.i)
	}
	return decimalArith(e.op, l, r), nil
}

func (e *arithExpr) intArith(a, b int64) (value, error) {
	var v int64
	ok := true
	switch e.op {
	case opcode.Plus:
		v, ok = addInt64(a, b)
	case opcode.Minus:
		v, ok = addInt64(a, -b)
		ok = ok && b != math.MinInt64
	case opcode.Mul:
		v, ok = mulInt64(a, b)
	case opcode.IntDiv:
		if b == 0 {
			return valueNull, nil
		}
		if a == math.MinInt64 && b == -1 {
			ok = false
		}
		v = a / b
	case opcode.Mod:
		if b == 0 {
			return valueNull, nil
		}
		if b == -1 {
			return value{kind: valInt}, nil
		}
		v = a % b
	}
	if !ok {
		return valueNull, errorf(ErDataOutOfRange, "BIGINT value is out of range in '%s'", e.String())
	}
	return value{kind: valInt, i: v}, nil
}

func floatArith(op opcode.Op, a, b float64) value {
	var v float64
	switch op {
	case opcode.Plus:
		v = a + b
	case opcode.Minus:
		v = a - b
	case opcode.Mul:
		v = a * b
	case opcode.Div:
		if b == 0 {
			return valueNull
		}
		v = a / b
	case opcode.IntDiv:
		if b == 0 {
			return valueNull
		}
		return value{kind: valInt, i: int64(a / b)}
	case opcode.Mod:
		if b == 0 {
			return valueNull
		}
		v = math.Mod(a, b)
	}
	return value{kind: valFloat, f: v}
}

// decimalArith is exact arithmetic, as MariaDB's: the result holds the
// digits MariaDB holds and is typed with the fraction digits it types it
// with (+, -, MOD: the larger; *: the sum; /: the dividend's plus 4).
func decimalArith(op opcode.Op, l, r value) value {
	a, b := l.decimal(), r.decimal()
	ls, rs := l.shownScale(), r.shownScale()
	var d decimal
	shown := max(ls, rs)
	ok := true
	switch op {
	case opcode.Plus:
		d = a.add(b)
	case opcode.Minus:
		d = a.sub(b)
	case opcode.Mul:
		d, shown = a.mul(b), ls+rs
	case opcode.Div:
		d, ok = a.divInternal(b)
		shown = ls + divPrecisionIncrement
	case opcode.IntDiv:
		d, ok = a.intDiv(b)
		shown = 0
	case opcode.Mod:
		d, ok = a.mod(b)
	}
	if !ok {
		return valueNull // division by zero is NULL
	}
	if op == opcode.IntDiv && d.big == nil {
		return value{kind: valInt, i: d.small}
	}
	return value{kind: valDec, d: d, shown: min(shown, maxDecimalScale)}
}

// maxDecimalScale is the most fraction digits a MariaDB DECIMAL has.
const maxDecimalScale = 38

// avgExpr is an AVG inside an expression: its combined SUM over COUNT, as
// MariaDB holds it (more digits than the column shows), and as a double
// its sum and count divided as doubles, as MariaDB reads an AVG as one.
type avgExpr struct{ sum, count evalExpr }

func (e *avgExpr) String() string { return "(" + e.sum.String() + " / " + e.count.String() + ")" }

func (e *avgExpr) eval(x *evalCtx) (value, error) {
	sum, count, err := evalBoth(x, e.sum, e.count)
	if err != nil || sum.kind == valNull || count.kind == valNull {
		return valueNull, err
	}
	if sum.kind != valInt && sum.kind != valDec {
		return floatArith(opcode.Div, sum.float(), count.float()), nil
	}
	v := decimalArith(opcode.Div, sum, count)
	if v.kind == valDec && count.float() != 0 {
		v.f, v.asDouble = sum.float()/count.float(), true
	}
	return v, nil
}

type negExpr struct{ e evalExpr }

func (e *negExpr) String() string { return "-" + e.e.String() }

func (e *negExpr) eval(x *evalCtx) (value, error) {
	v, ok, err := numberOperand(x, e.e)
	if !ok {
		return valueNull, err
	}
	switch v.kind {
	case valInt:
		if v.i == math.MinInt64 {
			return decValue(decimalFromInt(v.i).neg()), nil
		}
		return value{kind: valInt, i: -v.i}, nil
	case valDec:
		return value{kind: valDec, d: v.d.neg(), shown: v.shown}, nil
	}
	return value{kind: valFloat, f: -v.float()}, nil
}

// numberOperand evaluates the operand of a function of one number: ok is
// false for NULL, and for a value that is no number (with the error).
func numberOperand(x *evalCtx, e evalExpr) (v value, ok bool, err error) {
	if v, err = e.eval(x); err != nil || v.kind == valNull {
		return v, false, err
	}
	if err := numeric(v); err != nil {
		return v, false, err
	}
	return v, true, nil
}

// evalBoth evaluates a binary operator's operands, left first.
func evalBoth(x *evalCtx, left, right evalExpr) (l, r value, err error) {
	if l, err = left.eval(x); err != nil {
		return l, r, err
	}
	r, err = right.eval(x)
	return l, r, err
}

// coalesceExpr is COALESCE(a, ...) or IFNULL(a, b): the first argument
// that is not NULL.
type coalesceExpr struct {
	name string
	args []evalExpr
}

func (e *coalesceExpr) String() string { return callString(e.name, e.args) }

// callString describes a function call.
func callString(name string, args []evalExpr) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

func (e *coalesceExpr) eval(x *evalCtx) (value, error) {
	for _, a := range e.args {
		v, err := a.eval(x)
		if err != nil || v.kind != valNull {
			return v, err
		}
	}
	return valueNull, nil
}

// roundExpr is ROUND(e, digits) as MariaDB rounds: an exact value half away
// from zero, typed with digits fraction digits; a double to even, as
// rint(e × 10^digits) / 10^digits; an integer as it is.
type roundExpr struct {
	e      evalExpr
	digits int
}

func (e *roundExpr) String() string {
	return "ROUND(" + e.e.String() + ", " + strconv.Itoa(e.digits) + ")"
}

func (e *roundExpr) eval(x *evalCtx) (value, error) {
	v, ok, err := numberOperand(x, e.e)
	if !ok || v.kind == valInt {
		return v, err
	}
	if v.kind == valDec {
		return value{kind: valDec, d: v.d.round(e.digits), shown: e.digits}, nil
	}
	f, scale := v.float(), math.Pow10(e.digits)
	if scaled := f * scale; !math.IsInf(scaled, 0) {
		f = math.RoundToEven(scaled) / scale
	}
	return value{kind: valFloat, f: f}, nil
}

// caseExpr is CASE WHEN c THEN r ... [ELSE e] END, and IF(c, a, b) and
// NULLIF(a, b) written as one: the result of the first condition that is
// true, else the ELSE (NULL when there is none).
type caseExpr struct {
	conds, results []evalExpr
	orElse         evalExpr // nil: NULL
}

func (e *caseExpr) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i, c := range e.conds {
		b.WriteString(" WHEN " + c.String() + " THEN " + e.results[i].String())
	}
	if e.orElse != nil {
		b.WriteString(" ELSE " + e.orElse.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *caseExpr) eval(x *evalCtx) (value, error) {
	for i, c := range e.conds {
		v, err := c.eval(x)
		if err != nil {
			return valueNull, err
		}
		isTrue, _, err := truth(v)
		if err != nil {
			return valueNull, err
		}
		if isTrue {
			return e.results[i].eval(x)
		}
	}
	if e.orElse == nil {
		return valueNull, nil
	}
	return e.orElse.eval(x)
}

// mathExpr is ABS, FLOOR or CEIL(ING) of a number: an integer stays one,
// a decimal keeps its type (ABS) or loses its fraction, a double stays a
// double.
type mathExpr struct {
	fn string // "ABS", "FLOOR", "CEIL"
	e  evalExpr
}

func (e *mathExpr) String() string { return e.fn + "(" + e.e.String() + ")" }

func (e *mathExpr) eval(x *evalCtx) (value, error) {
	v, ok, err := numberOperand(x, e.e)
	if !ok {
		return valueNull, err
	}
	switch v.kind {
	case valInt:
		if e.fn == "ABS" && v.i < 0 {
			if v.i == math.MinInt64 {
				return valueNull, errorf(ErDataOutOfRange, "BIGINT value is out of range in '%s'", e.String())
			}
			v.i = -v.i
		}
		return v, nil
	case valDec:
		if e.fn == "ABS" {
			if v.d.sign() < 0 {
				v.d = v.d.neg()
			}
			return v, nil
		}
		whole, _ := v.d.intDiv(decimal{small: 1}) // toward zero
		if rest := v.d.sub(whole); e.fn == "FLOOR" && rest.sign() < 0 {
			whole = whole.sub(decimal{small: 1})
		} else if e.fn == "CEIL" && rest.sign() > 0 {
			whole = whole.add(decimal{small: 1})
		}
		if whole = whole.normalize(); whole.big == nil && whole.scale == 0 {
			return value{kind: valInt, i: whole.small}, nil
		}
		return decValue(whole), nil
	}
	f := v.float()
	switch e.fn {
	case "ABS":
		f = math.Abs(f)
	case "FLOOR":
		f = math.Floor(f)
	default:
		f = math.Ceil(f)
	}
	if f == 0 {
		f = 0 // CEIL(-0.5) is 0, not -0
	}
	return value{kind: valFloat, f: f}, nil
}

// extremeExpr is GREATEST or LEAST: NULL when an argument is, else the
// largest (smallest) as numbers compare.
type extremeExpr struct {
	least bool
	args  []evalExpr
}

func (e *extremeExpr) String() string {
	if e.least {
		return callString("LEAST", e.args)
	}
	return callString("GREATEST", e.args)
}

func (e *extremeExpr) eval(x *evalCtx) (value, error) {
	var best value
	for i, a := range e.args {
		v, err := a.eval(x)
		if err != nil || v.kind == valNull {
			return valueNull, err
		}
		if i == 0 {
			best = v
			continue
		}
		c, err := compareNumbers(v, best)
		if err != nil {
			return valueNull, err
		}
		if (c > 0 && !e.least) || (c < 0 && e.least) {
			best = v
		}
	}
	return best, nil
}

// castExpr is CAST(e AS type) to a number, as MariaDB 10.11 casts
// (measured): DECIMAL(m, d) rounds half away from zero and clamps to the
// type's largest value; SIGNED and UNSIGNED round a decimal half away from
// zero and a double to even and clamp, UNSIGNED wrapping a negative
// integer but making a negative decimal or double 0; DOUBLE converts.
type castExpr struct {
	e      evalExpr
	to     byte // 'd' DECIMAL, 's' SIGNED, 'u' UNSIGNED, 'f' DOUBLE
	digits int  // DECIMAL(digits, scale)
	scale  int
}

func (e *castExpr) String() string {
	switch e.to {
	case 'd':
		return "CAST(" + e.e.String() + " AS DECIMAL(" + strconv.Itoa(e.digits) + "," + strconv.Itoa(e.scale) + "))"
	case 's':
		return "CAST(" + e.e.String() + " AS SIGNED)"
	case 'u':
		return "CAST(" + e.e.String() + " AS UNSIGNED)"
	}
	return "CAST(" + e.e.String() + " AS DOUBLE)"
}

func (e *castExpr) eval(x *evalCtx) (value, error) {
	v, ok, err := numberOperand(x, e.e)
	if !ok {
		return valueNull, err
	}
	if e.to == 'f' {
		return value{kind: valFloat, f: v.float()}, nil
	}
	// A decimal converts as its type holds it: rounded to the digits shown.
	var d decimal
	switch v.kind {
	case valInt, valDec:
		d = v.compared()
	default:
		if e.to != 'd' {
			// A double becomes an integer rounded to even.
			d = exactValue(value{kind: valFloat, f: math.RoundToEven(v.float())})
		} else {
			d = exactValue(v)
		}
	}
	if e.to == 'd' {
		d = d.round(e.scale)
		limit, _ := parseDecimal([]byte(strings.Repeat("9", max(e.digits-e.scale, 0)) + "." + strings.Repeat("9", e.scale)))
		if d.cmp(limit) > 0 {
			d = limit.round(e.scale)
		} else if d.cmp(limit.neg()) < 0 {
			d = limit.neg().round(e.scale)
		}
		return decValue(d), nil
	}
	d = d.round(0).normalize()
	if e.to == 'u' {
		switch {
		case v.kind == valInt && v.i < 0:
			d, _ = parseDecimal(strconv.AppendUint(nil, uint64(v.i), 10)) // an integer wraps
		case d.sign() < 0:
			d = decimal{} // a decimal or double below zero is 0
		case d.cmp(maxUint64) > 0:
			d = maxUint64
		}
		if d.big != nil || d.small < 0 {
			return decValue(d), nil
		}
		return value{kind: valInt, i: d.small}, nil
	}
	switch {
	case d.cmp(decimalFromInt(math.MaxInt64)) > 0:
		d = decimalFromInt(math.MaxInt64)
	case d.cmp(decimalFromInt(math.MinInt64)) < 0:
		d = decimalFromInt(math.MinInt64)
	}
	return value{kind: valInt, i: d.normalize().small}, nil
}

// maxUint64 is BIGINT UNSIGNED's largest value.
var maxUint64, _ = parseDecimal([]byte("18446744073709551615"))
