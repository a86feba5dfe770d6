// Command flaggerhook calls webhooks with Flagger's own webhook client
// (github.com/fluxcd/flagger/pkg/controller CallWebhook), for the gate's
// end-to-end test. It is a module of its own: Flagger v1.36.1 needs
// Kubernetes packages older than redline's.
//
//	flaggerhook NAME NAMESPACE TYPE=URL...
//
// prints "TYPE ok" when the hook answered 2xx, else "TYPE failed: ERROR".
package main

import (
	"fmt"
	"os"
	"strings"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/controller"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: flaggerhook NAME NAMESPACE TYPE=URL...")
		os.Exit(2)
	}
	c := flaggerv1.Canary{ObjectMeta: metav1.ObjectMeta{Name: os.Args[1], Namespace: os.Args[2]}}
	for _, a := range os.Args[3:] {
		typ, url, _ := strings.Cut(a, "=")
		w := flaggerv1.CanaryWebhook{Name: typ, Type: flaggerv1.HookType(typ), URL: url, Timeout: "30s"}
		if err := controller.CallWebhook(c, flaggerv1.CanaryPhaseProgressing, w); err != nil {
			msg := strings.Join(strings.Fields(err.Error()), " ")
			fmt.Printf("%s failed: %.80s\n", typ, msg)
			continue
		}
		fmt.Printf("%s ok\n", typ)
	}
}
