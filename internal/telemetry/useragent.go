package telemetry

import (
	"runtime/debug"
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
