package k8s

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/decompose-dev/decompose/graph"
)

// secretLooking matches file names whose content must never be copied:
// private keys, certificates bundles with keys, password and token files.
var secretLooking = regexp.MustCompile(`(?i)(\.(pem|key|p12|pfx|jks|keystore|kdbx)$|^id_(rsa|dsa|ecdsa|ed25519)|passw|secret|token|credential|shadow|htpasswd|^\.netrc$|^\.pgpass$|private)`)

// LooksSecret reports whether a config file's name or content suggests a
// secret, which decompose never copies into a manifest.
func LooksSecret(file string, content []byte) bool {
	return secretLooking.MatchString(path.Base(file)) || bytes.Contains(content, []byte("PRIVATE KEY-----"))
}

// maxConfigMap is the size limit of a ConfigMap's data.
const maxConfigMap = 1 << 20

// configMaps drafts the ConfigMaps of a plan. A plan ConfigMap shared by
// several pods stays one object unless address rewrites make its content
// differ between pods; then each pod gets its own copy, named after it.
type configMaps struct {
	plan    *graph.Plan
	opts    Options
	content map[string]fileContent // by file path
	// variants[cm][pod] is the data pod sees
	variants map[string]map[string]*cmData
}

type fileContent struct {
	data []byte
	why  string // why the content was not copied ("" when it was)
}

type cmData struct {
	files   []string
	data    map[string]string
	binary  map[string][]byte
	keys    map[string]string // file -> key
	readers []string
	notes   []string
	rewrote []rewrite
}

func newConfigMaps(p *graph.Plan, o Options) *configMaps {
	return &configMaps{plan: p, opts: o, content: map[string]fileContent{}, variants: map[string]map[string]*cmData{}}
}

// read returns a config file's content, or why it is not copied.
func (c *configMaps) read(file string) fileContent {
	if fc, ok := c.content[file]; ok {
		return fc
	}
	fc := fileContent{}
	data, err := []byte(nil), error(nil)
	switch {
	case !c.opts.ConfigContent:
		fc.why = "content not copied (pass --config-content to copy readable, non-secret files)"
	case LooksSecret(file, nil):
		fc.why = "looks secret by its name: never copied; make it a Secret by hand"
	default:
		data, err = c.opts.ReadFile(file)
		switch {
		case err != nil:
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			fc.why = fmt.Sprintf("not readable here (%v): copy it by hand", err)
		case LooksSecret(file, data):
			fc.why = "holds a private key: never copied; make it a Secret by hand"
		case len(data) > maxConfigMap:
			fc.why = "larger than a ConfigMap can hold (1 MiB): mount it another way"
		default:
			fc.data = data
		}
	}
	c.content[file] = fc
	return fc
}

// forPod returns what pod sees of plan ConfigMap cm, with the pod's
// address rewrites applied to copied text.
func (c *configMaps) forPod(cm graph.ConfigMap, pod string, rws []rewrite) *cmData {
	d := &cmData{files: cm.Files, data: map[string]string{}, binary: map[string][]byte{}, keys: map[string]string{}, readers: cm.Components}
	used := map[string]bool{}
	for _, f := range cm.Files {
		key := unique(configKey(f), used)
		d.keys[f] = key
		fc := c.read(f)
		switch {
		case fc.why != "":
			d.data[key] = ""
			d.notes = append(d.notes, f+": "+fc.why)
		case utf8.Valid(fc.data):
			text, rw := applyRewrites(string(fc.data), rws)
			d.data[key] = text
			d.rewrote = append(d.rewrote, rw...)
		default:
			d.binary[key] = fc.data
		}
	}
	if c.variants[cm.Name] == nil {
		c.variants[cm.Name] = map[string]*cmData{}
	}
	c.variants[cm.Name][pod] = d
	return d
}

var notConfigKey = regexp.MustCompile(`[^-._a-zA-Z0-9]+`)

// configKey makes a ConfigMap key from a file's base name.
func configKey(file string) string {
	k := strings.Trim(notConfigKey.ReplaceAllString(path.Base(file), "-"), "-")
	if len(k) > 200 {
		k = k[:200]
	}
	if k == "" || k == "." || k == ".." {
		k = "file"
	}
	return k
}

