package graph

// Plan is the engine's proposal and the evidence behind it.
type Plan struct {
	Components []Component `json:"components"`
	Pods       []Pod       `json:"pods"`
	Couplings  []Coupling  `json:"couplings"`
	// Order lists pod names dependencies first: migrate them in this order.
	Order      []string    `json:"order"`
	BlindSpots []BlindSpot `json:"blindSpots"`
	Excluded   Excluded    `json:"excluded"`
	Quality    Quality     `json:"quality"`
	Hosts      []string    `json:"hosts"`
	Resolution float64     `json:"resolution"`
	// Warnings are what a person must look at before splitting: hidden
	// couplings crossing pods, data written from several pods, blind spots.
	Warnings []Warning `json:"warnings"`
}

// Warning is one thing to look at before committing to the plan.
type Warning struct {
	// Severity is "high" (the split breaks something until changed) or
	// "info" (handled by the manifests, worth knowing).
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

// Component is a group of processes a person would name: a daemon with its
// workers, a script with the short-lived children it runs.
type Component struct {
	Name string `json:"name"`
	Exe  string `json:"exe"`
	// Script is the script path for interpreted components ("" otherwise).
	Script    string   `json:"script,omitempty"`
	Processes int      `json:"processes"`
	Users     []string `json:"users"`
	UIDs      []uint32 `json:"uids"`
	Listens   []string `json:"listens"`
	// Exposed is true when a listener is reached from outside the traced set.
	Exposed  bool     `json:"exposed"`
	Stateful bool     `json:"stateful"`
	DataDirs []string `json:"dataDirs,omitempty"`
	// ConfigFiles are configuration files only this component reads (seen
	// read, or named on its command line); shared ones are config couplings.
	ConfigFiles []string `json:"configFiles,omitempty"`
	// Backing is true for databases, caches and brokers: clients reach them
	// through a Service, so they get their own pod.
	Backing bool     `json:"backing"`
	Hosts   []string `json:"hosts"`
	Command []string `json:"command"`
	Secrets int      `json:"secrets"`
	Members []Member `json:"members"`
}

// Member is one process of a component.
type Member struct {
	Host    string   `json:"host"`
	PID     int32    `json:"pid"`
	PPID    int32    `json:"ppid"`
	Exe     string   `json:"exe"`
	Argv    []string `json:"argv"`
	UID     uint32   `json:"uid"`
	User    string   `json:"user"`
	GID     uint32   `json:"gid"`
	StartNS int64    `json:"startNs"`
	ExitNS  int64    `json:"exitNs"`
}

// Pod is a proposed pod and the components (one container each) inside it.
type Pod struct {
	Name       string   `json:"name"`
	Components []string `json:"components"`
	// Workload is "StatefulSet" when a component owns a data directory,
	// else "Deployment".
	Workload   string      `json:"workload"`
	Services   []Service   `json:"services"`
	Volumes    []Volume    `json:"volumes"`
	ConfigMaps []ConfigMap `json:"configMaps"`
	Secrets    []Secret    `json:"secrets"`
	// RunAsUsers lists the uids seen per component, FSGroup the gid to give
	// shared volumes (0 when none is needed).
	RunAsUsers map[string]uint32 `json:"runAsUsers"`
	FSGroup    uint32            `json:"fsGroup"`
	// Why explains, one line per reason, why these components are together.
	Why []string `json:"why"`
	// ShareProcessNamespace is needed when a signal crosses containers.
	ShareProcessNamespace bool `json:"shareProcessNamespace"`
}

// Service is a listener reached from another pod or from outside.
type Service struct {
	Name      string   `json:"name"`
	Component string   `json:"component"`
	Protocol  string   `json:"protocol"`
	Port      int      `json:"port"`
	Listen    string   `json:"listen"`
	Exposed   bool     `json:"exposed"`
	Clients   []string `json:"clients"`
}

// Volume is storage a pod needs: a PVC for data, an emptyDir for shared
// scratch between its containers.
type Volume struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"` // "PersistentVolumeClaim" or "emptyDir"
	Path       string   `json:"path"`
	Medium     string   `json:"medium,omitempty"` // "Memory" for /dev/shm
	Components []string `json:"components"`
	Why        string   `json:"why"`
}

