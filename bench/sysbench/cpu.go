package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat.
var clockTicks = userHZ()

func userHZ() float64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			return float64(n)
		}
	}
	return 100 // USER_HZ on every common Linux architecture
}

// cpuSeconds returns the CPU time (user + system, all threads) pid has used.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	ticks, err := parseStatTicks(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(ticks) / clockTicks, nil
}

// parseStatTicks returns utime+stime from a /proc/<pid>/stat line. The
// command name (field 2) may hold spaces and parentheses, so fields are
// counted from the last ')'.
func parseStatTicks(stat string) (uint64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	// After ')': field 3 (state) is index 0, so utime (14) is 11, stime (15) is 12.
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("only %d fields after the command name", len(f))
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("utime %q / stime %q not numbers", f[11], f[12])
	}
	return utime + stime, nil
}

// cpuSnapshot holds the CPU seconds of some processes at one instant.
type cpuSnapshot map[int]float64

func takeSnapshot(pids []int) (cpuSnapshot, error) {
	s := cpuSnapshot{}
	for _, pid := range pids {
		sec, err := cpuSeconds(pid)
		if err != nil {
			return nil, err
		}
		s[pid] = sec
	}
	return s, nil
}

// since returns the CPU seconds the given pids used between before and s.
func (s cpuSnapshot) since(before cpuSnapshot, pids []int) float64 {
	total := 0.0
	for _, pid := range pids {
		total += s[pid] - before[pid]
	}
	return total
}

// machineCPU is the first line of /proc/stat: all cores' time, in ticks.
type machineCPU struct{ total, idle, steal uint64 }

func readMachineCPU() (machineCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machineCPU{}, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return parseMachineCPU(line)
}

// parseMachineCPU reads `cpu user nice system idle iowait irq softirq
// steal ...`; idle counts iowait too (a core waiting for the disk is free).
func parseMachineCPU(line string) (machineCPU, error) {
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return machineCPU{}, fmt.Errorf("/proc/stat: unexpected first line %q", line)
	}
	var m machineCPU
	// user nice system idle iowait irq softirq steal; the guest times after
	// them are counted in user time already.
	for i, v := range f[1:9] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return machineCPU{}, fmt.Errorf("/proc/stat: %q is not a number", v)
		}
		m.total += n
		switch i {
		case 3, 4:
			m.idle += n
		case 7:
			m.steal += n
		}
	}
	return m, nil
}

// since returns the shares of the cores' time between before and m that
// were busy (not idle, not stolen) and stolen.
func (m machineCPU) since(before machineCPU) (busy, steal float64) {
	total := float64(m.total - before.total)
	if total <= 0 {
		return 0, 0
	}
	stolen := float64(m.steal - before.steal)
	return (total - float64(m.idle-before.idle) - stolen) / total, stolen / total
}