// objectName is the name of the object that holds pod's variant of cm.
func (c *configMaps) objectName(cm, pod string) string {
	if c.uniform(cm) {
		return cm
	}
	return dnsLabel(cm+"-"+pod, 253)
}

// uniform reports whether every pod sees the same content of cm.
func (c *configMaps) uniform(cm string) bool {
	var first *cmData
	for _, pod := range sortedKeys(c.variants[cm]) {
		d := c.variants[cm][pod]
		if first == nil {
			first = d
			continue
		}
		if fmt.Sprint(d.data) != fmt.Sprint(first.data) || fmt.Sprint(d.binary) != fmt.Sprint(first.binary) {
			return false
		}
	}
	return true
}

// objects drafts the ConfigMap objects, sorted by name.
func (c *configMaps) objects() []*corev1.ConfigMap {
	byName := map[string]*corev1.ConfigMap{}
	for _, cm := range sortedKeys(c.variants) {
		pods := sortedKeys(c.variants[cm])
		for _, pod := range pods {
			name := c.objectName(cm, pod)
			if byName[name] != nil {
				continue
			}
			d := c.variants[cm][pod]
			scope := "pods " + strings.Join(pods, ", ")
			if !c.uniform(cm) {
				scope = "pod " + pod + " (its address changes differ from the other pods')"
			}
			ev := fmt.Sprintf("only read, never written, during the recording: %s; mounted at the same paths in %s", strings.Join(d.files, ", "), scope)
			if len(d.notes) > 0 {
				ev += "; " + strings.Join(d.notes, "; ")
			}
			obj := &corev1.ConfigMap{TypeMeta: typeMeta("v1", "ConfigMap"), ObjectMeta: meta(name, nil, map[string]string{AnnotationEvidence: ev, AnnotationAddresses: rewriteNotes(d.rewrote)})}
			if len(d.data) > 0 {
				obj.Data = d.data
			}
			if len(d.binary) > 0 {
				obj.BinaryData = d.binary
			}
			byName[name] = obj
		}
	}
	out := make([]*corev1.ConfigMap, 0, len(byName))
	for _, n := range sortedKeys(byName) {
		out = append(out, byName[n])
	}
	return out
}

// configVolumes mounts a pod's ConfigMaps: one volume per ConfigMap and
// directory, mounted at the directory with one item per file, so the
// programs find their files where they were. (A directory mount hides
// other files of that directory in the image; podman kube play does not
// support subPath mounts of ConfigMaps.)
// Every pod's variant must have been computed (forPod) before.
func configVolumes(c *configMaps, pod graph.Pod, used map[string]bool) ([]corev1.Volume, []mount, []rewrite) {
	var vols []corev1.Volume
	var mounts []mount
	var rewrote []rewrite
	for _, cm := range pod.ConfigMaps {
		d := c.variants[cm.Name][pod.Name]
		rewrote = append(rewrote, d.rewrote...)
		byDir := map[string][]corev1.KeyToPath{}
		for _, f := range cm.Files {
			byDir[path.Dir(f)] = append(byDir[path.Dir(f)], corev1.KeyToPath{Key: d.keys[f], Path: itemPath(f, d.keys[f])})
		}
		for _, dir := range sortedKeys(byDir) {
			items := byDir[dir]
			sort.Slice(items, func(i, j int) bool { return items[i].Key < items[j].Key })
			name := unique(dnsLabel("config-"+cm.Name, 63), used)
			vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
				LocalObjectReference: corev1.LocalObjectReference{Name: c.objectName(cm.Name, pod.Name)}, Items: items}}})
			mounts = append(mounts, mount{volume: name, path: dir, readOnly: true, components: cm.Components})
		}
	}
	return vols, mounts, rewrote
}

// itemPath is where a key lands in the mounted directory: the file's own
// name when it is a safe relative name, else its key.
func itemPath(file, key string) string {
	base := path.Base(file)
	if base == "" || base == "." || strings.HasPrefix(base, "..") || strings.ContainsAny(base, "/\x00") {
		return key
	}
	return base
}
