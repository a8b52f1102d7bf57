// Package static finds, in the Go source of an application, the calls that
// touch resources other processes may share, so that couplings can be
// predicted before anything runs and every runtime coupling can point at a
// line of code.
//
// # What it reports
//
// [Analyze] loads the main module's packages with
// golang.org/x/tools/go/packages from source (syntax and types) and their
// dependencies from the compiler's export data (types only), builds SSA for
// the main module's code, and for every main package (a binary) lists its
// sites: the calls of the main module's code that
//
//   - open, create, read, write, remove, rename or list files and
//     directories (os.Open/OpenFile/Create/ReadFile/WriteFile/Mkdir*/
//     Remove*/Rename/ReadDir/MkdirTemp/CreateTemp, os.DirFS, filepath.Walk,
//     io/ioutil), make FIFOs (syscall/unix Mkfifo) or map files shared
//     (syscall/unix Mmap with MAP_SHARED; the path is that of the file
//     whose descriptor is mapped);
//   - listen, dial or send (net.Listen/ListenPacket/Dial/DialTimeout, the
//     net.Dialer and net.ListenConfig methods, net.Listen/DialTCP/UDP/
//     Unix, PacketConn.WriteTo, http.ListenAndServe and Server methods,
//     http.Get/Post/NewRequest, rpc and grpc dials), with the network;
//   - run programs (exec.Command, os.StartProcess, syscall.Exec), send
//     signals (syscall/unix Kill, os.Process.Signal/Kill) or expect them
//     (signal.Notify, signal.NotifyContext);
//   - read environment variables (os.Getenv, os.LookupEnv).
//
// A site names its binary, package, function, file:line, kind (file, dir,
// fifo, shm, tcp, udp, unix, net when the network is not known, exec,
// signal, env), operation and the values its resource argument may have.
//
// # Which calls count for a binary
//
// Rapid type analysis (golang.org/x/tools/go/callgraph/rta) from the
// binary's main and init functions decides: a site counts for a binary
// when the function holding it is reachable, through static calls,
// interface methods of types the binary creates and function values. A
// helper package used by two binaries gives sites in both, and a function
// nothing calls gives none. Calls inside dependencies (the standard library
// and modules other than the main one) are not sites: the call of the
// application that reaches them is. Dependencies are loaded without their
// code, so a function value the binary hands to one (an http handler, a
// cobra RunE, a DialContext, a sort.Slice less) counts as called, with
// arguments the binary does not show; the exported methods of every type
// converted to an interface count as called too, as rapid type analysis
// already assumes. Scanning a module of about 500 packages takes seconds,
// not minutes: type-checking and building SSA for every dependency was
// most of the cost, and none of it was used. The compiler makes the export
// data once (the go command caches it), so the first scan of a module
// whose dependencies were never built takes longer.
//
// # Following values
//
// Each resource argument is followed back through SSA to what it may be:
// constants; package variables and struct fields (through the binary's own
// stores into them); string concatenation, filepath.Join and path.Join,
// fmt.Sprintf with simple verbs, strconv and net.JoinHostPort; the
// defaults of flags (flag.String, flag.StringVar, FlagSet methods and
// their spf13/pflag equivalents, which cobra uses), marked with the flag's
// name because the start command may override them; parameters, to the
// arguments of every call site of the function in this binary; results of
// the binary's own functions, with their parameters bound to the call's
// arguments; variables captured by closures; context values by key type.
// At most 8 values are kept per argument.
//
// What only the run time knows becomes a hole, shown as {expression}:
// /var/spool/app/{e.Name()}. A hole that reads a constant key keeps the
// key: cfg["app_socket"] on a map of type shopconf.Config is the setting
// shopconf.Config[app_socket], os.Getenv("HOME") is env:HOME, a library
// getter such as viper.GetString("db.addr") is viper.GetString(db.addr).
// The same key read in two binaries names the same resource, which is how
// the common legacy pattern (paths in a config file whose own path is a
// flag default) still yields predictions.
//
// # Configuration texts and start scripts in the tree
//
// A binary's configuration files are the files it only reads at a path
// known statically (a constant or a flag default: /etc/shop/shop.conf). When
// the scanned tree holds the text of such a file, the settings the binary
// reads by key (cfg["db_addr"], viper.GetString("db.addr"), a key of an INI
// section as section.key) take the values the text gives them, with the
// key kept and the position of the value as evidence ([ConfigValue]). The
// text is a file of the same base name, or a sample or template of it
// (shop.conf.example, .sample, .dist, .default, .tmpl, .template, .in,
// .orig), outside hidden, testdata, vendor and node_modules directories;
// or a Go string of the scanned packages assigned to a variable named
// after the file (shopConf or shop_conf for shop.conf), a fmt.Sprintf
// format included: each verb becomes a hole named by its argument and keyed
// by it, so two texts written from the same value meet; an argument x.F.G
// on a variable of a named struct type T is keyed T.F.G (the same field),
// another variable or field path by the function and its text, a call not
// at all. Lines read are key = value, key: value, KEY=value and export
// KEY=value, with #, ; and // comments; quotes around a value go, a
// {{template action}} is a hole, ${VAR} the environment variable VAR. A key
// no text gives stays a setting; a binary that reads two files giving one
// key gets both values; a value with no literal text and an anonymous hole
// is not substituted (the key says more), only shown as evidence.
//
// Scripts under the patterns that start a binary (by the base name of the
// command, "$BIN/shop-worker" -db 127.0.0.1:{{.Ports.DB}}) add the values
// they pass to a flag to the values of its default, which stays one of them
// (the binary may be started otherwise). A template action naming a field
// path is keyed by the one struct type of the scanned packages that has
// every field path the template names, the key a Go configuration text
// gets from that struct's fields. A path a script makes with mkfifo turns
// the file sites that open it into FIFO sites, and a pipeline of two
// binaries (shop-worker ... | shop-logger ...) is a predicted pipe
// coupling. Nothing else of a script is read: its own couplings (files it
// reads, signals it sends) show only at run time.
//
// # Predicted couplings
//
// Two binaries whose sites name the same path, socket, address, setting
// or signal form a predicted [Coupling], of a kind of the graph package:
// a path written by one and used by another is file (config when all only
// read), mmap'd by both is shm, made by Mkfifo is fifo; entries created in
// a directory by one and listed or removed by another is dir; a listener
// and a dial or send to the same address (a wildcard or loopback listener
// and a loopback dial on one port) is tcp, udp or unix; a signal sent by
// one and expected by another is signal, except SIGTERM, SIGINT and
// SIGKILL, which the platform sends. Couplings of one kind made by the same
// sites are one resource under two names (a flag's default and the value a
// start script passes) and are merged, under the literal name.
//
// # Joining with a recording
//
// [Attach] takes a plan from the graph engine and matches each traced
// component to a binary (the main package named by the executable's Go
// build information, else the executable's name), then each side of each
// runtime coupling to the binary's sites: the literal value (or the value
// given to the flag on the command line), a suffix of the runtime path (an
// install under another root), the same port on loopback, the glob of a
// partly dynamic value, a setting whose name shares a word with the
// resource, or, as a guess, a site of the same kind and operation whose
// resource is known only at run time. The [JoinReport] says what matched,
// what ran but was not predicted, what was predicted but never seen, and
// the run-time values of settings it learned.
//
// Output is deterministic: sites, couplings and notes are sorted, and
// values are followed in a fixed order.
package static
