package k8s

import (
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/decompose-dev/decompose/graph"
)

// podBuilder drafts the objects of one pod.
type podBuilder struct {
	plan       *graph.Plan
	pod        graph.Pod
	comps      map[string]*graph.Component
	cms        *configMaps
	rws        []rewrite
	rewritten  map[string]rewrite // rewrites used, by address
	fifos      map[string][]string
	refs       []secretRef
	containers map[string]bool // names used
	notes      []string        // wrapper notes, one per container
	images     map[string]string
}

// mount is a volume and the components that see it at path.
type mount struct {
	volume, path string
	readOnly     bool
	components   []string
}

func buildPod(p *graph.Plan, pod graph.Pod, comps map[string]*graph.Component, cms *configMaps, rws []rewrite) *Pod {
	pb := &podBuilder{plan: p, pod: pod, comps: comps, cms: cms, rws: rws, rewritten: map[string]rewrite{},
		fifos: fifoPaths(pod, p.Couplings), containers: map[string]bool{}, images: map[string]string{}}
	out := &Pod{Name: pod.Name, DependsOn: pb.dependsOn()}
	used := map[string]bool{}
	vols, mounts, claims := pb.volumes(used)
	cmVols, cmMounts, cmRewrites := configVolumes(cms, pod, used)
	for _, r := range cmRewrites {
		pb.rewritten[r.from] = r
	}
	vols, mounts = append(vols, cmVols...), append(mounts, cmMounts...)
	spec := corev1.PodSpec{Volumes: vols}
	if pod.ShareProcessNamespace {
		spec.ShareProcessNamespace = ptr(true)
	}
	if pod.FSGroup != 0 {
		spec.SecurityContext = &corev1.PodSecurityContext{FSGroup: ptr(int64(pod.FSGroup))}
	}
	for _, group := range pipeGroups(pod, p.Couplings) {
		spec.Containers = append(spec.Containers, pb.container(group, mounts))
	}
	out.Secrets = pb.secrets()
	out.Services = pb.services()
	labels := map[string]string{LabelName: pod.Name}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}
	m := meta(pod.Name, labels, pb.annotations(out.DependsOn))
	selector := &metav1.LabelSelector{MatchLabels: map[string]string{LabelName: pod.Name}}
	if pod.Workload == "StatefulSet" {
		serviceName := pod.Name
		if len(out.Services) > 0 {
			serviceName = out.Services[0].Name
		}
		out.StatefulSet = &appsv1.StatefulSet{TypeMeta: typeMeta("apps/v1", "StatefulSet"), ObjectMeta: m, Spec: appsv1.StatefulSetSpec{
			Replicas: ptr(int32(1)), Selector: selector, ServiceName: serviceName, Template: tmpl, VolumeClaimTemplates: claims}}
		return out
	}
	for i := range claims {
		c := claims[i]
		c.TypeMeta = typeMeta("v1", "PersistentVolumeClaim")
		c.Name = dnsLabel(pod.Name+"-"+c.Name, 253)
		out.Claims = append(out.Claims, &c)
	}
	out.Deployment = &appsv1.Deployment{TypeMeta: typeMeta("apps/v1", "Deployment"), ObjectMeta: m, Spec: appsv1.DeploymentSpec{
		Replicas: ptr(int32(1)), Selector: selector, Template: tmpl}}
	return out
}

// volumes turns the plan's volumes into emptyDirs and claims. A
// StatefulSet gets its claims as volumeClaimTemplates; a Deployment, as
// standalone claims its pod volumes refer to.
func (pb *podBuilder) volumes(used map[string]bool) ([]corev1.Volume, []mount, []corev1.PersistentVolumeClaim) {
	var vols []corev1.Volume
	var mounts []mount
	var claims []corev1.PersistentVolumeClaim
	for _, v := range pb.pod.Volumes {
		name := unique(dnsLabel(v.Name, 63), used)
		mounts = append(mounts, mount{volume: name, path: v.Path, components: v.Components})
		if v.Kind != "PersistentVolumeClaim" {
			ed := &corev1.EmptyDirVolumeSource{}
			if v.Medium == "Memory" {
				ed.Medium = corev1.StorageMediumMemory
			}
			vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{EmptyDir: ed}})
			continue
		}
		ev := v.Why + " (" + v.Path + "); ReadWriteOnce, 1Gi is a placeholder size: size it from the VM's disk"
		claims = append(claims, corev1.PersistentVolumeClaim{ObjectMeta: meta(name, nil, map[string]string{AnnotationEvidence: ev}),
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
		if pb.pod.Workload != "StatefulSet" {
			vols = append(vols, corev1.Volume{Name: name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{
				ClaimName: dnsLabel(pb.pod.Name+"-"+name, 253)}}})
		}
	}
	return vols, mounts, claims
}

