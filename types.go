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
