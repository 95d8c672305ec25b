package kube

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Pod and StatefulSet hold the fields of the core/v1 Pod and apps/v1 StatefulSet that reauth reads,
// with the API's JSON names (unknown fields are ignored, as by every Kubernetes client). Decoding
// into k8s.io/api's full types would compile that module's generated code (several hundred
// thousand lines) into every build; the tests serve k8s.io/api's own types to prove the shapes
// match.
type Pod struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        ObjectMeta `json:"metadata"`
	Status          PodStatus  `json:"status"`
}

// ObjectMeta is the part of metadata reauth uses.
type ObjectMeta struct {
	Name              string       `json:"name"`
	Namespace         string       `json:"namespace"`
	UID               types.UID    `json:"uid"`
	DeletionTimestamp *metav1.Time `json:"deletionTimestamp,omitempty"`
}

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
	metav1.TypeMeta `json:",inline"`
	Metadata        ObjectMeta      `json:"metadata"`
	Spec            StatefulSetSpec `json:"spec"`
}

// StatefulSetSpec: Replicas nil means 1, as in the API.
type StatefulSetSpec struct {
	Replicas    *int32 `json:"replicas"`
	ServiceName string `json:"serviceName"`
}
