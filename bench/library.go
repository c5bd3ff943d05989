package main

import (
	"context"
	"time"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/store/memory"
)

// libraryEngine is this library: an access.Engine compiled from a
// store/memory holding the organisation. Its heap includes the store.
type libraryEngine struct {
	e       *access.Engine
	records []access.Record
	// apply and compile split the build time: validating and storing the
	// batch, then compiling the snapshot.
	apply, compile time.Duration
}

func buildLibrary(w *workload) (engine, error) {
	ctx := context.Background()
	start := time.Now()
	s := memory.New()
	if _, err := s.Apply(ctx, w.Org); err != nil {
		return nil, err
	}
	applied := time.Now()
	e, err := access.NewResolver(ctx, s, nil)
	if err != nil {
		return nil, err
	}
	return &libraryEngine{e: e, records: w.Records, apply: applied.Sub(start), compile: time.Since(applied)}, nil
}

func (l *libraryEngine) Member(q memberQuery) (bool, error) {
	return l.e.IsMember(context.Background(), q.Who, q.Group)
}

func (l *libraryEngine) Decide(q decisionQuery) (bool, error) {
	d, err := l.e.Can(context.Background(), q.Who, q.Action, l.records[q.Record])
	return d.Allowed, err
}

func (l *libraryEngine) Close() { l.e.Close() }

// libraryAllowed is the library answering decisions through
// Engine.Allowed, the yes/no path without an explanation.
type libraryAllowed struct{ *libraryEngine }

func buildLibraryAllowed(w *workload) (engine, error) {
	l, err := buildLibrary(w)
	if err != nil {
		return nil, err
	}
	return libraryAllowed{l.(*libraryEngine)}, nil
}

func (l libraryAllowed) Decide(q decisionQuery) (bool, error) {
	return l.e.Allowed(context.Background(), q.Who, q.Action, l.records[q.Record])
}
