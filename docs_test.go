package affinity_test

import (
	"go/ast"
	"go/doc"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPublicPackagesDocumented holds the library's public packages to the
// house rules on documentation: each has a doc.go with the package
// comment, a doc comment on every exported constant, variable, type,
// function and method (a group's comment covers its members), and at
// least one Example whose output go test checks.
func TestPublicPackagesDocumented(t *testing.T) {
	skip := map[string]bool{"testdata": true, "internal": true, "examples": true, "benchmarks": true, "beam": true, "tools": true}
	names, pkgs := 0, 0
	err := filepath.WalkDir(".", func(dir string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if dir != "." && (strings.HasPrefix(d.Name(), ".") || skip[d.Name()]) {
			return filepath.SkipDir
		}
		fset, src, examples, err := parseDir(dir)
		if err != nil || len(src) == 0 || src[0].Name.Name == "main" {
			return err
		}
		pkgs++
		name := src[0].Name.Name
		docGo, err := os.ReadFile(filepath.Join(dir, "doc.go"))
		if assert.NoError(t, err, "%s has a doc.go", dir) {
			assert.Contains(t, string(docGo), "// Package "+name+" ", "%s/doc.go holds the package comment", dir)
		}
		dp, err := doc.NewFromFiles(fset, src, dir)
		if err != nil {
			return err
		}
		check := func(what, text string) {
			names++
			assert.NotEmpty(t, strings.TrimSpace(text), "%s: %s has no doc comment", dir, what)
		}
		values := func(vals []*doc.Value) {
			for _, v := range vals {
				for _, s := range v.Decl.Specs {
					vs := s.(*ast.ValueSpec)
					for _, id := range vs.Names {
						if id.IsExported() {
							check(id.Name, v.Doc+vs.Doc.Text()+vs.Comment.Text())
						}
					}
				}
			}
		}
		values(dp.Consts)
		values(dp.Vars)
		for _, f := range dp.Funcs {
			check(f.Name, f.Doc)
		}
		for _, ty := range dp.Types {
			check(ty.Name, ty.Doc)
			values(ty.Consts)
			values(ty.Vars)
			for _, f := range ty.Funcs {
				check(f.Name, f.Doc)
			}
			for _, m := range ty.Methods {
				check(ty.Name+"."+m.Name, m.Doc)
			}
		}
		run := 0
		for _, ex := range examples {
			if ex.Output != "" || ex.EmptyOutput {
				run++
			}
		}
		assert.Positive(t, run, "%s has a runnable Example", dir)
		return nil
	})
	require.NoError(t, err)
	require.GreaterOrEqual(t, pkgs, 10, "public packages found")
	require.Greater(t, names, 500, "exported names found")
	t.Logf("%d packages, %d exported names", pkgs, names)
}

// parseDir parses the package's Go files of dir with their comments into
// a file set of their own, and returns them and the examples of its test
// files, which come parsed from [repoTestFiles].
func parseDir(dir string) (fset *token.FileSet, src []*ast.File, examples []*doc.Example, err error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, nil, nil, err
	}
	tests := map[string]testFile{}
	for _, tf := range repoTestFiles().files {
		tests[tf.path] = tf
	}
	fset = token.NewFileSet()
	for _, fn := range files {
		if strings.HasSuffix(fn, "_test.go") {
			tf, ok := tests[fn]
			if !ok { // not under the walk: parse it here
				f, err := parser.ParseFile(token.NewFileSet(), fn, nil, parser.ParseComments)
				if err != nil {
					return nil, nil, nil, err
				}
				examples = append(examples, doc.Examples(f)...)
				continue
			}
			exs, err := tf.examples()
			if err != nil {
				return nil, nil, nil, err
			}
			examples = append(examples, exs...)
			continue
		}
		// go/doc reads no objects: their resolution can be skipped
		f, err := parser.ParseFile(fset, fn, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, nil, nil, err
		}
		src = append(src, f)
	}
	return fset, src, examples, nil
}
