package telemetry

import (
	"github.com/aws/smithy-go/metrics"
	"github.com/aws/smithy-go/tracing"
)

// DefaultProviders sets *tp and *mp, where nil, to the providers of the SDK
// client the library wraps (its Options().TracerProvider and
// MeterProvider), so that one setup covers the SDK's spans and the
// library's.
func DefaultProviders(tp *tracing.TracerProvider, mp *metrics.MeterProvider, clientTP tracing.TracerProvider, clientMP metrics.MeterProvider) {
	if *tp == nil {
		*tp = clientTP
	}
	if *mp == nil {
		*mp = clientMP
	}
}
