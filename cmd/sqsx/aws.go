package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go/logging"
)

// config loads the AWS configuration the standard way: environment, shared
// config and credentials files, --region and --profile.
// AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL are honoured by the SDK itself; --endpoint-url overrides
// them in the clients.
func (a *awsFlags) config(ctx context.Context) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if a.region != "" {
		opts = append(opts, config.WithRegion(a.region))
	}
	if a.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(a.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		err = fmt.Errorf("loading AWS configuration: %w", err)
		var missing config.SharedConfigProfileNotExistError
		if errors.As(err, &missing) {
			return cfg, withHint(err, "Check the --profile name (or AWS_PROFILE) against ~/.aws/config and ~/.aws/credentials.")
		}
		return cfg, withHint(err, "Check ~/.aws/config, ~/.aws/credentials and the AWS_* environment variables.")
	}
	if cfg.Region == "" {
		return cfg, withHint(errors.New("no AWS region is configured"),
			"Pass --region (e.g. --region us-east-1), set AWS_REGION, or set region in your profile.")
	}
	if cfg.Credentials != nil {
		cfg.Credentials = credentialsProvider{cfg.Credentials}
	}
	if a.log != nil {
		// Not the requests: their headers carry the session token.
		cfg.Logger = sdkLogger{a.log}
		cfg.ClientLogMode = aws.LogRetries | aws.LogResponse
	}
	return cfg, nil
}

// sdkLogger passes the AWS SDK's log lines to the --debug log: warnings as
// warnings, the rest at debug level.
type sdkLogger struct{ log *slog.Logger }

func (l sdkLogger) Logf(c logging.Classification, format string, v ...any) {
	level := slog.LevelDebug
	if c == logging.Warn {
		level = slog.LevelWarn
	}
	l.log.Log(context.Background(), level, fmt.Sprintf(format, v...), "from", "aws-sdk")
}

// credentialsProvider marks the errors of the credentials provider it
// wraps as *credentialsError, which the SDK wraps in turn without a type of
// its own, so that describe can tell them by type.
type credentialsProvider struct{ aws.CredentialsProvider }

// Retrieve returns the credentials, or a *credentialsError.
func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		return c, &credentialsError{err}
	}
	return c, err
}

// credentialsError is a failure to find or retrieve credentials.
type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }

// clients returns SQS and S3 clients for the configuration.
func (a *awsFlags) clients(ctx context.Context) (*sqs.Client, *s3.Client, error) {
	cfg, err := a.config(ctx)
	if err != nil {
		return nil, nil, err
	}
	return a.sqs(cfg), a.s3(cfg), nil
}

// sqs returns an SQS client for cfg.
func (a *awsFlags) sqs(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) {
		if a.endpointURL != "" {
			o.BaseEndpoint = aws.String(a.endpointURL)
		}
	})
}

// sns returns an SNS client for cfg.
func (a *awsFlags) sns(cfg aws.Config) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) {
		if a.endpointURL != "" {
			o.BaseEndpoint = aws.String(a.endpointURL)
		}
	})
}

// s3 returns an S3 client for cfg, with path-style addressing when asked to
// or when a custom S3 endpoint is configured.
func (a *awsFlags) s3(cfg aws.Config) *s3.Client {
	pathStyle := usePathStyle(a.pathStyle || a.endpointURL != "", os.Getenv)
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		if a.endpointURL != "" {
			o.BaseEndpoint = aws.String(a.endpointURL)
		}
	})
}

// usePathStyle reports whether S3 requests should use path-style addressing
// (http://host/bucket/key): when asked to, or when a custom S3 endpoint is
// configured, since local and self-hosted S3 servers rarely resolve
// virtual-hosted bucket names.
func usePathStyle(flagSet bool, getenv func(string) string) bool {
	if flagSet {
		return true
	}
	if getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return false
	}
	return getenv("AWS_ENDPOINT_URL_S3") != "" || getenv("AWS_ENDPOINT_URL") != ""
}

// openQueue loads the configuration and returns it, a plain SQS client,
// and the URL of the queue that q names.
func (a *awsFlags) openQueue(ctx context.Context, q *queueFlags) (aws.Config, *sqs.Client, string, error) {
	cfg, err := a.config(ctx)
	if err != nil {
		return cfg, nil, "", err
	}
	c := a.sqs(cfg)
	url, err := q.resolve(ctx, c)
	return cfg, c, url, err
}
