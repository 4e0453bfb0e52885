package proxy

import "strings"

// logicalMessage is a backend's error or warning message with the shards'
// databases named by their logical schema ("Table 'shop_2.users' doesn't
// exist" becomes 'shop.users'): clients see logical schemas only. Only
// quoted names are replaced ('db.t', 'db', `db`), so that a database name
// that is also a word of the message stays.
func (t *topology) logicalMessage(msg string) string {
	if !strings.ContainsAny(msg, "'`") {
		return msg
	}
	for _, sc := range t.schemas {
		for _, sh := range sc.shards {
			if sh.db == sc.name || !strings.Contains(msg, sh.db) {
				continue
			}
			for _, q := range [...][2]string{{"'", "."}, {"'", "'"}, {"`", "`"}} {
				msg = strings.ReplaceAll(msg, q[0]+sh.db+q[1], q[0]+sc.name+q[1])
			}
		}
	}
	return msg
}
