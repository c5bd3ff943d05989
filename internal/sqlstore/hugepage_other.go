//go:build !linux

package sqlstore

// adviseHuge does nothing on this system; see the Linux version.
func adviseHuge[T any](s []T) {}
