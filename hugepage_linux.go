package access

import (
	"syscall"
	"unsafe"
)

// adviseHuge asks the kernel to back the 2 MiB-aligned pages inside the
// n bytes at p with transparent huge pages, and to do so now
// (MADV_COLLAPSE, Linux 6.1 and later) rather than whenever khugepaged
// gets to them. A decision reads one random header out of megabytes of
// them; with 4 KiB pages nearly every such read also misses the TLB, which
// on a virtual machine costs about as much as the read itself. It is
// advice: failure changes nothing but speed.
func adviseHuge(p unsafe.Pointer, n uintptr) {
	const (
		huge         = 2 << 20
		madvHugepage = 14
		madvCollapse = 25
	)
	start := (uintptr(p) + huge - 1) &^ (huge - 1)
	end := (uintptr(p) + n) &^ (huge - 1)
	if end <= start {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, start-uintptr(p))), end-start)
	if syscall.Madvise(b, madvHugepage) == nil {
		_ = syscall.Madvise(b, madvCollapse)
	}
}
