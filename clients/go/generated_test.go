package pprocd_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// protocVersionLine is the header line naming the protoc that generated a
// file: left out of the comparison, so another protoc of the same output
// does not count as drift.
var protocVersionLine = regexp.MustCompile(`(?m)^// (\t|- )protoc +v.*\n`)

// The checked-in generated code is exactly what scripts/regen-clients makes
// from proto/ now: a contract change without regenerating fails here.
func TestGeneratedCodeMatchesTheContract(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	tools := filepath.Join(root, ".tools", "bin")
	t.Setenv("PATH", tools+string(os.PathListSeparator)+os.Getenv("PATH"))
	for _, tool := range []string{"protoc", "protoc-gen-go", "protoc-gen-go-grpc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/setup installs it)", tool)
		}
	}
	out := t.TempDir()
	regen := exec.Command(filepath.Join(root, "scripts", "regen-clients"), "--out", out, "go")
	if output, err := regen.CombinedOutput(); err != nil {
		t.Fatalf("scripts/regen-clients: %v\n%s", err, output)
	}
	fresh := readGenerated(t, filepath.Join(out, "go"))
	kept := readGenerated(t, "pprocdv1")
	if names(fresh) != names(kept) {
		t.Fatalf("generated files %s, checked in %s: run scripts/regen-clients", names(fresh), names(kept))
	}
	for name, data := range fresh {
		if !bytes.Equal(protocVersionLine.ReplaceAll(data, nil), protocVersionLine.ReplaceAll(kept[name], nil)) {
			t.Errorf("pprocdv1/%s differs from what proto/ gives now: run scripts/regen-clients", name)
		}
	}
}

func readGenerated(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.pb.go"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no generated files in %s", dir)
	}
	out := map[string][]byte{}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(path)] = data
	}
	return out
}

func names(files map[string][]byte) string {
	list := make([]string, 0, len(files))
	for name := range files {
		list = append(list, name)
	}
	sort.Strings(list)
	return strings.Join(list, " ")
}
