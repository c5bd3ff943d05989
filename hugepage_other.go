//go:build !linux

package access

import "unsafe"

// adviseHuge does nothing on this system; see the Linux version.
func adviseHuge(p unsafe.Pointer, n uintptr) {}
