package router

import (
	"fmt"
	"math/bits"
	"strconv"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/sqlparse"
)

// hashAlgorithm spreads keys evenly: shard = the high 64 bits of
// Hash(key) * N, i.e. the hash space split into N equal contiguous ranges.
type hashAlgorithm int

func (h hashAlgorithm) Name() string { return conf.AlgorithmHash }
func (h hashAlgorithm) Shards() int  { return int(h) }

func (h hashAlgorithm) Shard(v Value) (int, error) {
	x, err := Hash(v)
	if err != nil {
		return 0, err
	}
	return hashShard(x, int(h)), nil
}

// hashShard maps a hash to the shard owning its range of the hash space.
func hashShard(x uint64, n int) int {
	hi, _ := bits.Mul64(x, uint64(n))
	return int(hi)
}

// Hash is the stable 64-bit hash of a shard key. Changing it moves data.
//
//  1. Canonical form: a key that reads as an integer (toInteger: Int, Uint,
//     whole Float, or a Decimal/String/Bytes such as "5", " 5", "+5",
//     "005", "5.0") is the decimal text of that integer ("5", "-7",
//     "18446744073709551615"), so 5 and '5' hash alike. Any other String,
//     Bytes or Decimal is its bytes unchanged; any other Float is
//     strconv.FormatFloat(f, 'f', -1, 64) ("2.5"). NULL has no hash.
//  2. FNV-1a 64 over those bytes (offset basis 14695981039346656037,
//     prime 1099511628211).
//  3. The murmur3 fmix64 finalizer: h ^= h>>33; h *= 0xff51afd7ed558ccd;
//     h ^= h>>33; h *= 0xc4ceb9a63d4a3f53; h ^= h>>33.
//
// String keys compare by bytes: give hash-sharded text columns a binary or
// case-sensitive collation, or 'A' and 'a' (equal in MySQL) land apart.
func Hash(v Value) (uint64, error) {
	var buf [24]byte
	b, ok := canonical(v, buf[:0])
	if !ok {
		return 0, fmt.Errorf("cannot hash %s", v)
	}
	return fmix64(fnv1a(b)), nil
}

// canonical appends the canonical form of a key (step 1 above) to buf;
// false for NULL. Equal canonical forms are the same key.
func canonical(v Value, buf []byte) ([]byte, bool) {
	if k, ok := toInteger(v); ok {
		return k.appendDecimal(buf), true
	}
	switch v.Kind() {
	case sqlparse.KindString, sqlparse.KindBytes, sqlparse.KindDecimal:
		return append(buf, v.Str()...), true
	case sqlparse.KindFloat:
		return strconv.AppendFloat(buf, v.Float(), 'f', -1, 64), true
	}
	return buf, false
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func fnv1a[T string | []byte](b T) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(b); i++ {
		h = (h ^ uint64(b[i])) * fnvPrime
	}
	return h
}

func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9a63d4a3f53
	h ^= h >> 33
	return h
}
