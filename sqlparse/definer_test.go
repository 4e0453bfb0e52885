package sqlparse

import "testing"

func TestWithoutDefiner(t *testing.T) {
	for sql, want := range map[string]string{
		"CREATE DEFINER=`root`@`127.0.0.1` PROCEDURE `p1`()\nSELECT 1": "CREATE                            PROCEDURE `p1`()\nSELECT 1",
		"create or replace definer = 'app'@'%' procedure p() select 1": "create or replace                     procedure p() select 1",
		"CREATE DEFINER=CURRENT_USER() PROCEDURE p() SELECT 1":         "CREATE                        PROCEDURE p() SELECT 1",
		"CREATE DEFINER = app@localhost PROCEDURE p() SELECT 1":        "CREATE                         PROCEDURE p() SELECT 1",
		"CREATE PROCEDURE p() SELECT 1":                                "",
		"CREATE DEFINER PROCEDURE p() SELECT 1":                        "",
		"SELECT 'CREATE DEFINER=x'":                                    "",
	} {
		got, ok := WithoutDefiner(sql)
		if want == "" {
			if ok {
				t.Errorf("%q: blanked to %q, want untouched", sql, got)
			}
			continue
		}
		if !ok || got != want || len(got) != len(sql) {
			t.Errorf("%q:\n got %q (%v)\nwant %q", sql, got, ok, want)
		}
	}
}
