package static

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestScenarios runs each testdata/scenarios/*.txtar: a small module whose
// Go files say, in `// want "..."` comments on a call's line, the sites
// expected there ("kind op values", prefixed with "binary: " when only one
// binary should have it), and whose "couplings" file lists the predicted
// couplings ("kind resource sides"). Every site must be wanted and every
// want found. An optional "settings" file lists, one a line, the
// configuration values substituted in sites ("binary pos: file key =
// value (pos of the value)"), all of them.
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob("testdata/scenarios/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			dir, ar := extract(t, file)
			res, err := Analyze(context.Background(), Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			checkSites(t, res, wants(ar))
			checkCouplings(t, res, ar)
			checkNotes(t, res, ar)
			checkSettings(t, res, ar)
		})
	}
}

// extract writes the archive's files into a temporary directory.
func extract(t *testing.T, file string) (string, *txtar.Archive) {
	t.Helper()
	ar, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		p := filepath.Join(dir, f.Name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, ar
}

var wantRE = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`")

// wants maps "file:line" to the sites wanted there.
func wants(ar *txtar.Archive) map[string][]string {
	out := map[string][]string{}
	for _, f := range ar.Files {
		if !strings.HasSuffix(f.Name, ".go") {
			continue
		}
		for i, line := range strings.Split(string(f.Data), "\n") {
			_, w, ok := strings.Cut(line, "// want ")
			if !ok {
				continue
			}
			for _, q := range wantRE.FindAllString(w, -1) {
				s, err := strconv.Unquote(q)
				if err != nil {
					panic(err)
				}
				key := f.Name + ":" + strconv.Itoa(i+1)
				out[key] = append(out[key], s)
			}
		}
	}
	return out
}

func siteText(s Site) string {
	return s.Kind + " " + s.Op + " " + resourcesText(s.Resources)
}

func checkSites(t *testing.T, res *Result, want map[string][]string) {
	t.Helper()
	found := map[string]bool{}
	for _, s := range res.Sites {
		got := siteText(s)
		ok := false
		for _, w := range want[s.Pos] {
			if w == got || w == s.Binary+": "+got {
				ok, found[s.Pos+"\x00"+w] = true, true
			}
		}
		if !ok {
			t.Errorf("%s: %s: unexpected site %q (want %q)", s.Binary, s.Pos, got, want[s.Pos])
		}
	}
	var missing []string
	for pos, ws := range want {
		for _, w := range ws {
			if !found[pos+"\x00"+w] {
				missing = append(missing, pos+": "+w)
			}
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("no site %s", m)
	}
}

// checkNotes checks that every line of the archive's "notes" file is in
// the result's notes.
func checkNotes(t *testing.T, res *Result, ar *txtar.Archive) {
	t.Helper()
	notes := strings.Join(res.Notes, "\n")
	for _, f := range ar.Files {
		if f.Name != "notes" {
			continue
		}
		for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
			if !strings.Contains(notes, l) {
				t.Errorf("notes lack %q:\n%s", l, notes)
			}
		}
	}
}

func checkCouplings(t *testing.T, res *Result, ar *txtar.Archive) {
	t.Helper()
	var want []string
	for _, f := range ar.Files {
		if f.Name == "couplings" {
			for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					want = append(want, l)
				}
			}
		}
	}
	var got []string
	for _, c := range res.Couplings {
		got = append(got, string(c.Kind)+" "+c.Resource+" "+sides(c))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("predicted couplings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// checkSettings compares the configuration values of the sites with the
// archive's "settings" file, when it has one.
func checkSettings(t *testing.T, res *Result, ar *txtar.Archive) {
	t.Helper()
	var want []string
	has := false
	for _, f := range ar.Files {
		if f.Name == "settings" {
			has = true
			for _, l := range strings.Split(strings.TrimSpace(string(f.Data)), "\n") {
				want = append(want, strings.TrimSpace(l))
			}
		}
	}
	if !has {
		return
	}
	var got []string
	for _, s := range res.Sites {
		for _, r := range s.Resources {
			for _, cv := range r.Settings {
				got = append(got, fmt.Sprintf("%s %s: %s %s = %s (%s)", s.Binary, s.Pos, cv.File, cv.Key, cv.Value, cv.Pos))
			}
		}
	}
	got = uniqSorted(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("configuration values:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
