package k8s

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/decompose-dev/decompose/graph"
)

// imageEnv is the environment an official image needs: secrets become keys
// of a "<container>-credentials" stub, the data directory stays where the
// VM had it.
func (pb *podBuilder) imageEnv(ctr string, wk *wellKnown, c *graph.Component) []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, name := range wk.secrets {
		pb.refs = append(pb.refs, secretRef{secret: dnsLabel(ctr, 240) + "-credentials", key: keyName(name), env: name})
	}
	for _, k := range sortedKeys(wk.plain) {
		env = append(env, corev1.EnvVar{Name: k, Value: wk.plain[k]})
	}
	if wk.dataEnv != "" && len(c.DataDirs) > 0 {
		env = append(env, corev1.EnvVar{Name: wk.dataEnv, Value: c.DataDirs[0]})
	}
	return env
}

// secretEnv brings secret references into a container's environment.
func secretEnv(refs []secretRef) []corev1.EnvVar {
	var env []corev1.EnvVar
	for _, r := range refs {
		env = append(env, corev1.EnvVar{Name: r.env, ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: r.secret}, Key: r.key}}})
	}
	return env
}

// addressEnv hints, for each Service in another pod that the group's
// components connected to, the address to use now.
func (pb *podBuilder) addressEnv(group []string) []corev1.EnvVar {
	in := map[string]bool{}
	for _, n := range group {
		in[n] = true
	}
	byName := map[string]string{}
	for _, other := range pb.plan.Pods {
		for _, s := range other.Services {
			if other.Name != pb.pod.Name && anyIn(s.Clients, in) {
				byName[envName("DECOMPOSE_"+s.Name+"_ADDR")] = net.JoinHostPort(s.Name, strconv.Itoa(s.Port))
			}
		}
	}
	var env []corev1.EnvVar
	for _, k := range sortedKeys(byName) {
		env = append(env, corev1.EnvVar{Name: k, Value: byName[k]})
	}
	return env
}

// secrets drafts the Secret stubs the pod's containers refer to, with
// placeholder values.
func (pb *podBuilder) secrets() []*corev1.Secret {
	keys := map[string]map[string]string{}
	for _, r := range pb.refs {
		if keys[r.secret] == nil {
			keys[r.secret] = map[string]string{}
		}
		keys[r.secret][r.key] = PlaceholderValue
	}
	var out []*corev1.Secret
	for _, name := range sortedKeys(keys) {
		ev := "stub: the recorder redacted these values from the command line; put the real values here (never in a manifest you commit)"
		if strings.HasSuffix(name, "-credentials") {
			ev = "stub: the official image needs these values; put the real ones here (never in a manifest you commit)"
		}
		out = append(out, &corev1.Secret{TypeMeta: typeMeta("v1", "Secret"), ObjectMeta: meta(name, nil, map[string]string{AnnotationEvidence: ev}),
			Type: corev1.SecretTypeOpaque, StringData: keys[name]})
	}
	return out
}

// services drafts one Service per plan Service name: ClusterIP for
// listeners other pods reach, LoadBalancer for listeners reached from
// outside the application.
func (pb *podBuilder) services() []*corev1.Service {
	type svc struct {
		exposed bool
		ports   []corev1.ServicePort
		why     []string
	}
	byName := map[string]*svc{}
	for _, s := range pb.pod.Services {
		name := dnsLabel(s.Name, 63)
		if s.Exposed && byName[name] != nil && !byName[name].exposed {
			name = dnsLabel(s.Name, 54) + "-external"
		}
		x := byName[name]
		if x == nil {
			x = &svc{exposed: s.Exposed}
			byName[name] = x
		}
		proto := corev1.Protocol(strings.ToUpper(s.Protocol))
		x.ports = append(x.ports, corev1.ServicePort{Name: strings.ToLower(s.Protocol) + "-" + strconv.Itoa(s.Port), Protocol: proto,
			Port: int32(s.Port), TargetPort: intstr.FromInt32(int32(s.Port))})
		x.why = append(x.why, serviceWhy(s))
	}
	var out []*corev1.Service
	for _, name := range sortedKeys(byName) {
		x := byName[name]
		sort.Slice(x.ports, func(i, j int) bool { return x.ports[i].Name < x.ports[j].Name })
		spec := corev1.ServiceSpec{Selector: map[string]string{LabelName: pb.pod.Name}, Ports: x.ports, Type: corev1.ServiceTypeClusterIP}
		if x.exposed {
			spec.Type = corev1.ServiceTypeLoadBalancer
		}
		out = append(out, &corev1.Service{TypeMeta: typeMeta("v1", "Service"),
			ObjectMeta: meta(name, map[string]string{LabelName: pb.pod.Name}, map[string]string{AnnotationEvidence: strings.Join(x.why, "; ")}), Spec: spec})
	}
	return out
}

