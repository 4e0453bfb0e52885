package conf

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix is the prefix of environment variables overriding keys:
// SHARDPROXY_LISTEN for listen, SHARDPROXY_LOG_LEVEL for log.level.
const EnvPrefix = "SHARDPROXY"

// ValidationError lists every problem found in a configuration, each naming
// its key, e.g. `schemas[0].shards[2].node: unknown node "n9"`.
type ValidationError struct {
	Problems []string
}

// Error returns the problems one per line.
func (e *ValidationError) Error() string { return strings.Join(e.Problems, "\n") }

// Load reads the YAML file at path, applies defaults, SHARDPROXY_* overrides
// and ${NAME} expansion, and validates the result. A configuration with
// problems yields a *ValidationError listing all of them.
func Load(path string) (*Config, error) {
	v := viper.New()
	v.SetConfigFile(path)
	v.SetConfigType("yaml") // whatever the file's extension
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()
	for key, value := range topDefaults {
		v.SetDefault(key, value)
	}
	if err := v.ReadInConfig(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}

	settings := v.AllSettings()
	problems := unknownKeys("", settings, reflect.TypeFor[Config]())
	expandEnv(settings)
	fillListDefaults(settings)

	cfg, typeProblems := decode(settings)
	problems = append(problems, typeProblems...)
	if len(typeProblems) == 0 { // a half-decoded config would add spurious problems
		for _, err := range cfg.Validate() {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return cfg, nil
}

// unknownKeys walks raw settings alongside the struct they decode into and
// names every key the struct has no field for.
func unknownKeys(path string, raw any, typ reflect.Type) []string {
	var problems []string
	switch typ.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			return nil // a type mismatch, reported by decode
		}
		for _, key := range slices.Sorted(maps.Keys(m)) {
			field, known := fieldByTag(typ, key)
			if !known {
				problems = append(problems, join(path, key)+": unknown key")
				continue
			}
			problems = append(problems, unknownKeys(join(path, key), m[key], field.Type)...)
		}
	case reflect.Slice:
		items, _ := raw.([]any)
		for i, item := range items {
			problems = append(problems, unknownKeys(fmt.Sprintf("%s[%d]", path, i), item, typ.Elem())...)
		}
	}
	return problems
}

func fieldByTag(typ reflect.Type, tag string) (reflect.StructField, bool) {
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Tag.Get("mapstructure") == tag {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} in every string of the decoded YAML with the
// environment variable NAME (empty if unset). Working on decoded values means
// a substituted value cannot break the YAML, and touching only that exact
// form lets a password such as "pa$word" survive.
func expandEnv(raw any) any {
	switch x := raw.(type) {
	case string:
		return envRef.ReplaceAllStringFunc(x, func(ref string) string {
			return os.Getenv(ref[2 : len(ref)-1])
		})
	case map[string]any:
		for k, v := range x {
			x[k] = expandEnv(v)
		}
	case []any:
		for i, v := range x {
			x[i] = expandEnv(v)
		}
	}
	return raw
}

// decode turns settings into a Config. Input is weakly typed because
// environment overrides arrive as strings ("10", "true").
func decode(settings map[string]any) (*Config, []string) {
	var cfg Config
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{
		Result:           &cfg,
		WeaklyTypedInput: true,
		DecodeHook:       durationHook,
	})
	if err == nil {
		err = dec.Decode(settings)
	}
	return &cfg, decodeProblems(err)
}

// decodeProblems flattens mapstructure's joined errors into "key: message".
func decodeProblems(err error) []string {
	if err == nil {
		return nil
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var problems []string
		for _, e := range joined.Unwrap() {
			problems = append(problems, decodeProblems(e)...)
		}
		return problems
	}
	var de *mapstructure.DecodeError
	if errors.As(err, &de) {
		return []string{de.Name() + ": " + de.Unwrap().Error()}
	}
	if wrapped := errors.Unwrap(err); wrapped != nil { // Decode's "decoding failed..." wrapper
		return decodeProblems(wrapped)
	}
	return []string{err.Error()}
}

// durationHook parses Go durations ("30s", "5m") and refuses a bare non-zero
// number, which would otherwise silently mean nanoseconds.
func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != reflect.TypeFor[time.Duration]() {
		return data, nil
	}
	switch d := data.(type) {
	case string:
		parsed, err := time.ParseDuration(d)
		if err != nil {
			return nil, fmt.Errorf("%q is not a duration (write e.g. 30s, 500ms, 5m)", d)
		}
		return parsed, nil
	case int, int64, uint64, float64:
		if !reflect.ValueOf(d).IsZero() {
			return nil, fmt.Errorf("%v is not a duration (write e.g. %vs)", d, d)
		}
		return time.Duration(0), nil
	}
	return data, nil
}
