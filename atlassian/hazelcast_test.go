package atlassian

import "testing"

func TestShellVar(t *testing.T) {
	for in, want := range map[string]string{
		"CATALINA_HOME=/a":                         "/a",
		"export CATALINA_HOME='/a b'":              "/a b",
		"CATALINA_HOME=/a\nCATALINA_HOME=/b":       "/b",
		"CATALINA_HOME=$X/y":                       "",
		`Environment="CATALINA_HOME=/usr/share/x"`: "/usr/share/x",
		"CATALINA_HOME=/a # comment":               "/a",
		"MY_CATALINA_HOME=/a":                      "",
	} {
		if got, _ := ShellVar([]byte(in), "CATALINA_HOME"); got != want {
			t.Errorf("ShellVar(%q) = %q, want %q", in, got, want)
		}
	}
}

// -Dhazelcast.http.sessions in setenv.sh, wherever Bitbucket's scripts let it be set; comments and
// other properties are not read; the last one wins.
func TestJVMProperty(t *testing.T) {
	for in, want := range map[string]string{
		`JVM_SUPPORT_RECOMMENDED_ARGS="-Dhazelcast.http.sessions=sticky"`:                                        "sticky",
		`JVM_SUPPORT_RECOMMENDED_ARGS="-Xmx2g -Dhazelcast.http.sessions=replicated -Dfoo=bar"`:                   "replicated",
		`export JAVA_OPTS="$JAVA_OPTS -Dhazelcast.http.sessions=replicated"`:                                     "replicated",
		"JAVA_OPTS='-Dhazelcast.http.sessions=local'\nJAVA_OPTS=\"$JAVA_OPTS -Dhazelcast.http.sessions=sticky\"": "sticky",
		`JAVA_OPTS=-Dhazelcast.http.sessions=sticky # for the load balancer`:                                     "sticky",
		`JVM_SUPPORT_RECOMMENDED_ARGS="-Dhazelcast.http.sessions=${HZ_MODE}"`:                                    "${HZ_MODE}",
		`# JVM_SUPPORT_RECOMMENDED_ARGS="-Dhazelcast.http.sessions=replicated"`:                                  "",
		`JAVA_OPTS="-Dmy.hazelcast.http.sessions=sticky -Xhazelcast.http.sessions=x"`:                            "",
		`HAZELCAST_HTTP_SESSIONS=sticky`:                                                                         "",
	} {
		got, ok := JVMProperty([]byte(in), HazelcastSessionsKey)
		if got != want || ok != (want != "") {
			t.Errorf("JVMProperty(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if got, ok := JVMPropertyArgs([]string{"java", "-Dhazelcast.http.sessions=local", "-Dhazelcast.http.sessions=replicated", "-jar", "x"}, HazelcastSessionsKey); got != "replicated" || !ok {
		t.Errorf("JVMPropertyArgs = %q, %v; want the last: replicated", got, ok)
	}
	if _, ok := JVMPropertyArgs([]string{"java", "-jar", "x"}, HazelcastSessionsKey); ok {
		t.Error("JVMPropertyArgs found a property on a command line without one")
	}
	if !HazelcastSessionsClustered("${HZ_MODE}") {
		t.Error("a value reauth cannot expand must count as clustered")
	}
}
