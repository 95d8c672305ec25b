package kube

// LogPlace implements rollout.LogPlacer: the pod's log, and its container's before the restart.
func (r *PodRestarter) LogPlace() string {
	return "kubectl -n " + r.Namespace + " logs " + r.Pod + " (add --previous for the container before the restart)"
}
