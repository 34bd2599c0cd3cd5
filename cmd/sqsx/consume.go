package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
)

const consumeLong = `Receives messages from the queue and runs COMMAND once per message, with the
message body on its standard input, until interrupted or until
--max-messages messages were handled. A body stored in S3 streams from there
to the command's standard input as the command reads it, whatever its size,
and is never held in memory; only --bucket and the --allowed-bucket buckets
are read. While a command runs, its message is kept invisible to other
consumers.

A message whose command exits 0 is deleted, with its S3 payload. One whose
command exits with another status, is killed by a signal or runs past
--timeout is made visible again after a backoff: --backoff after its first
receive, doubling with each receive up to --max-backoff. With a redrive
policy on the queue, a message that keeps failing so moves to the
dead-letter queue. A payload that cannot be read is reported and left in the
queue for its redrive policy (or deleted if it no longer exists: it was
handled before). If the payload fails while it is streamed, the command is
killed before its standard input ends, so it never mistakes part of a body
for all of it.

The command gets the environment of sqsx and:
  SQSX_QUEUE_URL                 the queue's URL
  SQSX_MESSAGE_ID                the message id
  SQSX_RECEIVE_COUNT             how many times SQS delivered it, 1 the first time
  SQSX_SENT_TIMESTAMP            when it was sent, in milliseconds since 1970
  SQSX_FIRST_RECEIVE_TIMESTAMP   when it was first received, likewise
  SQSX_SIZE                      the body's size in bytes
  SQSX_PAYLOAD                   s3://BUCKET/KEY of a body stored in S3
  SQSX_GROUP_ID, SQSX_DEDUPLICATION_ID, SQSX_SEQUENCE_NUMBER   on FIFO queues
  SQSX_ATTRIBUTES                every message attribute, as JSON, as aws-cli
                                 prints MessageAttributes:
                                 {"NAME": {"DataType": "String", "StringValue": "..."}}
  SQSX_ATTR_<NAME>               each attribute's value, NAME with every
                                 character other than a letter, digit or _
                                 (that is, . and -) replaced by _; a Binary
                                 value in base64
Variables that do not apply are unset. Two attributes whose names map to the
same variable (a.b and a-b) set neither: read them from SQSX_ATTRIBUTES. A
variable longer than the system allows (128 KiB) is left out, with a
warning.

The command's standard output and standard error are those of sqsx (with
--output json its standard output goes to standard error, to keep standard
output for the JSON objects). With --concurrency above 1 the outputs of
commands running at once interleave as they write; --tag writes them line by
line, each line whole and prefixed with the message id and a tab.

Ctrl-C (or SIGTERM) stops receiving: messages received but not started are
made visible again at once, and the running commands get --shutdown-timeout
to finish; the commands, each in its own process group, do not get the
interrupt. A second Ctrl-C, or the end of --shutdown-timeout, kills them
(SIGKILL to their process groups); their messages come back after the
backoff. --max-messages N stops the same way once the command started for
the Nth message, but lets the running commands finish however long they take
(within --timeout). Before sqsx exits, the deletions are sent.

A line goes to standard error for each failed command and each message that
could not be read or deleted, and a summary when sqsx stops. With --output
json, each message is one JSON object on standard output once SQS has its
outcome (MessageId; Outcome: acknowledged, retry, released or unresolved;
ExitCode, ...). Exit status: 0 stopped cleanly (whatever the commands'
statuses), 1 error (the queue cannot be read, COMMAND cannot be started, or
commands had to be killed), 2 invalid usage.`

// consumeFlags are the flags of sqsx consume.
type consumeFlags struct {
	queue       queueFlags
	buckets     bucketFlags
	concurrency int
	maxMessages int
	timeout     time.Duration
	shutdown    time.Duration
	backoff     time.Duration
	maxBackoff  time.Duration
	wait        int
	visibility  int
	tag         bool
	argv        []string // the command and its arguments
}

// maxConcurrency bounds --concurrency: each command is a process.
const maxConcurrency = 1000

