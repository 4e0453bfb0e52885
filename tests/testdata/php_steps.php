<?php
// Prints what PHP's mysqlnd clients (PDO and mysqli) see for a series of
// steps, so that the output through the proxy can be compared with MariaDB's
// (tests/php_test.go). Run it as: php php_steps.php host port user password db
[$_, $host, $port, $user, $pass, $db] = $argv;
mysqli_report(MYSQLI_REPORT_OFF);

function show($label, $v) { echo $label, ' ', json_encode($v, JSON_INVALID_UTF8_SUBSTITUTE), "\n"; }

function pdoRun(PDO $pdo, string $sql, array $args = null) {
    try {
        if ($args === null) {
            $st = $pdo->query($sql);
        } else {
            $st = $pdo->prepare($sql);
            $st->execute($args);
        }
        $out = [];
        do {
            $meta = [];
            for ($i = 0; $i < $st->columnCount(); $i++) {
                $m = $st->getColumnMeta($i);
                $meta[] = [$m['name'], $m['native_type'] ?? null, $m['len'], $m['precision'], $m['flags']];
            }
            $rows = $st->columnCount() > 0 ? $st->fetchAll(PDO::FETCH_NUM) : [];
            $out[] = ['meta' => $meta, 'rows' => $rows, 'count' => $st->rowCount()];
        } while ($st->nextRowset());
        show($sql, $out);
    } catch (PDOException $e) {
        show($sql, ['error' => $e->errorInfo]);
    }
}

foreach ([true, false] as $emulate) {
    echo "=== PDO emulate prepares ", $emulate ? "on" : "off", "\n";
    $pdo = new PDO("mysql:host=$host;port=$port;dbname=$db;charset=utf8mb4", $user, $pass, [
        PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION,
        PDO::ATTR_EMULATE_PREPARES => $emulate,
        PDO::MYSQL_ATTR_MULTI_STATEMENTS => true,
    ]);
    pdoRun($pdo, "DROP TABLE IF EXISTS pt");
    pdoRun($pdo, "CREATE TABLE pt (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL UNIQUE, amount DECIMAL(10,2), at DATETIME(6), data BLOB, f FLOAT, u BIGINT UNSIGNED, b BIT(3), j JSON)");
    pdoRun($pdo, "INSERT INTO pt (name, amount, at, data, f, u, b, j) VALUES (?, ?, ?, ?, ?, ?, b'101', ?)",
        ["a'b\\c", "12.50", "2020-01-02 03:04:05.123456", "\x00\x01\xff", 1.5, "18446744073709551615", '{"k": [1, 2]}']);
    show("lastInsertId", $pdo->lastInsertId());
    pdoRun($pdo, "INSERT INTO pt (name) VALUES ('x'), ('y')");
    show("lastInsertId", $pdo->lastInsertId());
    pdoRun($pdo, "SELECT * FROM pt ORDER BY id");
    pdoRun($pdo, "SELECT id, name FROM pt WHERE id > ? AND name <> ? ORDER BY id", [0, "zz"]);
    pdoRun($pdo, "SELECT ? AS a, ? AS b, ? AS c, ? AS d", [null, true, 3, "x"]);
    pdoRun($pdo, "INSERT INTO pt (name) VALUES ('x')");
    pdoRun($pdo, "UPDATE pt SET f = 2 WHERE id > 0");
    pdoRun($pdo, "SELECT 1 AS one; SELECT 2 AS two; UPDATE pt SET f = 3 WHERE name = 'x'");
    $pdo->beginTransaction();
    pdoRun($pdo, "INSERT INTO pt (name) VALUES ('t1')");
    show("inTransaction", $pdo->inTransaction());
    $pdo->rollBack();
    pdoRun($pdo, "SELECT COUNT(*) FROM pt WHERE name = 't1'");
    pdoRun($pdo, "SELECT @@in_transaction"); // @@autocommit: 2 digits wide through the proxy (docs/behaviour.md)
    pdoRun($pdo, "CALL nosuch()");
    pdoRun($pdo, "SELECT CAST('x' AS SIGNED)");
    show("warnings", $pdo->query("SHOW WARNINGS")->fetchAll(PDO::FETCH_NUM));
    $st = $pdo->prepare("SELECT id FROM pt WHERE id = :id");
    foreach ([1, 2, 99] as $id) { $st->execute([':id' => $id]); show("named $id", $st->fetchAll(PDO::FETCH_NUM)); }
    // Unbuffered: a statement while rows are still unread.
    $pdo->setAttribute(PDO::MYSQL_ATTR_USE_BUFFERED_QUERY, false);
    $st = $pdo->query("SELECT seq FROM seq_1_to_1000");
    show("first", $st->fetch(PDO::FETCH_NUM));
    $st->closeCursor();
    pdoRun($pdo, "SELECT COUNT(*) FROM pt");
    $pdo->setAttribute(PDO::MYSQL_ATTR_USE_BUFFERED_QUERY, true);
    pdoRun($pdo, "DROP TABLE pt");
    // The sharded test's users table, when there is one: statements merged
    // from several shards.
    if ($pdo->query("SHOW TABLES LIKE 'users'")->fetch()) {
        pdoRun($pdo, "SELECT id, name, score, born FROM users WHERE id <= ? ORDER BY id", [8]);
        pdoRun($pdo, "SELECT country_id, COUNT(*), SUM(score), AVG(age), MIN(born) FROM users WHERE age > ? GROUP BY country_id ORDER BY 1", [30]);
        pdoRun($pdo, "SELECT ? AS tag, COUNT(country_id), MAX(score) FROM users WHERE name LIKE ?", ["t", "a%"]);
        pdoRun($pdo, "SELECT id, score FROM users ORDER BY score DESC, id LIMIT ?, ?", [3, 4]);
    }
}

