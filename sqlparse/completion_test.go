package sqlparse

import "testing"

func TestCompletionOf(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want Completion
	}{
		{"COMMIT", Completion{}},
		{"commit work", Completion{}},
		{"COMMIT AND CHAIN", Completion{Chain: true}},
		{"COMMIT AND NO CHAIN", Completion{NoChain: true}},
		{"ROLLBACK RELEASE", Completion{Release: true}},
		{"rollback work no release", Completion{NoRelease: true}},
		{"COMMIT AND NO CHAIN NO RELEASE", Completion{NoChain: true, NoRelease: true}},
		{"COMMIT AND CHAIN NO RELEASE", Completion{Chain: true, NoRelease: true}},
		{"COMMIT /* no */ AND -- no\n CHAIN;", Completion{Chain: true}},
		{"COMMIT AND NO/**/CHAIN", Completion{NoChain: true}},
	} {
		if got := CompletionOf(tc.sql); got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.sql, got, tc.want)
		}
	}
}