func newConsumeCommand() (*cobra.Command, subcommand) {
	f := &consumeFlags{}
	c := &cobra.Command{
		Use:   "consume --queue-url URL | --queue NAME [--bucket BUCKET] [flags] -- COMMAND [ARG...]",
		Short: "Run a command for each message, with its body on standard input",
		Long:  consumeLong,
	}
	fs := c.Flags()
	// The flags after COMMAND are its own.
	fs.SetInterspersed(false)
	f.queue.register(fs)
	f.buckets.register(fs, "S3 `BUCKET` of the payloads; bodies stored there are read",
		"also read bodies stored in `BUCKET` (repeatable); only for trusted senders")
	fs.IntVar(&f.concurrency, "concurrency", 1, fmt.Sprintf("run up to `N` commands at once (1 to %d)", maxConcurrency))
	fs.IntVar(&f.maxMessages, "max-messages", 0, "stop once the command started for `N` messages, after they finish (0: no limit)")
	fs.DurationVar(&f.timeout, "timeout", 0, "kill a command that runs longer than `DURATION` (e.g. 10m; 0: no limit); its message is retried")
	fs.DurationVar(&f.shutdown, "shutdown-timeout", consumer.DefaultShutdownTimeout, "after Ctrl-C, give the running commands `DURATION` to finish, then kill them")
	fs.DurationVar(&f.backoff, "backoff", time.Second, "keep the message of a failed command invisible for `DURATION` after its first receive, doubling with each receive")
	fs.DurationVar(&f.maxBackoff, "max-backoff", 15*time.Minute, "the longest backoff, `DURATION` (up to 12h)")
	fs.IntVar(&f.wait, "wait-time-seconds", 5, "long-poll the queue for up to `SECONDS` (1 to 20); Ctrl-C waits for a poll in progress")
	fs.IntVar(&f.visibility, "visibility-timeout", int(consumer.DefaultVisibilityTimeout/time.Second),
		fmt.Sprintf("hide received messages for `SECONDS` (1 to %d), extended while their commands run", maxVisibilityTimeout))
	fs.BoolVar(&f.tag, "tag", false, "write the commands' output line by line, each line prefixed with the message id and a tab")
	return c, f
}

func (f *consumeFlags) check(_ *pflag.FlagSet, args []string) error {
	f.argv = args
	const maxBackoff = consumer.MaxVisibilityExtension
	switch {
	case len(f.argv) == 0:
		return errors.New("no command: give the command to run for each message after the flags, e.g. -- sh -c 'wc -c'")
	case f.queue.check() != nil:
		return f.queue.check()
	case f.concurrency < 1 || f.concurrency > maxConcurrency:
		return fmt.Errorf("--concurrency %d is outside 1..%d", f.concurrency, maxConcurrency)
	case f.maxMessages < 0:
		return fmt.Errorf("--max-messages %d is negative; 0 means no limit", f.maxMessages)
	case f.timeout < 0:
		return fmt.Errorf("--timeout %v is negative; 0 means no limit", f.timeout)
	case f.shutdown <= 0:
		return fmt.Errorf("--shutdown-timeout %v is not positive", f.shutdown)
	case f.backoff <= 0 || f.backoff > maxBackoff:
		return fmt.Errorf("--backoff %v is outside (0, %v]", f.backoff, maxBackoff)
	case f.maxBackoff < f.backoff || f.maxBackoff > maxBackoff:
		return fmt.Errorf("--max-backoff %v is outside [--backoff %v, %v]", f.maxBackoff, f.backoff, maxBackoff)
	case f.wait < 1 || f.wait > 20:
		return fmt.Errorf("--wait-time-seconds %d is outside 1..20 seconds", f.wait)
	case f.visibility < 1 || f.visibility > maxVisibilityTimeout:
		return fmt.Errorf("--visibility-timeout %d is outside 1..%d seconds", f.visibility, maxVisibilityTimeout)
	}
	return f.buckets.check()
}

func (f *consumeFlags) run(ctx context.Context, u *ui) int {
	// Fail before a message is received, not after.
	path, err := exec.LookPath(f.argv[0])
	if err != nil {
		return u.fail(withHint(fmt.Errorf("cannot run %s: %w", f.argv[0], err),
			"Give a command on the PATH, or its path; nothing was received."))
	}

	sqsClient, s3Client, err := u.aws.clients(ctx)
	if err != nil {
		return u.fail(err)
	}
	client, err := sqsx.New(sqsClient, s3Client, func(o *sqsx.Options) {
		o.Bucket = f.buckets.bucket
		o.Logger = u.aws.log
		o.AllowedBuckets = f.buckets.all()
	})
	if err != nil {
		return u.fail(err)
	}
	queueURL, err := f.queue.resolve(ctx, client)
	if err != nil {
		return u.fail(err)
	}
	s := newConsumeSession(u, f, path, queueURL)
	return s.run(ctx, client)
}

// consumeSession is one run of sqsx consume.
type consumeSession struct {
	u        *ui
	f        *consumeFlags
	path     string // the command, as exec.LookPath found it
	queueURL string
	baseEnv  []string

	// Where the commands write: the files of sqsx themselves when they are
	// files, so that a command writes straight to them, else through a
	// lock.
	stdout, stderr io.Writer
	outMu          sync.Mutex // serializes sqsx's own lines and tagged lines

	stop     context.CancelFunc // ends the consumer's context: a graceful stop
	killCh   chan struct{}      // closed to kill the running commands
	killOnce sync.Once

	started   atomic.Int64 // commands started
	succeeded atomic.Int64
	failed    atomic.Int64
	killed    atomic.Int64 // commands killed by the shutdown
	acked     atomic.Int64
	retried   atomic.Int64
	released  atomic.Int64
	unread    atomic.Int64 // payloads that could not be read
	fatalErr  atomic.Pointer[error]

	runsMu sync.Mutex
	runs   map[string]*commandRun // by message id, until SQS has the outcome
	procs  map[*os.Process]bool   // the commands running
}

