package access

import "fmt"

// entityTypes checks Options.EntityTypes and returns them as a set, or nil
// when the application registered none.
func entityTypes(list []string) (map[string]struct{}, error) {
	if len(list) == 0 {
		return nil, nil
	}
	set := make(map[string]struct{}, len(list))
	for _, t := range list {
		if t == "" || t == Wildcard {
			return nil, fmt.Errorf("access: NewResolver: %w: Options.EntityTypes lists %q: a concrete entity type is required", ErrInvalid, t)
		}
		set[t] = struct{}{}
	}
	return set, nil
}

// checkRequest is checkRequest, then, when the application registered
// its entity types, a check that the record's type is one of them. It does
// not allocate unless it fails.
func (e *Engine) checkRequest(act Action, rec *Record) error {
	if err := checkRequest(act, rec); err != nil {
		return err
	}
	if e.types != nil {
		if _, ok := e.types[rec.Type]; !ok {
			return fmt.Errorf("access: %w: record type %q is not one of Options.EntityTypes", ErrInvalid, rec.Type)
		}
	}
	return nil
}
