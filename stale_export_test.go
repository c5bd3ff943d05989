package access

import "time"

// WithClock sets the monotonic clock o's resolver measures staleness on: a
// reading the test moves by hand, which the resolver then checks on every
// question instead of relying on its watchdog timer.
func WithClock(o *Options, clock func() time.Duration) *Options {
	o.clock = clock
	return o
}
