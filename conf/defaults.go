package conf

import "time"

// topDefaults holds every scalar key outside the lists. Registering them with
// viper is also what lets SHARDPROXY_* variables override them: AutomaticEnv
// only consults keys viper already knows.
var topDefaults = map[string]any{
	"listen":                   "127.0.0.1:6033",
	"admin_listen":             "127.0.0.1:6034",
	"max_connections":          4096,
	"shutdown_timeout":         30 * time.Second,
	"max_execution_time":       time.Duration(0),
	"max_merge_rows":           100000,
	"tls.cert":                 "",
	"tls.key":                  "",
	"require_secure_transport": false,
	"log.level":                "info",
	"log.format":               "console",
	"log.slow_query":           500 * time.Millisecond,
}

// Viper cannot default keys inside list items, so these are filled into the
// raw settings before decoding. Doing it there, rather than on zero values
// after decoding, keeps an explicit 0 (say pool.max_idle: 0) as written.
var (
	nodeDefaults = map[string]any{
		"user":            "root",
		"max_replica_lag": 30 * time.Second,
		"pool": map[string]any{
			"max_open":     64,
			"max_idle":     16,
			"idle_timeout": 5 * time.Minute,
		},
	}
	schemaDefaults = map[string]any{
		"read_from":     ReadFromPrimary,
		"default_shard": 0,
	}
)

// fillListDefaults applies the per-item defaults to every node and schema.
func fillListDefaults(settings map[string]any) {
	for list, defaults := range map[string]map[string]any{"nodes": nodeDefaults, "schemas": schemaDefaults} {
		items, _ := settings[list].([]any)
		for _, item := range items {
			if m, ok := item.(map[string]any); ok {
				fillMissing(m, defaults)
			}
		}
	}
}

// fillMissing sets each default whose key is absent, null or "" in m.
// A value of the wrong type is left alone for the decoder to report.
func fillMissing(m, defaults map[string]any) {
	for key, def := range defaults {
		cur := m[key]
		if sub, isMap := def.(map[string]any); isMap {
			if cur == nil {
				cur = map[string]any{}
				m[key] = cur
			}
			if curMap, ok := cur.(map[string]any); ok {
				fillMissing(curMap, sub)
			}
			continue
		}
		if cur == nil || cur == "" {
			m[key] = def
		}
	}
}
