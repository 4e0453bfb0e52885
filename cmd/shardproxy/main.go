// Command shardproxy runs the sharding MySQL proxy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/shardproxy/shardproxy/conf"
	"github.com/shardproxy/shardproxy/proxy"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

func main() {
	os.Exit(run())
}

func run() int {
	configPath := flag.String("config", "conf/shardproxy.yaml", "configuration file")
	check := flag.Bool("check", false, "validate the configuration file and exit")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()

	if *showVersion {
		fmt.Println("shardproxy", version)
		return 0
	}
	cfg, err := conf.Load(*configPath)
	if err != nil {
		var ve *conf.ValidationError
		if errors.As(err, &ve) {
			fmt.Fprintf(os.Stderr, "%s: %d problem(s):\n", *configPath, len(ve.Problems))
			for _, p := range ve.Problems {
				fmt.Fprintln(os.Stderr, "  "+p)
			}
		} else {
			fmt.Fprintln(os.Stderr, err)
		}
		return 1
	}
	if *check {
		fmt.Printf("%s: ok\n", *configPath)
		return 0
	}
	log, level, err := newLogger(cfg.Log)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = log.Sync() }()
	log.Debug("scheduler", zap.Int("gomaxprocs", runtime.GOMAXPROCS(0)))

	srv, err := proxy.New(cfg, log)
	if err != nil {
		log.Error("cannot start", zap.Error(err))
		return 1
	}
	// Signals are caught before the "listening" line: a SIGHUP sent as soon
	// as it appears must reload, not kill the process.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	if err := srv.Listen(cfg.Listen); err != nil {
		log.Error("cannot listen", zap.String("listen", cfg.Listen), zap.Error(err))
		return 1
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()

	for {
		select {
		case err := <-served:
			log.Error("serving stopped", zap.Error(err))
			return 1
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				reload(srv, *configPath, log, level)
				continue
			}
			log.Info("shutting down", zap.String("signal", sig.String()), zap.Duration("timeout", cfg.ShutdownTimeout))
			ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
			srv.Shutdown(ctx)
			cancel()
			log.Info("stopped")
			return 0
		}
	}
}

// reload applies a changed file; one that fails validation changes nothing.
// log.level follows the file (say, debug for a while to log every
// statement); log.format takes effect at the next start.
func reload(srv *proxy.Server, path string, log *zap.Logger, level zap.AtomicLevel) {
	cfg, err := conf.Load(path)
	if err != nil {
		log.Error("configuration reload refused; the previous configuration stays in force", zap.String("config", path), zap.Error(err))
		return
	}
	if err := srv.Reload(cfg); err != nil {
		log.Error("configuration reload refused; the previous configuration stays in force", zap.String("config", path), zap.Error(err))
		return
	}
	if l, err := zapcore.ParseLevel(cfg.Log.Level); err == nil && l != level.Level() {
		level.SetLevel(l)
		log.Info("log level changed", zap.Stringer("level", l))
	}
	log.Info("configuration reloaded", zap.String("config", path))
}

func newLogger(c conf.Log) (*zap.Logger, zap.AtomicLevel, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, zap.AtomicLevel{}, fmt.Errorf("log.level: %w", err)
	}
	zc := zap.NewProductionConfig()
	if c.Format == "console" {
		zc = zap.NewDevelopmentConfig()
		zc.Development = false
		zc.DisableStacktrace = true
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.Sampling = nil
	log, err := zc.Build()
	return log, zc.Level, err
}