// ConfigMap holds configuration files read by a pod's components.
type ConfigMap struct {
	Name       string   `json:"name"`
	Files      []string `json:"files"`
	Components []string `json:"components"`
	Shared     bool     `json:"shared"`
}

// Secret stands for redacted values a component was started with.
type Secret struct {
	Name      string `json:"name"`
	Component string `json:"component"`
	Keys      int    `json:"keys"`
}

// Coupling is one typed relation between components, with its evidence.
type Coupling struct {
	// ID is stable across runs and edits: derived from kind, resource and
	// components.
	ID         string   `json:"id"`
	Kind       Kind     `json:"kind"`
	Resource   string   `json:"resource"`
	Components []string `json:"components"`
	// From lists the writing, connecting or sending side when there is one.
	From        []string `json:"from,omitempty"`
	Distance    Distance `json:"distance"`
	Hidden      bool     `json:"hidden"`
	CrossesPods bool     `json:"crossesPods"`
	Bytes       int64    `json:"bytes"`
	Count       int64    `json:"count"`
	Remedy      string   `json:"remedy,omitempty"`
	Why         string   `json:"why"`
	Evidence    Evidence `json:"evidence"`
	// Code points at the source lines behind each side, when the plan was
	// made with the Go source at hand (analyze --source).
	Code []CodeSite `json:"code,omitempty"`
}

// CodeSite is a place in Go source that touches a coupling's resource.
type CodeSite struct {
	Component string `json:"component"`
	Binary    string `json:"binary"`
	// Pos is "file:line", relative to the source directory.
	Pos      string `json:"pos"`
	Function string `json:"function"`
	Call     string `json:"call"`
	// Match says how the site was matched to the runtime resource, best
	// first: exact, flag, suffix, port, pattern, key, dynamic (a guess).
	Match string `json:"match"`
}

// Evidence is what the recording saw behind a coupling.
type Evidence struct {
	Processes []Endpoint `json:"processes"`
	FirstNS   int64      `json:"firstNs"`
	LastNS    int64      `json:"lastNs"`
	Hosts     []string   `json:"hosts"`
	// Resources lists the underlying resources when several were folded
	// into one coupling (the files of a spool directory, the connections
	// to one listener), capped at a few names plus a count.
	Resources      []string `json:"resources,omitempty"`
	ResourcesTotal int      `json:"resourcesTotal"`
}

// Endpoint is one process's side of a coupling.
type Endpoint struct {
	Component  string `json:"component"`
	Host       string `json:"host"`
	PID        int32  `json:"pid"`
	Exe        string `json:"exe"`
	Role       string `json:"role"` // e.g. "writes", "reads", "connects", "accepts", "sends"
	Reads      int64  `json:"reads"`
	ReadBytes  int64  `json:"readBytes"`
	Writes     int64  `json:"writes"`
	WriteBytes int64  `json:"writeBytes"`
}

// BlindSpot is something the recording could not see, or a limit of the
// analysis, with how often it happened.
type BlindSpot struct {
	What   string `json:"what"`
	Count  int64  `json:"count"`
	Host   string `json:"host,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Excluded counts what the analysis left out, and why.
type Excluded struct {
	// ShareNothing counts components that shared nothing with others.
	ShareNothing []string `json:"shareNothing"`
	Recorder     int      `json:"recorder"`
	Ignored      []string `json:"ignored"`
	// PlatformFiles counts accesses to files a base image provides
	// (/lib, /usr, /etc/ld.so.cache, ...), which couple nothing.
	PlatformFiles int `json:"platformFiles"`
}

// Quality measures how well the pod boundaries cut the coupling graph.
type Quality struct {
	Couplings        int     `json:"couplings"`
	CouplingsCut     int     `json:"couplingsCut"`
	Bytes            int64   `json:"bytes"`
	BytesCut         int64   `json:"bytesCut"`
	Modularity       float64 `json:"modularity"`
	HiddenInsidePods int     `json:"hiddenInsidePods"`
	HiddenCrossing   int     `json:"hiddenCrossing"`
}