func serviceWhy(s graph.Service) string {
	why := fmt.Sprintf("%s listens on %s %s", s.Component, s.Protocol, s.Listen)
	if len(s.Clients) > 0 {
		why += " and " + strings.Join(s.Clients, ", ") + " in other pods connect to it"
	}
	if host, _, err := net.SplitHostPort(s.Listen); err == nil && isLoopback(host) {
		why += " (a loopback listener: it must listen on all interfaces, see " + AnnotationAddresses + " on the workload)"
	}
	if s.Exposed {
		why += "; clients from outside the recorded application reached it, so type LoadBalancer gives it an external address as the VM had (it also gets a NodePort, for clusters without a load balancer)"
	}
	return why
}

// annotations explains the workload: why these components share a pod,
// what changed, what to watch, and what each image must contain.
func (pb *podBuilder) annotations(dependsOn []string) map[string]string {
	a := map[string]string{
		AnnotationEvidence:   pb.evidence(),
		AnnotationDependsOn:  strings.Join(dependsOn, ", "),
		AnnotationWarnings:   pb.warnings(),
		AnnotationContainers: strings.Join(pb.notes, "; "),
		AnnotationSecurity:   pb.security(),
		AnnotationAddresses:  pb.addressNotes(),
	}
	for ctr, note := range pb.images {
		a[ImageAnnotationPrefix+ctr] = note
	}
	return a
}

func (pb *podBuilder) evidence() string {
	if len(pb.pod.Why) > 0 {
		return "one replica; together because " + strings.Join(pb.pod.Why, "; ")
	}
	var traits []string
	for _, n := range pb.pod.Components {
		c := pb.comps[n]
		switch {
		case c.Stateful:
			traits = append(traits, n+" owns data in "+strings.Join(c.DataDirs, ", "))
		case c.Backing:
			traits = append(traits, n+" is a backing service others reach over the network")
		case c.Exposed:
			traits = append(traits, n+" serves clients from outside")
		default:
			traits = append(traits, n+" shares nothing that forces it near another component")
		}
	}
	return "one replica; a pod of its own: " + strings.Join(traits, "; ")
}

// warnings lists the hidden couplings that cross this pod's boundary.
func (pb *podBuilder) warnings() string {
	in := map[string]bool{}
	for _, n := range pb.pod.Components {
		in[n] = true
	}
	var out []string
	for _, c := range pb.plan.Couplings {
		if c.Hidden && c.CrossesPods && anyIn(c.Components, in) && c.Kind != graph.KindConfig {
			out = append(out, fmt.Sprintf("%s %s crosses pods: %s", c.Kind, c.Resource, c.Remedy))
		}
	}
	return strings.Join(out, "; ")
}

func (pb *podBuilder) security() string {
	var out []string
	for _, n := range pb.pod.Components {
		if uid, ok := pb.pod.RunAsUsers[n]; ok && uid == 0 {
			out = append(out, n)
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "ran as root (uid 0) on the VM: " + strings.Join(out, ", ") + "; runAsUser 0 keeps that, pick a non-root uid once the files it needs allow it"
}

// addressNotes says which addresses changed, and which must change but
// were found neither in argv nor in a copied config file.
func (pb *podBuilder) addressNotes() string {
	var out []string
	for _, r := range pb.rws {
		if _, ok := pb.rewritten[r.from]; ok {
			out = append(out, r.from+" -> "+r.to+" ("+r.why+")")
		}
	}
	covered := map[string]bool{}
	for _, r := range pb.rewritten {
		covered[r.to] = true
	}
	for _, r := range pb.rws {
		if !covered[r.to] {
			covered[r.to] = true
			out = append(out, "change "+r.from+" to "+r.to+" where it is configured (found neither in argv nor in a copied config file): "+r.why)
		}
	}
	return strings.Join(out, "; ")
}

// rewriteNotes lists rewrites for a ConfigMap's annotation.
func rewriteNotes(rws []rewrite) string {
	seen := map[string]bool{}
	var out []string
	for _, r := range rws {
		if !seen[r.from] {
			seen[r.from] = true
			out = append(out, r.from+" -> "+r.to)
		}
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
