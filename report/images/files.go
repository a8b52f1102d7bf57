package images

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// File is one file of the output directory.
type File struct {
	Name       string
	Data       []byte
	Executable bool
}

// Files renders the drafts: images.md (the summary), images.json (the
// whole result, for machines), build.sh, and per image NAME/Containerfile
// and NAME/rootfs.list.
func (r *Result) Files() ([]File, error) {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("images: marshal images.json: %w", err)
	}
	files := []File{
		{Name: "images.md", Data: r.Summary()},
		{Name: "images.json", Data: append(js, '\n')},
		{Name: "build.sh", Data: r.BuildScript(), Executable: true},
	}
	for _, img := range r.Images {
		files = append(files,
			File{Name: img.Name + "/Containerfile", Data: r.Containerfile(img)},
			File{Name: img.Name + "/rootfs.list", Data: img.RootfsList()})
	}
	return files, nil
}

// Summary renders images.md: one row per image, then what each leaves to
// the platform and why a set is not closed.
func (r *Result) Summary() []byte {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("# Image drafts")
	w("")
	w("Built from the files each component was seen using (recorded on %s; files taken from %s on %s).", mdCell(strings.Join(r.RecordedOn, ", ")), mdCell(r.Root), mdCell(r.Hostname))
	if r.PackagesFrom != "" {
		w("Owning packages from %s.", mdCell(r.PackagesFrom))
	}
	for _, n := range r.Notes {
		w("")
		w("Note: %s", mdCell(n))
	}
	w("")
	w("Build them all with `bash build.sh` (podman, no registry), then apply the manifests.")
	w("")
	w("| image | pod | components | base | files | image size | came from | official image |")
	w("|---|---|---|---|---|---|---|---|")
	for _, img := range r.Images {
		base := "scratch"
		if !img.Closed {
			base = "debian:bookworm-slim (not closed)"
		}
		off := ""
		if img.Official != nil {
			off = mdCell(img.Official.Image) + " (the manifests use it)"
		}
		w("| `%s` | %s | %s | %s | %d | %s | %s | %s |", img.Ref, img.Pod, mdCell(strings.Join(img.Components, ", ")), base,
			len(img.Tree), human(img.Size), mdCell(sourcesLine(img.Sources)), off)
	}
	for _, img := range r.Images {
		writeImageSection(w, img)
	}
	return b.Bytes()
}

func writeImageSection(w func(string, ...any), img *Image) {
	w("")
	w("## %s", img.Name)
	w("")
	for _, g := range img.Gaps {
		w("- not closed: %s", mdCell(g))
	}
	counts := map[Class]int{}
	for _, e := range img.Files {
		counts[e.Class]++
	}
	var parts []string
	for _, c := range []Class{Executable, Library, Script, System, Content, Config, Data, Scratch, Log, Device, Runtime, Secret} {
		if counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
		}
	}
	w("- inventory: %s (details in %s/Containerfile)", strings.Join(parts, ", "), img.Name)
	for _, e := range img.Files {
		switch e.Class {
		case Config:
			w("- ConfigMap, not baked in: `%s`", mdCode(e.Path))
		case Secret:
			w("- **secret, never copied**: `%s`: %s", mdCode(e.Path), mdCell(e.Why))
		}
	}
	for _, d := range img.Dirs {
		w("- %s directory `%s`: %s", d.Class, mdCode(d.Path), mdCell(d.Why))
	}
}

var mdSpecial = strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'", "[", `\[`, "]", `\]`)

// mdCell makes a trace string safe in Markdown text or a table cell.
func mdCell(s string) string { return mdSpecial.Replace(clean(s)) }

// mdCode makes a trace string safe inside a code span.
func mdCode(s string) string { return strings.ReplaceAll(clean(s), "`", "'") }
