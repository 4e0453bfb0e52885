package sqlparse

import (
	"strings"
	"testing"
)

func TestIsShowPackageStatus(t *testing.T) {
	for sql, want := range map[string]bool{
		"SHOW PACKAGE STATUS WHERE Db = 'shop'":     true,
		"show /* x */ package body status like 'p'": true,
		"SHOW PACKAGE BODY":                         false,
		"SHOW PROCEDURE STATUS":                     false,
		"SELECT 'SHOW PACKAGE STATUS'":              false,
	} {
		if got := IsShowPackageStatus(sql); got != want {
			t.Errorf("%q: %v, want %v", sql, got, want)
		}
	}
}

func TestReplaceStrings(t *testing.T) {
	upper := func(s string) (string, bool) {
		if s == "shop" || s == "sh%" {
			return strings.ToUpper(s) + "_0", true
		}
		return "", false
	}
	for sql, want := range map[string]string{
		"SHOW PACKAGE STATUS WHERE Db = 'shop'":            "SHOW PACKAGE STATUS WHERE Db = 'SHOP_0'",
		`x = "shop" OR y LIKE 'sh%' OR z = 'other'`:        `x = 'SHOP_0' OR y LIKE 'SH%_0' OR z = 'other'`,
		"a = 'it''s shop' -- 'shop'\n AND `shop` = 'shop'": "a = 'it''s shop' -- 'shop'\n AND `shop` = 'SHOP_0'",
		`a = 'sh\op'`: `a = 'sh\op'`,
		"none":        "none",
	} {
		if got := ReplaceStrings(sql, upper); got != want {
			t.Errorf("%q:\n got %q\nwant %q", sql, got, want)
		}
	}
}
