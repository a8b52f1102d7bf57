// Package images drafts container images from the files each component
// of a plan was seen using: a classified inventory per container (program,
// shared libraries, scripts, config, data, scratch, devices, secrets), a
// Containerfile, a build script that assembles each root filesystem from
// the host's files and imports it with podman, and the image sizes against
// the packages and directories the files came from.
//
// Images are named as the Kubernetes drafts of report/k8s name their
// containers (localhost/decompose/<container>:draft), so `decompose
// manifests` and `decompose images` together give something that runs.
// Only programs, libraries, scripts, read-only OS files and read-only
// application content are baked in: configuration belongs in ConfigMaps,
// data in volumes, runtime state in emptyDirs, and files that look secret
// are never copied, only listed.
//
// Every string from a trace is attacker-controlled: in the build script it
// only appears single-quoted or in NUL-separated list files, in
// Containerfiles inside JSON strings or escaped one-line comments.
// Output is deterministic for the same plan, traces and host.
package images

import (
	"fmt"
	"os"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
	"github.com/decompose-dev/decompose/report/k8s"
	"github.com/decompose-dev/decompose/trace"
)

// Options say where the files come from.
type Options struct {
	// Root is the file system the files are taken from; "" means "/", the
	// recording host's, where the recorded paths mean what they meant.
	Root string
	// Packages tells which Debian packages own files; nil asks dpkg on
	// this host when Root is "/" and dpkg-query is installed.
	Packages PackageDB
	// Hostname is this machine's name, compared with the recording hosts;
	// "" means os.Hostname.
	Hostname string
}

// Result is the image drafts for a whole plan.
type Result struct {
	Images []*Image `json:"images"`
	// Root is the file system the files are taken from.
	Root string `json:"root"`
	// PackagesFrom says how owning packages were found ("" when not).
	PackagesFrom string   `json:"packagesFrom"`
	Hostname     string   `json:"hostname"`
	RecordedOn   []string `json:"recordedOn"`
	Notes        []string `json:"notes"`
}

// Image is the draft image of one container of the manifests.
type Image struct {
	// Name is the container's name; Ref the image the manifests name for
	// it, or, when they use an official image, the one they would.
	Name       string    `json:"name"`
	Ref        string    `json:"ref"`
	Pod        string    `json:"pod"`
	Components []string  `json:"components"`
	Official   *Official `json:"official,omitempty"`
	// Files are the classified paths; data, scratch and log files are
	// folded into Dirs.
	Files []Entry `json:"files"`
	Dirs  []Dir   `json:"dirs"`
	// Tree lists what the root filesystem holds: directories, symbolic
	// links and files, as absolute paths on the host, sorted.
	Tree []string `json:"tree"`
	// Closed is true when the baked files are all the image needs as far
	// as the recording and the ELF headers tell; Gaps say why not.
	Closed bool     `json:"closed"`
	Gaps   []string `json:"gaps"`
	User   uint32   `json:"user"`
	UIDs   []uint32 `json:"uids"`
	GID    uint32   `json:"gid"`
	Expose []string `json:"expose"`
	Cmd    []string `json:"cmd"`
	// Size is the bytes of the baked files; Sources the packages and
	// directories they came from, with their own sizes.
	Size     int64    `json:"size"`
	Sources  []Source `json:"sources"`
	Packages []string `json:"packages"`
}

// Official is the well-known image the manifests use instead.
type Official struct {
	Image string   `json:"image"`
	Env   []string `json:"env"`
}

