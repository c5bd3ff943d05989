package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/crmaccess/access"
	"github.com/crmaccess/access/cmd/access/model"
)

// cmdDiff is `access diff BEFORE AFTER` and `access diff SOURCE --change
// FILE`: what-if. It prints the difference in effective access that
// turning BEFORE into AFTER, or applying the model-file fragment FILE to
// SOURCE, would make (see access.Engine.WhatIf), and exits 0 when there is
// none, 1 when there is some, 2 on error. --json prints the diff as JSON.
func cmdDiff(ctx context.Context, args []string, w, _ io.Writer) (int, error) {
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
		if change, err = frag.Change(&s.batch); err != nil {
			return 0, err
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

// batchChange returns the batch that turns the model before into after:
// the entities after puts that before lacks or holds differently, deletes
// of those before holds and after lacks, and a forget of each past owner
// before holds and after lacks. A past owner that after holds and before
// lacks cannot be written by a batch (only a store writes them, when it
// deletes an associate): the diff leaves it out, as it does any other
// field of a store's batch that is no model (see TestBatchChangeFields).
func batchChange(before, after *access.Batch) access.Batch {
	var c access.Batch
	c.Roles, c.DeleteRoles = changes(before.Roles, after.Roles, func(v access.Role) access.RoleID { return v.ID })
	c.Groups, c.DeleteGroups = changes(before.Groups, after.Groups, func(v access.Group) access.GroupID { return v.ID })
	c.Associates, c.DeleteAssociates = changes(before.Associates, after.Associates, func(v access.Associate) access.AssociateID { return v.ID })
	c.SharingRules, c.DeleteSharingRules = changes(before.SharingRules, after.SharingRules, func(v access.SharingRule) access.RuleID { return v.ID })
	c.Grants, c.DeleteGrants = changes(before.Grants, after.Grants, func(v access.Grant) access.GrantID { return v.ID })
	c.Categories, c.DeleteCategories = changes(before.Categories, after.Categories, func(v access.Category) access.CategoryID { return v.ID })
	c.Impersonations, c.DeleteImpersonations = changes(before.Impersonations, after.Impersonations, func(v access.Impersonation) access.ImpersonationID { return v.ID })
	c.Limits, c.DeleteLimits = changes(before.Limits, after.Limits, func(v access.Limit) access.LimitID { return v.ID })
	c.Licences, c.DeleteLicences = changes(before.Licences, after.Licences, func(v access.Licence) access.LicenceID { return v.ID })
	_, c.ForgetPastOwners = changes(before.PastOwners, after.PastOwners, func(v access.PastOwner) access.AssociateID { return v.ID })
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
		if old, ok := was[id(v)]; !ok || !reflect.DeepEqual(old, v) && !reflect.DeepEqual(normal(old), normal(v)) {
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