echo "=== mysqli\n";
$m = new mysqli($host, $user, $pass, $db, (int)$port);
$m->set_charset("utf8mb4");
show("server_info", substr($m->server_info, 0, 7));
show("character_set_name", $m->character_set_name());
$m->query("DROP TABLE IF EXISTS mt");
$m->query("CREATE TABLE mt (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
$m->query("INSERT INTO mt (v) VALUES ('a'), ('b')");
show("insert_id affected info", [$m->insert_id, $m->affected_rows, $m->info]);
$m->query("UPDATE mt SET v = 'c' WHERE id > 0");
show("update affected info", [$m->affected_rows, $m->info]);
show("escape", $m->real_escape_string("a'b\\c\"d"));
$r = $m->query("SELECT id, v FROM mt ORDER BY id");
$fields = array_map(fn($f) => [$f->name, $f->orgname, $f->table, $f->orgtable, $f->db, $f->type, $f->length, $f->flags, $f->decimals, $f->charsetnr], $r->fetch_fields());
show("fields", $fields);
show("rows", $r->fetch_all());
$st = $m->prepare("SELECT v, id * ? FROM mt WHERE id >= ?");
$two = 2; $one = 1;
$st->bind_param("ii", $two, $one);
$st->execute();
show("prepared", $st->get_result()->fetch_all());
$st->close();
$m->multi_query("SELECT 1; SELECT 2, 3; INSERT INTO mt (v) VALUES ('d')");
$sets = [];
do {
    if ($res = $m->store_result()) { $sets[] = $res->fetch_all(); $res->free(); }
    else { $sets[] = ['affected' => $m->affected_rows, 'insert_id' => $m->insert_id]; }
} while ($m->more_results() && $m->next_result());
show("multi", $sets);
show("ping", $m->ping());
show("stat", strncmp($m->stat(), "Uptime:", 7) == 0);
show("select_db", $m->select_db($db));
$m->query("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci");
$m->query("SELECT nosuch FROM mt");
show("error", [$m->errno, $m->sqlstate, $m->error]);
$r = $m->query("SHOW WARNINGS");
show("warning fields", array_map(fn($f) => [$f->name, $f->type, $f->length, $f->flags, $f->decimals, $f->charsetnr], $r->fetch_fields()));
show("warning rows", $r->fetch_all());
$m->set_charset("utf8mb4");
show("change_user", $m->change_user($user, $pass, $db));
$r = $m->query("SELECT @@autocommit, DATABASE() IS NOT NULL");
show("after change_user", $r->fetch_all());
$m->autocommit(false);
$m->query("INSERT INTO mt (v) VALUES ('tx')");
$m->rollback();
$m->autocommit(true);
show("rolled back", $m->query("SELECT COUNT(*) FROM mt WHERE v = 'tx'")->fetch_all());
$m->query("DROP TABLE mt");
$m->close();
