package access

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The layout of the package is a rule, not a habit: these tests fail when
// a file reaches across a boundary the README's Layout section draws.

// nounFiles hold a domain noun's types, checks and sentinels. The
// questions asked of a snapshot live elsewhere (access.go and the files
// named for the questions), so a noun file neither declares a method on
// the snapshot or the front door nor names either type.
var nounFiles = []string{
	"associate.go", "group.go", "role.go", "ownership.go",
	"category.go", "grant.go", "sharing.go", "impersonation.go", "licence.go",
}

// pipelineFiles build and update the compiled snapshot. The snapshot must
// not call back into the front door: it knows nothing of Engine. Files
// that do not exist (yet) are skipped, so the list may name the files a
// split of the pipeline is expected to create.
var pipelineFiles = []string{
	"snapshot.go", "hot.go", "policy.go", "roletree.go", "loaded.go",
	"build.go", "update.go", "cow.go",
}

// frontTypes are the types a noun file must not reach into, and the first
// is the one the pipeline must not call back into.
var frontTypes = []string{"Engine", "snapshot"}

func TestArchitecture(t *testing.T) {
	fset := token.NewFileSet()
	files := map[string]*ast.File{}
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = f
	}
	for _, name := range nounFiles {
		if files[name] == nil {
			t.Errorf("noun file %s is missing: update nounFiles and the README's Layout section", name)
		}
	}
	if got := archViolations(fset, files); len(got) > 0 {
		t.Errorf("layout violations:\n%s", strings.Join(got, "\n"))
	}
}

// TestArchitectureCatches checks the checker: each case is a small file
// set that breaks (or keeps) one rule.
func TestArchitectureCatches(t *testing.T) {
	const engine = "package access\ntype Engine struct{}\nfunc (e *Engine) Can() bool { return true }\nfunc (e *Engine) publish() {}\ntype snapshot struct{}\nfunc (s *snapshot) has() bool { return false }\n"
	for _, tc := range []struct {
		name string
		file string // the file under test
		src  string
		want []string
	}{
		{"noun file clean", "group.go", "package access\ntype Group struct{}\nfunc (g *Group) check() error { return nil }\n", nil},
		{"noun file method on snapshot", "group.go", "package access\nfunc (s *snapshot) members() int { return 0 }\n",
			[]string{"group.go: declares method snapshot.members: questions belong in access.go or a file named for them"}},
		{"noun file method on Engine", "role.go", "package access\nfunc (e Engine) Roles() int { return 0 }\n",
			[]string{"role.go: declares method Engine.Roles: questions belong in access.go or a file named for them"}},
		{"noun file names the snapshot", "grant.go", "package access\nfunc count(s *snapshot) int { return 0 }\n",
			[]string{"grant.go:2: names snapshot: a noun file holds types, checks and sentinels"}},
		{"pipeline clean", "update.go", "package access\nfunc (s *snapshot) update() *snapshot { return s }\n", nil},
		{"pipeline holds an Engine", "build.go", "package access\ntype builder struct{ e *Engine }\n",
			[]string{"build.go:2: names Engine: the snapshot must not call back into the front door"}},
		{"pipeline calls an Engine method", "hot.go", "package access\nfunc warm(r interface{ publish() }) { r.publish() }\n",
			[]string{"hot.go:2: calls publish, a method of Engine: the snapshot must not call back into the front door"}},
		{"pipeline calls a shared method name", "policy.go", "package access\nfunc f(s *snapshot) bool { return s.has() }\n", nil},
		{"other files are free", "access.go", "package access\nfunc (e *Engine) Ready() error { return nil }\nvar _ = (*snapshot).has\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fset := token.NewFileSet()
			files := map[string]*ast.File{}
			for name, src := range map[string]string{"engine.go": engine, tc.file: tc.src} {
				f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
				if err != nil {
					t.Fatal(err)
				}
				files[name] = f
			}
			got := archViolations(fset, files)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("violations (-want +got):\n%s", diff)
			}
		})
	}
}

