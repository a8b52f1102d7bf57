// Package graph turns traces into a decomposition plan.
//
// Analyze runs the engine's steps in order: it groups processes into the
// components a person would name (a daemon with its forked workers, a script
// with its short-lived children), aggregates accesses into typed couplings
// between components, classifies each coupling by the distance it allows
// (same container, same pod, separate pods behind a Service, shared config),
// merges what must live together, optionally groups the rest by traffic with
// Louvain community detection (gonum; Options.Resolution), and finally
// derives the plan: pods, workload kinds,
// Services, volumes, ConfigMaps, Secrets, remedies for hidden couplings that
// cross pods, a migration order and quality figures.
//
// The Plan is the JSON contract of "decompose analyze --json": fields may be
// added, never renamed or removed. The engine is deterministic: the same
// traces and options give the same plan, byte for byte.
package graph