// commandRun is what became of one message's command.
type commandRun struct {
	receiveCount int
	size         int64
	exitCode     *int
	signal       string
	took         time.Duration
	err          error
}

func newConsumeSession(u *ui, f *consumeFlags, path, queueURL string) *consumeSession {
	s := &consumeSession{
		u: u, f: f, path: path, queueURL: queueURL,
		baseEnv: inheritedEnv(os.Environ()),
		killCh:  make(chan struct{}),
		runs:    map[string]*commandRun{},
		procs:   map[*os.Process]bool{},
	}
	s.stdout, s.stderr = u.stdout, u.stderr
	if u.json {
		s.stdout = u.stderr
	}
	if _, ok := s.stdout.(*os.File); !ok || f.tag {
		s.stdout = &lockedWriter{mu: &s.outMu, w: s.stdout}
	}
	if _, ok := s.stderr.(*os.File); !ok || f.tag {
		s.stderr = &lockedWriter{mu: &s.outMu, w: s.stderr}
	}
	return s
}

// run consumes the queue until it stops and returns the exit code.
func (s *consumeSession) run(ctx context.Context, client *sqsx.Client) int {
	f := s.f
	// The consumer's shutdown, after Ctrl-C, lets the commands run on: sqsx
	// kills them itself, after --shutdown-timeout or a second Ctrl-C.
	c, err := consumer.New(client, func(o *consumer.Options) {
		o.Concurrency = f.concurrency
		o.Receivers = 1 + f.concurrency/(2*consumer.MaxBatchSize)
		// A message received ahead of its command is hidden from other
		// consumers, and a shutdown gives it back with its receive count
		// raised: keep one in hand.
		o.Prefetch = 1
		o.VisibilityTimeout = time.Duration(f.visibility) * time.Second
		o.WaitTime = time.Duration(f.wait) * time.Second
		o.Backoff = consumer.ExponentialBackoff(f.backoff, f.maxBackoff)
		o.HandlerTimeout = f.timeout
		o.ShutdownTimeout = consumer.MaxVisibilityExtension
		o.Hooks = consumer.Hooks{OnEvent: s.onEvent, OnError: s.onError}
	})
	if err != nil {
		return s.u.fail(err)
	}

	// sqsx keeps its own hold on the signals, so that a second one does not
	// kill it (main lets go after the first) and leave the commands behind.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	cctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	s.stop = stop
	done := make(chan struct{})
	defer close(done)
	var (
		shutdownOnce  sync.Once
		shutdownTimer *time.Timer
		timerMu       sync.Mutex
	)
	defer func() {
		timerMu.Lock()
		defer timerMu.Unlock()
		if shutdownTimer != nil {
			shutdownTimer.Stop()
		}
	}()
	shutdown := func() {
		shutdownOnce.Do(func() {
			stop()
			s.notef("sqsx consume: stopping: no more messages are received; waiting up to %v for %s to finish (Ctrl-C again to kill)\n",
				f.shutdown, plural(s.running(), "running command"))
			timerMu.Lock()
			shutdownTimer = time.AfterFunc(f.shutdown, func() { s.kill("--shutdown-timeout passed") })
			timerMu.Unlock()
		})
	}
	go func() {
		parentDone, n := ctx.Done(), 0
		for {
			select {
			case <-done:
				return
			case <-parentDone:
				parentDone = nil
				shutdown()
			case <-sigs:
				if n++; n == 1 {
					shutdown()
				} else {
					s.kill("interrupted again")
				}
			}
		}
	}()

	max := "until interrupted"
	if f.maxMessages > 0 {
		max = "for " + plural(f.maxMessages, "message")
	}
	s.notef("sqsx consume: running %s %s, up to %d at a time; Ctrl-C stops\n", f.argv[0], max, f.concurrency)
	err = c.RunStream(cctx, s.queueURL, s.handle)
	s.summary()
	if p := s.fatalErr.Load(); p != nil {
		return s.u.fail(withHint(*p, "The messages whose commands did not start come back after the backoff; fix the command and run sqsx consume again."))
	}
	if err != nil {
		return s.u.fail(err)
	}
	if n := s.killed.Load(); n > 0 {
		return s.u.fail(withHint(fmt.Errorf("%s had to be killed", plural(int(n), "command")),
			"Their messages come back after the backoff. Raise --shutdown-timeout to give commands more time to finish after Ctrl-C."))
	}
	return exitOK
}

// errNotStarted is the failure of a message received after --max-messages
// were started: it comes back after the backoff.
var errNotStarted = errors.New("not run: --max-messages were started")
