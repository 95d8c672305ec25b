package kube

import "time"

// Pod and StatefulSet hold the fields of the core/v1 Pod and apps/v1 StatefulSet that reauth reads,
// with the API's JSON names (unknown fields are ignored, as by every Kubernetes client). Decoding
// into k8s.io/api's full types would compile that module's generated code (several hundred
// thousand lines) into every build; the tests serve k8s.io/api's own types to prove the shapes
// match.
type Pod struct {
	TypeMeta
	Metadata ObjectMeta `json:"metadata"`
	Spec     PodSpec    `json:"spec"`
	Status   PodStatus  `json:"status"`
}

// PodSpec is the part of a pod's (or a pod template's) spec reauth reads: the product's
// container (its port named http, its env) and the volumes (is the local home an emptyDir?).
type PodSpec struct {
	Containers []Container `json:"containers"`
	Volumes    []Volume    `json:"volumes"`
}

// Container is one container of a pod.
type Container struct {
	Name         string          `json:"name"`
	Env          []EnvVar        `json:"env"`
	Ports        []ContainerPort `json:"ports"`
	VolumeMounts []VolumeMount   `json:"volumeMounts"`
}

// EnvVar is a container's environment variable: a literal value, or a reference (a Secret's key).
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource is where a variable's value comes from; reauth reads Secret references only.
type EnvVarSource struct {
	SecretKeyRef *KeySelector `json:"secretKeyRef,omitempty"`
}

// KeySelector names one key of a Secret.
type KeySelector struct {
	Name string `json:"name"`
	Key  string `json:"key"`
}

// ContainerPort is a port a container declares.
type ContainerPort struct {
	Name          string `json:"name"`
	ContainerPort int32  `json:"containerPort"`
}

// VolumeMount mounts a volume of the pod into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
}

// Volume is a pod volume; only whether it is an emptyDir matters here (wiped with the pod).
type Volume struct {
	Name     string    `json:"name"`
	EmptyDir *struct{} `json:"emptyDir,omitempty"`
}

// LabelSelector selects objects by labels (a StatefulSet's pods, a PodDisruptionBudget's pods).
type LabelSelector struct {
	MatchLabels      map[string]string          `json:"matchLabels,omitempty"`
	MatchExpressions []LabelSelectorRequirement `json:"matchExpressions,omitempty"`
}

// LabelSelectorRequirement is one matchExpressions entry (In, NotIn, Exists, DoesNotExist).
type LabelSelectorRequirement struct {
	Key      string   `json:"key"`
	Operator string   `json:"operator"`
	Values   []string `json:"values,omitempty"`
}

// TypeMeta is an object's kind and API version.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// UID is an object's unique id: a recreated pod has a new one.
type UID string

// ObjectMeta is the part of metadata reauth uses.
type ObjectMeta struct {
	Name              string            `json:"name"`
	Namespace         string            `json:"namespace"`
	UID               UID               `json:"uid"`
	Generation        int64             `json:"generation,omitempty"`
	Labels            map[string]string `json:"labels,omitempty"`
	DeletionTimestamp *time.Time        `json:"deletionTimestamp,omitempty"`
}

// revisionLabel is the label a StatefulSet's controller puts on each pod: the name of the
// ControllerRevision (template revision) the pod was created from.
const revisionLabel = "controller-revision-hash"

// PodStatus is the part of a pod's status reauth uses.
type PodStatus struct {
	Phase      string         `json:"phase"`
	PodIP      string         `json:"podIP"`
	Conditions []PodCondition `json:"conditions"`
}

// PodCondition is one of a pod's conditions; reauth looks at Type "Ready".
type PodCondition struct {
	Type   string `json:"type"`
	Status string `json:"status"` // "True", "False", "Unknown"
}

// StatefulSet is the part of an apps/v1 StatefulSet reauth uses.
type StatefulSet struct {
	TypeMeta
	Metadata ObjectMeta        `json:"metadata"`
	Spec     StatefulSetSpec   `json:"spec"`
	Status   StatefulSetStatus `json:"status"`
}

// StatefulSetSpec: Replicas nil means 1, as in the API.
type StatefulSetSpec struct {
	Replicas       *int32                    `json:"replicas"`
	ServiceName    string                    `json:"serviceName"`
	UpdateStrategy StatefulSetUpdateStrategy `json:"updateStrategy"`
	// Ordinals.Start numbers the pods start…start+replicas−1 (the chart's ordinals.start).
	Ordinals *struct {
		Start int32 `json:"start"`
	} `json:"ordinals,omitempty"`
	Template PodTemplate `json:"template"`
}

// PodTemplate is the template a StatefulSet creates its pods from.
type PodTemplate struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     PodSpec    `json:"spec"`
}

// StatefulSetList is the answer of a list of StatefulSets.
type StatefulSetList struct {
	Items []StatefulSet `json:"items"`
}

// PodDisruptionBudget is the part of a policy/v1 PodDisruptionBudget reauth uses: which pods it
// protects.
type PodDisruptionBudget struct {
	Metadata ObjectMeta `json:"metadata"`
	Spec     struct {
		Selector *LabelSelector `json:"selector"`
	} `json:"spec"`
}

// PodDisruptionBudgetList is the answer of a list of PodDisruptionBudgets.
type PodDisruptionBudgetList struct {
	Items []PodDisruptionBudget `json:"items"`
}

// StatefulSetUpdateStrategy is RollingUpdate (the default; pods at or above the partition are
// updated by the controller) or OnDelete (a pod takes the new template only when it is deleted).
type StatefulSetUpdateStrategy struct {
	Type          string `json:"type,omitempty"`
	RollingUpdate *struct {
		Partition *int32 `json:"partition,omitempty"`
	} `json:"rollingUpdate,omitempty"`
}

// StatefulSetStatus is the controller's view: which template revision the pods run
// (currentRevision), which one a new pod gets (updateRevision), and how many run the latter.
type StatefulSetStatus struct {
	ObservedGeneration int64  `json:"observedGeneration,omitempty"`
	Replicas           int32  `json:"replicas"`
	UpdatedReplicas    int32  `json:"updatedReplicas"`
	CurrentRevision    string `json:"currentRevision,omitempty"`
	UpdateRevision     string `json:"updateRevision,omitempty"`
}