// archViolations lists, sorted, every place where files break the layout
// rules. files maps a file's base name to its syntax tree, parsed into fset.
func archViolations(fset *token.FileSet, files map[string]*ast.File) []string {
	// Methods of Engine that no other type declares: a call of one of them
	// can only be a call into the front door.
	engineMethods := map[string]bool{}
	otherMethods := map[string]bool{}
	for _, f := range files {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil {
				if recvName(fd) == "Engine" {
					engineMethods[fd.Name.Name] = true
				} else {
					otherMethods[fd.Name.Name] = true
				}
			}
		}
	}
	var out []string
	for name, f := range files {
		switch {
		case slices.Contains(nounFiles, name):
			for _, d := range f.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && slices.Contains(frontTypes, recvName(fd)) {
					out = append(out, name+": declares method "+recvName(fd)+"."+fd.Name.Name+
						": questions belong in access.go or a file named for them")
				}
			}
			for _, id := range typeNames(f, frontTypes) {
				out = append(out, position(fset, name, id)+": names "+id.Name+
					": a noun file holds types, checks and sentinels")
			}
		case slices.Contains(pipelineFiles, name):
			for _, id := range typeNames(f, frontTypes[:1]) {
				out = append(out, position(fset, name, id)+": names "+id.Name+
					": the snapshot must not call back into the front door")
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && engineMethods[sel.Sel.Name] && !otherMethods[sel.Sel.Name] {
					out = append(out, position(fset, name, sel.Sel)+": calls "+sel.Sel.Name+
						", a method of Engine: the snapshot must not call back into the front door")
				}
				return true
			})
		}
	}
	slices.Sort(out)
	return out
}

// recvName returns the name of a method's receiver type, pointer or not.
func recvName(fd *ast.FuncDecl) string {
	t := fd.Recv.List[0].Type
	if s, ok := t.(*ast.StarExpr); ok {
		t = s.X
	}
	if g, ok := t.(*ast.IndexExpr); ok {
		t = g.X
	}
	if id, ok := t.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// typeNames returns the identifiers in f's code (comments aside) that
// name one of the types, except as the selected name of a selector (x.Engine
// is a field or method of x, not the type) or a method's receiver type
// (reported on its own).
func typeNames(f *ast.File, types []string) []*ast.Ident {
	skip := map[*ast.Ident]bool{}
	var out []*ast.Ident
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			skip[n.Sel] = true
		case *ast.FuncDecl:
			if n.Recv != nil {
				ast.Inspect(n.Recv, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok {
						skip[id] = true
					}
					return true
				})
			}
		case *ast.Ident:
			if !skip[n] && slices.Contains(types, n.Name) {
				out = append(out, n)
			}
		}
		return true
	})
	return out
}

// position renders where id is, as file:line.
func position(fset *token.FileSet, name string, id *ast.Ident) string {
	return name + ":" + strconv.Itoa(fset.Position(id.Pos()).Line)
}

// TestLayoutMatchesTree: the README's Layout section names every file of the
// package (hugepage_*.go as a pattern) and every directory it lists exists,
// so a newcomer's map of the tree stays true.
func TestLayoutMatchesTree(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Layout\n")
	if !ok {
		t.Fatal("README.md has no Layout section")
	}
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	listed := map[string]bool{}
	for _, w := range strings.Fields(strings.NewReplacer(",", " ", ":", " ", "(", " ", ")", " ").Replace(block)) {
		switch {
		case strings.HasSuffix(w, ".go"):
			listed[w] = true
		case strings.HasSuffix(w, "/") || strings.HasPrefix(w, "store/") || strings.HasPrefix(w, "internal/"):
			if _, err := os.Stat(strings.TrimSuffix(w, "/")); err != nil {
				t.Errorf("README Layout lists %s, which does not exist", w)
			}
		}
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasPrefix(f, "hugepage_") {
			continue
		}
		if !listed[f] {
			t.Errorf("README Layout does not mention %s", f)
		}
		delete(listed, f)
	}
	for f := range listed {
		if f != "hugepage_*.go" && f != "examples_test.go" {
			t.Errorf("README Layout lists %s, which is not in the package", f)
		}
	}
}
