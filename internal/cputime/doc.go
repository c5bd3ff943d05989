// Package cputime reads the CPU time the process has used, for
// benchmarks: unlike wall time it does not count the time the process
// waited for a CPU, which on a shared machine is much of it.
package cputime
