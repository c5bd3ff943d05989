// Command access inspects and tests an access model: a model file (YAML
// or JSON), an SQLite store or a PostgreSQL store.
//
// Usage:
//
//	access test FILE…                      run the model files' tests
//	access explain SOURCE WHO ACTION RECORD
//	access who-can SOURCE ACTION RECORD
//	access groups SOURCE WHO               effective groups with their paths
//	access lint SOURCE                     roles whose far relations grant more than near ones
//
// SOURCE is a model file when it ends in .yaml, .yml or .json (loaded into
// an in-memory store), a PostgreSQL store when it starts with postgres://
// or postgresql://, and otherwise the path of an SQLite store. WHO is an
// associate's name, its id (digits), or a double-quoted name. ACTION is
// read, create, update or delete. RECORD is TYPE or
// TYPE{KEY: VALUE, …}, such as contact{id: 42, owner: bo, group: Oslo}; the
// keys are id, owner, group, team, company, project, category, published
// and visibility. The model file format is described in the package
// documentation of package model and in testdata/quickstart.yaml.
//
// Exit status: 0 on success; 1 when a test fails (test), a decision
// denies (explain), or lint finds something; 2 on bad usage or an error.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