// container drafts the container of one group of components.
func (pb *podBuilder) container(group []string, mounts []mount) corev1.Container {
	comps := make([]*graph.Component, len(group))
	for i, n := range group {
		comps[i] = pb.comps[n]
	}
	lead := comps[0]
	ctr := corev1.Container{Name: unique(dnsLabel(lead.Name, 63), pb.containers), ImagePullPolicy: corev1.PullIfNotPresent}
	start := len(pb.refs)
	var wk *wellKnown
	if len(comps) == 1 {
		wk = lookupImage(lead)
	}
	if wk != nil {
		ctr.Image = wk.image
		ctr.Env = pb.imageEnv(ctr.Name, wk, lead)
		pb.images[ctr.Name] = fmt.Sprintf("official %s image: it starts the server its own way; recorded command: %s", wk.product, strings.Join(lead.Command, " "))
	} else {
		ctr.Image = placeholderImage(ctr.Name)
		if note := pb.command(&ctr, comps); note != "" {
			pb.notes = append(pb.notes, note)
		}
		pb.images[ctr.Name] = imageNote(ctr, comps)
	}
	ctr.Env = append(ctr.Env, secretEnv(pb.refs[start:])...)
	ctr.Env = append(ctr.Env, pb.addressEnv(group)...)
	ctr.Ports = ports(comps)
	in := map[string]bool{}
	for _, n := range group {
		in[n] = true
	}
	for _, m := range mounts {
		if anyIn(m.components, in) {
			ctr.VolumeMounts = append(ctr.VolumeMounts, corev1.VolumeMount{Name: m.volume, MountPath: m.path, ReadOnly: m.readOnly})
		}
	}
	sort.Slice(ctr.VolumeMounts, func(i, j int) bool { return ctr.VolumeMounts[i].MountPath < ctr.VolumeMounts[j].MountPath })
	if uid, ok := pb.pod.RunAsUsers[lead.Name]; ok {
		ctr.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr(int64(uid))}
		if uid != 0 {
			ctr.SecurityContext.RunAsNonRoot = ptr(true)
		}
	}
	return ctr
}

// imageNote says what a placeholder image must contain.
func imageNote(ctr corev1.Container, comps []*graph.Component) string {
	var need []string
	for _, c := range comps {
		need = append(need, c.Exe)
		if c.Script != "" {
			need = append(need, c.Script)
		}
	}
	if len(ctr.Command) == 3 && ctr.Command[1] == "-c" {
		need = append(need, "/bin/sh with mkfifo, sleep and kill for the wrapper script")
	}
	return fmt.Sprintf("placeholder %s: build it with %s at the same paths (no well-known image matches %s)", ctr.Image, strings.Join(sortUnique(need), ", "), comps[0].Name)
}

// dependsOn lists the pods whose Services this pod's components use.
func (pb *podBuilder) dependsOn() []string {
	in := map[string]bool{}
	for _, n := range pb.pod.Components {
		in[n] = true
	}
	deps := map[string]bool{}
	for _, other := range pb.plan.Pods {
		for _, s := range other.Services {
			if other.Name != pb.pod.Name && anyIn(s.Clients, in) {
				deps[other.Name] = true
			}
		}
	}
	return sortedKeys(deps)
}

func typeMeta(apiVersion, kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: apiVersion, Kind: kind}
}

func ptr[T any](v T) *T { return &v }
