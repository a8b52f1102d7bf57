// Package k8s turns a decomposition plan into Kubernetes manifest drafts:
// typed k8s.io/api objects (a Deployment or StatefulSet per pod, Services,
// ConfigMaps, Secret stubs, PersistentVolumeClaims) marshalled with
// sigs.k8s.io/yaml, plus a kustomization.yaml.
//
// The drafts keep the legacy application's absolute paths: volumes are
// mounted where the programs expect them, so the binaries run unchanged.
// What cannot stay unchanged is said on the object that needs it, in the
// decompose.dev/evidence annotation and its siblings: loopback addresses
// that now cross pods (rewritten in argv and, on request, in config file
// content), redacted secrets (Secret stubs with placeholder values), and
// placeholder images a person must build.
//
// Every string in a plan comes from a trace and is attacker-controlled: it
// only ever lands in YAML string values (quoted by the marshaller), in argv
// elements, or single-quoted inside the few sh -c wrappers the drafts need,
// and every "$" from a trace is escaped so that the kubelet expands no
// variable reference it did not put there itself.
//
// Output is deterministic: the same plan gives the same bytes.
package k8s
