// Package admin serves admin_listen: /healthz, /metrics and /topology.
package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/shardproxy/shardproxy/metrics"
)

// Source is what the proxy tells the admin server.
type Source interface {
	// Healthy reports whether the proxy can serve statements now.
	Healthy() bool
	// Topology returns a JSON-marshalable view; use TopologyView so no
	// password can slip into the output.
	Topology() any
}

// HealthReasoner may be implemented by a Source to explain a 503.
type HealthReasoner interface {
	UnhealthyReason() string
}

// Timeouts keep a stuck or malicious client from pinning a goroutine.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second // a scrape with many backends can be large
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

// Server is the admin HTTP server.
type Server struct {
	addr string
	log  *zap.Logger
	srv  *http.Server

	mu sync.Mutex
	ln net.Listener
}

// New prepares a server for addr; nothing is bound until Start. m, src and
// log may be nil: /metrics then serves an empty registry, /healthz reports
// healthy and /topology serves null.
func New(addr string, m *metrics.Metrics, src Source, log *zap.Logger) *Server {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{addr: addr, log: log}
	s.srv = &http.Server{
		Handler:           Handler(m, src, log),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          zap.NewStdLog(log.Named("admin")),
	}
	return s
}

// Start binds the address and serves in a goroutine.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	// Deliberately not the word "listening": the contract reserves that log
	// line for the MySQL listener, and tools grep for it.
	s.log.Info("admin server started", zap.String("addr", ln.Addr().String()))
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("admin server stopped", zap.Error(err))
		}
	}()
	return nil
}

// Addr is the bound address once started (useful with port 0), else the
// configured one.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln != nil {
		return s.ln.Addr().String()
	}
	return s.addr
}

// Shutdown stops accepting and waits for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.srv.Shutdown(ctx)
}

// Handler routes the admin endpoints; exported for tests and embedding.
// Only GET and HEAD are allowed (405 otherwise); other paths get 404.
func Handler(m *metrics.Metrics, src Source, log *zap.Logger) http.Handler {
	if log == nil {
		log = zap.NewNop()
	}
	reg := m.Registry()
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	mux := http.NewServeMux()
	// A "GET" pattern also matches HEAD; the mux answers other methods with
	// 405 and an Allow header.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		serveHealth(w, src)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog: promLogger{log.Named("admin")},
		// A broken backend callback should cost its own series, not the scrape.
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /topology", func(w http.ResponseWriter, r *http.Request) {
		serveTopology(w, src, log)
	})
	// Go's profiler, for looking at the proxy under real load; the admin
	// listener is loopback unless the operator says otherwise.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

func serveHealth(w http.ResponseWriter, src Source) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if src == nil || src.Healthy() {
		_, _ = w.Write([]byte("ok\n"))
		return
	}
	reason := "unavailable"
	if hr, ok := src.(HealthReasoner); ok {
		if r := hr.UnhealthyReason(); r != "" {
			reason = r
		}
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(reason + "\n"))
}

func serveTopology(w http.ResponseWriter, src Source, log *zap.Logger) {
	var view any
	if src != nil {
		view = src.Topology()
	}
	// Marshal before writing so a failure can still become a clean 500.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(view); err != nil {
		log.Error("admin: cannot encode topology", zap.Error(err))
		http.Error(w, "cannot encode topology", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// promLogger adapts zap to promhttp's Println-style logger.
type promLogger struct{ log *zap.Logger }

func (l promLogger) Println(v ...any) { l.log.Sugar().Warn(v...) }
