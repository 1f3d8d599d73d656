package oracle

import (
	"runtime/debug"
	"strings"
)

// istioVersion is the version of the istio.io/istio module this binary was built from, with the
// minor release its VERSION file names (the module is a master pseudo-version).
func istioVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, d := range info.Deps {
		if d.Path == "istio.io/istio" {
			return releaseOfModule + " (istio.io/istio " + strings.TrimSpace(d.Version) + ")"
		}
	}
	return releaseOfModule
}

// releaseOfModule is the VERSION file of the pinned istio.io/istio module.
const releaseOfModule = "1.31-dev"
