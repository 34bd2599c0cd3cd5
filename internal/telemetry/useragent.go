package telemetry

import (
	"runtime/debug"
	"slices"
	"sync"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// modulePath is the library's module, whose version the user agent names.
const modulePath = "github.com/sqsx/sqsx"

// Version returns the library's module version as the build records it
// ("v1.2.3"), or "devel" when it is not known (a test, a checkout built
// as the main module).
var Version = sync.OnceValue(func() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath && d.Version != "" && d.Version != "(devel)" {
			return d.Version
		}
	}
	return "devel"
})

// UserAgentKey is the user-agent key the library adds to every SDK request
// it makes.
const UserAgentKey = "sqsx"

// AddUserAgent adds "sqsx/<version>" to the User-Agent of a request: an
// APIOptions entry.
func AddUserAgent(stack *middleware.Stack) error {
	return awsmiddleware.AddUserAgentKeyValue(UserAgentKey, Version())(stack)
}

// WithUserAgent returns optFns, in a new slice, with ua (the service's
// option that adds AddUserAgent to its APIOptions) last. A call without
// options gets uaOnly, a one-element slice of ua shared by all such calls,
// so that it allocates nothing: the SDK only reads optFns.
func WithUserAgent[F any](optFns []F, uaOnly []F) []F {
	if len(optFns) == 0 {
		return uaOnly[:1:1]
	}
	return append(slices.Clip(optFns), uaOnly[0])
}