// Entry is one classified path of an image's inventory.
type Entry struct {
	Path  string `json:"path"`
	Class Class  `json:"class"`
	Why   string `json:"why"`
	// Final is the file the path resolves to on the host, Size its bytes
	// (regular files) and Package the Debian package owning it.
	Final   string `json:"final,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Package string `json:"package,omitempty"`
	// Observed is false for files added by analysis (ELF dependencies,
	// the manifests' wrapper), true for files the recording saw.
	Observed bool `json:"observed"`
}

// Dir is a directory the platform provides at run time (a volume, an
// emptyDir): created empty in the image, never filled.
type Dir struct {
	Path  string `json:"path"`
	Class Class  `json:"class"`
	Why   string `json:"why"`
	// Files names a few of the Count files seen in it.
	Files []string `json:"files,omitempty"`
	Count int      `json:"count,omitempty"`
}

// Source is a package or directory baked files came from.
type Source struct {
	Kind string `json:"kind"` // "package" or "directory"
	Name string `json:"name"`
	// Size is the whole package's installed size, or the directory's.
	Size  int64 `json:"size"`
	Files int   `json:"files"` // baked files from it
	// Partial is true when the directory was too large to measure whole.
	Partial bool `json:"partial,omitempty"`
}

// Build drafts one image per container of set, the manifests drafted for
// plan, from the files the traces saw the plan's components use.
func Build(plan *graph.Plan, traces []*trace.Trace, set *k8s.Set, o Options) (*Result, error) {
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Hostname == "" {
		o.Hostname, _ = os.Hostname()
	}
	b := newBuilder(plan, traces, o)
	r := &Result{Root: o.Root, Hostname: o.Hostname}
	for _, t := range traces {
		r.RecordedOn = append(r.RecordedOn, t.Host.Hostname)
	}
	r.RecordedOn = uniqueSorted(r.RecordedOn)
	if len(r.RecordedOn) != 1 || r.RecordedOn[0] != o.Hostname {
		r.Notes = append(r.Notes, fmt.Sprintf("recorded on %v, files taken from %s (%s): the files must be the ones the recording saw", r.RecordedOn, o.Hostname, o.Root))
	}
	imgs, err := b.images(set)
	if err != nil {
		return nil, err
	}
	r.Images = imgs
	sharePodDirs(r.Images)
	sort.SliceStable(r.Images, func(i, j int) bool { return r.Images[i].Name < r.Images[j].Name })
	r.PackagesFrom = b.measure(r.Images)
	return r, nil
}

// images drafts the image of every container of set, and refuses two
// containers of one name (their images would share it).
func (b *builder) images(set *k8s.Set) ([]*Image, error) {
	var out []*Image
	seen := map[string]string{}
	for _, kp := range set.Pods {
		pod := b.pod(kp.Name)
		if pod == nil {
			return nil, fmt.Errorf("images: the manifests have pod %s, the plan does not", kp.Name)
		}
		ctrs := kp.Template().Spec.Containers
		groups := containerGroups(*pod, b.plan.Couplings)
		if len(groups) != len(ctrs) {
			return nil, fmt.Errorf("images: pod %s has %d containers in the manifests and %d in the plan", pod.Name, len(ctrs), len(groups))
		}
		for i := range ctrs {
			if other, dup := seen[ctrs[i].Name]; dup {
				return nil, fmt.Errorf("images: pods %s and %s both have a container named %s, so their images would share a name: rename one of the components", other, pod.Name, ctrs[i].Name)
			}
			seen[ctrs[i].Name] = pod.Name
			img, err := b.image(*pod, &ctrs[i], groups[i])
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		}
	}
	return out, nil
}

// PlaceholderImage is the image the manifests name for a container that
// no official image serves (report/k8s's placeholder).
func PlaceholderImage(container string) string {
	return "localhost/decompose/" + container + ":draft"
}

// official describes the well-known image a container uses, if any.
func official(ctr *corev1.Container) *Official {
	if ctr.Image == PlaceholderImage(ctr.Name) {
		return nil
	}
	o := &Official{Image: ctr.Image}
	for _, e := range ctr.Env {
		o.Env = append(o.Env, e.Name)
	}
	return o
}

// sharePodDirs gives every image of a pod the empty run-time and log
// directories its other containers use. A program may have written there
// before the recording began (a pid file at start-up is the classic case),
// and a missing directory stops it; an empty one costs nothing.
func sharePodDirs(imgs []*Image) {
	byPod := map[string][]Dir{}
	for _, img := range imgs {
		for _, d := range img.Dirs {
			if d.Class == Scratch || d.Class == Log {
				byPod[img.Pod] = append(byPod[img.Pod], d)
			}
		}
	}
	for _, img := range imgs {
		have := map[string]bool{}
		for _, d := range img.Dirs {
			have[d.Path] = true
		}
		for _, d := range byPod[img.Pod] {
			if !have[d.Path] {
				have[d.Path] = true
				img.Dirs = append(img.Dirs, Dir{Path: d.Path, Class: d.Class, Why: "another container of pod " + img.Pod +
					" uses it; created empty here too, as a program may write there before the recording began (a pid file at start-up)"})
			}
		}
		sort.Slice(img.Dirs, func(i, j int) bool { return img.Dirs[i].Path < img.Dirs[j].Path })
	}
}
