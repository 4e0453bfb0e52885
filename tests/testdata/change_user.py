"""COM_CHANGE_USER through libmariadb (MySQLdb's change_user), printing what
a client sees after each change; run against the proxy and against MariaDB
and compared. Schema names print as A and B.

usage: change_user.py host port userA passwordA schemaA userB passwordB schemaB
"""
import sys

import MySQLdb

host, port, user_a, pass_a, db_a, user_b, pass_b, db_b = sys.argv[1:]
labels = {db_a: "A", db_b: "B"}
conn = MySQLdb.connect(host=host, port=int(port), user=user_a, passwd=pass_a, db=db_a)


def query(sql):
    cur = conn.cursor()
    try:
        cur.execute(sql)
        return [list(row) for row in cur.fetchall()]
    except MySQLdb.Error as e:
        return "error %d" % e.args[0]


def change(user, password, db=None):
    try:
        if db is None:
            conn.change_user(user, password)
        else:
            conn.change_user(user, password, db)
        return "ok"
    except MySQLdb.Error as e:
        return "error %d" % e.args[0]


def show(step, result):
    schema = query("SELECT DATABASE()")[0][0]
    print(step, result, "schema", labels.get(schema, schema),
          query("SELECT @v, @@in_transaction, @@autocommit, @@character_set_client"))


query("CREATE TABLE kept (a INT)")
query("SET @v = 1")
query("CREATE TEMPORARY TABLE scratch (a INT)")
query("SET NAMES latin1")
query("SET autocommit = 0")
query("INSERT INTO kept VALUES (1)")
show("wrong password", change(user_b, pass_b + "x", db_b))
print("after it: scratch", query("SELECT COUNT(*) FROM scratch"), "kept", query("SELECT COUNT(*) FROM kept"),
      "use B", query("USE " + db_b), "use A", query("USE " + db_a))
show("to B", change(user_b, pass_b, db_b))
print("B uses A", query("USE " + db_a))
show("to A without schema", change(user_a, pass_a))
show("B to a schema it may not use", change(user_b, pass_b, db_a))
show("back to A", change(user_a, pass_a, db_a))
print("kept", query("SELECT COUNT(*) FROM kept"))
