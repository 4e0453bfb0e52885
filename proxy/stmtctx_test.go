package proxy

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStatementContextStopAndCancel(t *testing.T) {
	c := newStatementContext()
	var ran atomic.Int32
	stopped := c.AfterFunc(func() { ran.Add(100) })
	if !stopped() {
		t.Fatal("stop before cancel reported false")
	}
	done := make(chan error, 1)
	kept := c.AfterFunc(func() { ran.Add(1); done <- c.Err() })
	c.cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the callback ran before the context was done")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the registered callback did not run on cancel")
	}
	if kept() {
		t.Fatal("stop after the callback started reported true")
	}
	late := make(chan struct{})
	if c.AfterFunc(func() { close(late) })() {
		t.Fatal("stop of a registration made after cancel reported true")
	}
	select {
	case <-late:
	case <-time.After(5 * time.Second):
		t.Fatal("a callback registered after cancel did not run")
	}
	if n := ran.Load(); n != 1 {
		t.Fatalf("callbacks ran %d (x100 = the stopped one), want 1", n)
	}
}

// Registrations and stops from many goroutines racing one cancel: each
// callback either was stopped in time or runs, exactly once.
func TestStatementContextConcurrent(t *testing.T) {
	for round := 0; round < 20; round++ {
		c := newStatementContext()
		const workers, each = 8, 200
		var ran, stoppedInTime, tooLate atomic.Int32
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					stop := c.AfterFunc(func() { ran.Add(1) })
					if stop() {
						stoppedInTime.Add(1)
					} else {
						tooLate.Add(1)
					}
				}
			}()
		}
		time.Sleep(time.Duration(round%4) * 100 * time.Microsecond)
		c.cancel()
		wg.Wait()
		deadline := time.Now().Add(5 * time.Second)
		for ran.Load() != tooLate.Load() && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := stoppedInTime.Load() + tooLate.Load(); got != workers*each {
			t.Fatalf("%d outcomes, want %d", got, workers*each)
		}
		if ran.Load() != tooLate.Load() {
			t.Fatalf("round %d: %d callbacks ran, %d stops came too late", round, ran.Load(), tooLate.Load())
		}
	}
}

func TestStatementContextRegistersWithoutAllocating(t *testing.T) {
	c := newStatementContext()
	f := func() {}
	c.AfterFunc(f)() // the first registration allocates its record
	if n := testing.AllocsPerRun(1000, func() { c.AfterFunc(f)() }); n != 0 {
		t.Fatalf("%v allocations per registration", n)
	}
}
