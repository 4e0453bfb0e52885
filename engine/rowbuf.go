package engine

// ownedRow is a copy of a row that outlives the stream buffer it came
// from. set reuses the previous capacity, so an operator that holds one row
// at a time (the current group, the last distinct row) copies without
// allocating once warmed up.
type ownedRow struct {
	data []byte
	vals [][]byte
}

func (r *ownedRow) set(row [][]byte) {
	n := 0
	for _, v := range row {
		n += len(v)
	}
	if cap(r.data) < n || r.data == nil {
		r.data = make([]byte, 0, max(n, 64))
	}
	r.data = r.data[:0]
	r.vals = r.vals[:0]
	for _, v := range row {
		if v == nil {
			r.vals = append(r.vals, nil)
			continue
		}
		start := len(r.data)
		r.data = append(r.data, v...) // never reallocates: capacity checked above
		r.vals = append(r.vals, r.data[start:len(r.data):len(r.data)])
	}
}

// size is the memory the row holds, for the sort cap.
func (r *ownedRow) size() int64 {
	return int64(cap(r.data)) + int64(cap(r.vals))*24 + 48
}
