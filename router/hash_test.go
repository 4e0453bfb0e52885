package router

import (
	"math"
	"testing"
)

// The hash decides where rows live: these values are pinned, byte for byte
// (computed independently of this package). If this test fails, data
// written before the change is on the wrong shards.
func TestHashPinned(t *testing.T) {
	for _, c := range []struct {
		key   Value
		hash  uint64
		shard int // of 4
	}{
		{IntValue(0), 0x6a5f6d808394d494, 1},
		{IntValue(1), 0xb5686bb48073b762, 2},
		{IntValue(5), 0x13923756eb593266, 0},
		{IntValue(-5), 0x91f389a2a988be00, 2},
		{IntValue(42), 0x2f73e71cac1dfad7, 0},
		{IntValue(math.MaxInt64), 0xa7f471dfc230c2f8, 2},
		{IntValue(math.MinInt64), 0x0f568093b76a7abf, 0},
		{UintValue(math.MaxUint64), 0x3ecb11ff48d0a970, 0},
		{StringValue("abc"), 0x28a2dc6e2cc9ed46, 0},
		{StringValue(""), 0xe25c078d6ae9bf50, 3},
		{FloatValue(2.5), 0xf04f9dea24d5bd14, 3},
		{BytesValue([]byte{0xff, 0x00}), 0x6d87388f35188976, 1},
	} {
		h, err := Hash(c.key)
		if err != nil || h != c.hash {
			t.Errorf("Hash(%s) = %#016x, %v; pinned %#016x", c.key, h, err, c.hash)
		}
		if s, err := hashAlgorithm(4).Shard(c.key); err != nil || s != c.shard {
			t.Errorf("shard of %s = %d, %v; pinned %d", c.key, s, err, c.shard)
		}
	}
}

// Every spelling of an integer hashes like the integer.
func TestHashCanonicalIntegers(t *testing.T) {
	want, _ := Hash(IntValue(5))
	for _, v := range []Value{
		StringValue("5"), StringValue(" 5 "), StringValue("+5"), StringValue("005"), StringValue("5.00"),
		BytesValue([]byte("5")), DecimalValue("5.0"), FloatValue(5), UintValue(5),
	} {
		if h, err := Hash(v); err != nil || h != want {
			t.Errorf("Hash(%s) = %#x, %v; want %#x like 5", v, h, err, want)
		}
	}
	minus, _ := Hash(IntValue(-5))
	if h, _ := Hash(StringValue("-5")); h != minus {
		t.Errorf("'-5' hashes apart from -5")
	}
	for _, v := range []Value{StringValue("5a"), StringValue("5.5"), StringValue("0x5"), StringValue("5e0")} {
		if h, _ := Hash(v); h == want {
			t.Errorf("Hash(%s) equals Hash(5): only integers canonicalise", v)
		}
	}
	if _, err := Hash(NullValue()); err == nil {
		t.Error("NULL must have no hash")
	}
}

// The hash space is split in equal contiguous ranges.
func TestHashShardRanges(t *testing.T) {
	for _, c := range []struct {
		n    int
		hash uint64
		want int
	}{
		{4, 0, 0}, {4, 1<<62 - 1, 0}, {4, 1 << 62, 1}, {4, 1<<63 - 1, 1}, {4, 1 << 63, 2}, {4, math.MaxUint64, 3},
		{3, math.MaxUint64 / 3, 0}, {3, math.MaxUint64/3 + 1, 1}, {1, math.MaxUint64, 0},
	} {
		if got := hashShard(c.hash, c.n); got != c.want {
			t.Errorf("hashShard(%#x, %d) = %d, want %d", c.hash, c.n, got, c.want)
		}
	}
}
