package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
)

// cmdDiff is `access diff BEFORE AFTER` and `access diff SOURCE --change
// FILE`: what-if. It prints the difference in effective access that
// turning BEFORE into AFTER, or applying the model-file fragment FILE to
// SOURCE, would make (see access.Engine.WhatIf), and exits 0 when there is
// none, 1 when there is some, 2 on error. --json prints the diff as JSON.
func cmdDiff(ctx context.Context, args []string, w io.Writer) (int, error) {
	var pos []string
	var changeFile string
	asJSON := false
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--change", "-change":
			if i+1 == len(args) {
				return 0, fmt.Errorf("%w: --change needs a model file", errUsage)
			}
			i++
			changeFile = args[i]
		case "--json", "-json":
			asJSON = true
		default:
			pos = append(pos, a)
		}
	}
	if changeFile == "" {
		if err := wantArgs(pos, 2, "BEFORE AFTER, or SOURCE --change FILE"); err != nil {
			return 0, err
		}
	} else if err := wantArgs(pos, 1, "SOURCE --change FILE"); err != nil {
		return 0, err
	}
	s, err := open(ctx, pos[0])
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var change access.Batch
	if changeFile != "" {
		if !isModelFile(changeFile) {
			return 0, fmt.Errorf("%w: %s is not a model file (.yaml, .yml, .json)", errUsage, changeFile)
		}
		frag, err := model.ReadFile(changeFile)
		if err != nil {
			return 0, err
		}
		if change, err = fragmentChange(&s.batch, frag); err != nil {
			return 0, fmt.Errorf("%s: %w", changeFile, err)
		}
	} else {
		after, err := open(ctx, pos[1])
		if err != nil {
			return 0, err
		}
		change = batchChange(&s.batch, &after.batch)
		after.Close()
	}
	d, err := s.engine.WhatIf(ctx, change)
	if err != nil {
		return 0, err
	}
	if asJSON {
		data, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(w, "%s\n", data)
	} else {
		fmt.Fprint(w, d.String())
	}
	if d.Empty() {
		return exitOK, nil
	}
	return exitFalse, nil
}

// fragmentChange returns the puts that applying the model-file fragment
// frag to the model base makes. An entity of the fragment replaces the
// base's entity with the same id, or, without an id, the one with the
// same name (a login name for associates, compared as the library folds
// them); any other is added. Names in the fragment resolve against the
// base and the fragment together. A fragment cannot delete.
func fragmentChange(base *access.Batch, frag *model.File) (access.Batch, error) {
	m := model.FromBatch(base)
	m.Roles = mergeEntities(m.Roles, frag.Roles, func(v *model.Role) (*int64, string) { return &v.ID, v.Name }, false)
	m.Groups = mergeEntities(m.Groups, frag.Groups, func(v *model.Group) (*int64, string) { return &v.ID, v.Name }, false)
	m.Associates = mergeEntities(m.Associates, frag.Associates, func(v *model.Associate) (*int64, string) { return &v.ID, v.Name }, true)
	m.SharingRules = mergeEntities(m.SharingRules, frag.SharingRules, func(v *model.SharingRule) (*int64, string) { return &v.ID, v.Name }, false)
	m.Grants = mergeEntities(m.Grants, frag.Grants, func(v *model.Grant) (*int64, string) { return &v.ID, "" }, false)
	m.Categories = mergeEntities(m.Categories, frag.Categories, func(v *model.Category) (*int64, string) { return &v.ID, v.Name }, false)
	m.Impersonations = mergeEntities(m.Impersonations, frag.Impersonations, func(v *model.Impersonation) (*int64, string) { return &v.ID, "" }, false)
	after, _, err := m.Batch()
	if err != nil {
		return access.Batch{}, err
	}
	c := batchChange(base, &after)
	// A fragment only puts: what it does not mention stays.
	c.DeleteRoles, c.DeleteGroups, c.DeleteAssociates = nil, nil, nil
	c.DeleteSharingRules, c.DeleteGrants, c.DeleteCategories, c.DeleteImpersonations = nil, nil, nil, nil
	return c, nil
}

// mergeEntities returns base with each entity of frag put over it: by id
// when it has one, else by name when exactly one entity of base has the
// name, else appended (and given an id by the model file's rules).
func mergeEntities[T any](base, frag []T, key func(*T) (*int64, string), fold bool) []T {
	out := slices.Clone(base)
	norm := func(s string) string {
		if fold {
			return access.FoldName(s)
		}
		return s
	}
	for _, v := range frag {
		id, name := key(&v)
		at := -1
		for i := range out {
			oid, oname := key(&out[i])
			if *id != 0 && *oid == *id || *id == 0 && name != "" && norm(oname) == norm(name) {
				if at >= 0 && *id == 0 {
					at = -2 // the name is not unique: add, and let the ids tell
					break
				}
				at = i
			}
		}
		if at >= 0 {
			if *id == 0 {
				oid, _ := key(&out[at])
				*id = *oid
			}
			out[at] = v
		} else {
			out = append(out, v)
		}
	}
	return out
}

// batchChange returns the batch that turns the model before into after:
// the entities after puts that before lacks or holds differently, and
// deletes of those before holds and after lacks.
func batchChange(before, after *access.Batch) access.Batch {
	var c access.Batch
	c.Roles, c.DeleteRoles = changes(before.Roles, after.Roles, func(v access.Role) access.RoleID { return v.ID })
	c.Groups, c.DeleteGroups = changes(before.Groups, after.Groups, func(v access.Group) access.GroupID { return v.ID })
	c.Associates, c.DeleteAssociates = changes(before.Associates, after.Associates, func(v access.Associate) access.AssociateID { return v.ID })
	c.SharingRules, c.DeleteSharingRules = changes(before.SharingRules, after.SharingRules, func(v access.SharingRule) access.RuleID { return v.ID })
	c.Grants, c.DeleteGrants = changes(before.Grants, after.Grants, func(v access.Grant) access.GrantID { return v.ID })
	c.Categories, c.DeleteCategories = changes(before.Categories, after.Categories, func(v access.Category) access.CategoryID { return v.ID })
	c.Impersonations, c.DeleteImpersonations = changes(before.Impersonations, after.Impersonations, func(v access.Impersonation) access.ImpersonationID { return v.ID })
	return c
}

func changes[T any, ID ~int64](before, after []T, id func(T) ID) (puts []T, dels []ID) {
	was := make(map[ID]T, len(before))
	for _, v := range before {
		was[id(v)] = v
	}
	is := make(map[ID]bool, len(after))
	for _, v := range after {
		is[id(v)] = true
		if old, ok := was[id(v)]; !ok || !reflect.DeepEqual(normal(old), normal(v)) {
			puts = append(puts, v)
		}
	}
	for _, v := range before {
		if !is[id(v)] {
			dels = append(dels, id(v))
		}
	}
	return puts, dels
}

// normal returns v as JSON, so that a nil and an empty list or map, which
// a store may hand back for one another, compare equal.
func normal(v any) string {
	data, _ := json.Marshal(v)
	var x any
	json.Unmarshal(data, &x)
	return fmt.Sprint(dropEmpty(x))
}

func dropEmpty(x any) any {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			x[k] = dropEmpty(v)
			if v == nil {
				delete(x, k)
			} else if l, ok := v.([]any); ok && len(l) == 0 {
				delete(x, k)
			} else if m, ok := v.(map[string]any); ok && len(m) == 0 {
				delete(x, k)
			}
		}
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
	}
	return x
}
