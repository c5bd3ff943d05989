//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the process has used so
// far, or 0 where the platform cannot tell. Unlike wall time, it does not
// count the time the process waited for a CPU, which on a shared machine
// is much of it; it does count the garbage collector's work on every
// thread, which an engine that allocates must pay for.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
