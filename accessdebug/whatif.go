package accessdebug

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/crmaccess/access"
)

// whatIfPage previews a change: the difference in effective access it
// would make (access.Engine.WhatIf), never applying it.
type whatIfPage struct {
	common
	Change     string
	Answered   bool
	Counts     access.DiffCounts
	Associates []whatIfRow
	Text       string
	Problem    string
	Example    string
}

// whatIfRow is one associate's part of the diff, ready for the template.
type whatIfRow struct {
	Who         link
	Status      string // "" when unchanged
	Memberships []string
	Rights      []string
	Functions   []string
	SignIn      []string
}

// whatIfExample is the placeholder of the change box.
const whatIfExample = `{"Groups": [{"ID": 20, "Name": "Sales", "Groups": [10, 11]}]}`

// whatIf reads parameter change, an access.Batch as JSON (the library's
// field names) or what Options.ParseChange reads, and shows what it would
// change. An empty or absent change shows the form.
func (h *handler) whatIf(w http.ResponseWriter, r *http.Request, q params) error {
	if err := q.only("what-if", "change"); err != nil {
		return err
	}
	p := whatIfPage{common: h.common("What-if"), Example: whatIfExample}
	if h.opts.ParseChange != nil {
		p.Example = "" // the example is JSON
	}
	text, ok := q["change"]
	if !ok || strings.TrimSpace(text) == "" {
		return h.render(w, http.StatusOK, "whatif", p)
	}
	p.Change = text
	ctx := r.Context()
	var change access.Batch
	var err error
	if h.opts.ParseChange != nil {
		if change, err = h.opts.ParseChange(ctx, text); err != nil {
			return badf("The change cannot be read: %v.", err)
		}
	} else if change, err = parseChange(text); err != nil {
		return badf("The change is not a batch in JSON: %v.", err)
	}
	d, err := h.r.WhatIf(ctx, change)
	if err != nil {
		// A change the store would refuse is the answer, not a failure of
		// the page: show it beside the form, with status 400.
		if errors.Is(err, access.ErrStale) {
			return err
		}
		p.Problem = err.Error()
		return h.render(w, http.StatusBadRequest, "whatif", p)
	}
	m, err := h.load(ctx)
	if err != nil {
		return err
	}
	p.Answered, p.Counts, p.Text = true, d.Counts(), d.String()
	for _, a := range d.Associates {
		row := whatIfRow{Who: assocLink(m, a.Associate)}
		row.Who.Name = a.Name
		if a.Before != a.After {
			row.Status = a.Before.String() + " → " + a.After.String()
		}
		for _, mc := range a.Memberships {
			row.Memberships = append(row.Memberships, mc.String())
		}
		for _, rc := range a.Rights {
			row.Rights = append(row.Rights, rc.String())
		}
		for _, c := range a.SignIn {
			row.SignIn = append(row.SignIn, c.String())
		}
		for _, f := range a.Functions {
			row.Functions = append(row.Functions, f.String())
		}
		p.Associates = append(p.Associates, row)
	}
	return h.render(w, http.StatusOK, "whatif", p)
}

// parseChange reads a batch strictly: an unknown field or trailing data
// is an error, not ignored.
func parseChange(text string) (access.Batch, error) {
	var b access.Batch
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return b, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return b, errors.New("more follows the batch")
	}
	return b, nil
}
