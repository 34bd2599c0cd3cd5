package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
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

// handle runs the command for one message, with its body on standard
// input.
func (s *consumeSession) handle(ctx context.Context, m *consumer.Message, body io.Reader) error {
	f := s.f
	if max := int64(f.maxMessages); max > 0 {
		// The last one stops the consumer; one that was on its way to a
		// handler at that moment is not run.
		n := s.started.Add(1)
		if n > max {
			s.started.Add(-1)
			return errNotStarted
		}
		if n == max {
			s.stop()
		}
	} else {
		s.started.Add(1)
	}
	env, omitted := messageEnv(s.queueURL, m)
	if len(omitted) > 0 {
		s.warnf("message %s: %s left out of the command's environment: longer than the system allows; read them from SQSX_ATTRIBUTES or the message", m.ID, strings.Join(omitted, ", "))
	}
	cmd := exec.Command(s.path, f.argv[1:]...)
	cmd.Args[0] = f.argv[0]
	cmd.Env = append(slices.Clip(s.baseEnv), env...)
	// Its own process group: the terminal's Ctrl-C reaches sqsx only, and a
	// kill reaches the command's children too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	var tags []*lineTagger
	if f.tag {
		out := &lineTagger{w: s.stdout.(*lockedWriter), prefix: m.ID + "\t"}
		errOut := &lineTagger{w: s.stderr.(*lockedWriter), prefix: m.ID + "\t"}
		cmd.Stdout, cmd.Stderr, tags = out, errOut, []*lineTagger{out, errOut}
	}
	// A background child that keeps the output open does not hold the
	// message.
	cmd.WaitDelay = 2 * time.Second
	stdin, err := cmd.StdinPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		err = fmt.Errorf("cannot start %s: %w", f.argv[0], err)
		s.fatalErr.CompareAndSwap(nil, &err)
		s.stop()
		return err
	}
	start := time.Now()
	s.track(cmd.Process, true)

	// The body streams to the command. If it fails, the command is killed
	// before its standard input ends, so that it never takes part of a body
	// for all of it.
	var (
		readErr atomic.Pointer[error]
		reaped  atomic.Bool // a kill now could reach another process
	)
	go func() {
		src := &readErrReader{r: body}
		_, err := io.Copy(stdin, src)
		if src.err != nil && !reaped.Load() {
			err = fmt.Errorf("reading the body: %w", src.err)
			readErr.Store(&err)
			killGroup(cmd.Process)
		}
		stdin.Close() // a write error: the command did not read it all, its choice
	}()
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		reaped.Store(true)
		s.track(cmd.Process, false)
		waited <- err
	}()
	killed, byShutdown := false, false
	select {
	case err = <-waited:
	case <-ctx.Done():
		// Past --timeout, or (never before 12 hours) the consumer's own
		// shutdown deadline.
		killed, byShutdown = true, !errors.Is(ctx.Err(), context.DeadlineExceeded) || f.timeout == 0
		killGroup(cmd.Process)
		err = <-waited
	case <-s.killCh:
		killed, byShutdown = true, true
		killGroup(cmd.Process)
		err = <-waited
	}
	for _, t := range tags {
		t.flush()
	}

	r := &commandRun{receiveCount: m.ReceiveCount, size: m.Size, took: time.Since(start)}
	if st := cmd.ProcessState; st != nil {
		if code := st.ExitCode(); code >= 0 {
			r.exitCode = &code
		} else if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal().String()
		}
	}
	switch {
	case readErr.Load() != nil:
		err = *readErr.Load()
	case killed && byShutdown:
		s.killed.Add(1)
		err = errors.New("killed by the shutdown")
	case killed:
		err = fmt.Errorf("killed: ran longer than --timeout %v", f.timeout)
	case err != nil:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("command %s", ee.ProcessState) // "exit status 3", "signal: killed"
		}
	}
	r.err = err
	s.runsMu.Lock()
	s.runs[m.ID] = r
	s.runsMu.Unlock()
	if err != nil {
		s.failed.Add(1)
		return err
	}
	s.succeeded.Add(1)
	return nil
}

// readErrReader records the first error of r other than io.EOF.
type readErrReader struct {
	r   io.Reader
	err error
}

func (e *readErrReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// killGroup kills the process group of p, which leads it.
func killGroup(p *os.Process) {
	syscall.Kill(-p.Pid, syscall.SIGKILL)
}

// track adds or removes a running command.
func (s *consumeSession) track(p *os.Process, running bool) {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	if running {
		s.procs[p] = true
		select {
		case <-s.killCh:
			killGroup(p) // started as the kill came
		default:
		}
		return
	}
	delete(s.procs, p)
}

func (s *consumeSession) running() int {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	return len(s.procs)
}

// kill kills the running commands, once.
func (s *consumeSession) kill(why string) {
	s.killOnce.Do(func() {
		s.runsMu.Lock()
		defer s.runsMu.Unlock()
		if len(s.procs) > 0 {
			s.notef("sqsx consume: %s: killing %s\n", why, plural(len(s.procs), "running command"))
		}
		close(s.killCh)
		for p := range s.procs {
			killGroup(p)
		}
	})
}

// consumeJSON is one message as sqsx consume --output json prints it, once
// SQS has its outcome.
type consumeJSON struct {
	MessageID string `json:"MessageId"`
	// Outcome is acknowledged (deleted), retry (visible again after
	// RetryAfter), released (visible again at once, not run), unresolved
	// (its payload could not be read) or error (the deletion or the
	// visibility change failed).
	Outcome      string
	ReceiveCount int    `json:",omitempty"`
	Size         int64  `json:",omitempty"`
	ExitCode     *int   `json:",omitempty"`
	Signal       string `json:",omitempty"`
	DurationMS   *int64 `json:"DurationMs,omitempty"`
	RetryAfter   *int   `json:"RetryAfterSeconds,omitempty"`
	ErrorCode    string `json:",omitempty"`
	Error        string `json:",omitempty"`
}

// takeRun returns and forgets what the command of message id did, or nil.
func (s *consumeSession) takeRun(id string) *commandRun {
	s.runsMu.Lock()
	defer s.runsMu.Unlock()
	r := s.runs[id]
	delete(s.runs, id)
	return r
}

func (r *commandRun) json(id, outcome string) consumeJSON {
	j := consumeJSON{MessageID: id, Outcome: outcome}
	if r != nil {
		ms := r.took.Milliseconds()
		j.ReceiveCount, j.Size, j.ExitCode, j.Signal, j.DurationMS = r.receiveCount, r.size, r.exitCode, r.signal, &ms
		if r.err != nil {
			j.Error = r.err.Error()
		}
	}
	return j
}

func (s *consumeSession) onEvent(e consumer.Event) {
	switch e.Type {
	case consumer.EventAcked:
		s.acked.Add(1)
		if r := s.takeRun(e.MessageID); r != nil {
			s.emit(r.json(e.MessageID, "acknowledged"))
		}
	case consumer.EventRetry:
		s.retried.Add(1)
		r := s.takeRun(e.MessageID)
		secs := int(e.Visibility / time.Second)
		j := r.json(e.MessageID, "retry")
		j.RetryAfter = &secs
		s.emit(j)
		why := "not run"
		if r != nil && r.err != nil {
			why = r.err.Error()
		}
		s.warnf("message %s: %s; it is delivered again in %v", e.MessageID, why, e.Visibility)
	case consumer.EventReleased:
		s.released.Add(1)
		s.emit(consumeJSON{MessageID: e.MessageID, Outcome: "released"})
	}
}

func (s *consumeSession) onError(e *consumer.Error) {
	switch e.Op {
	case consumer.OpHandler:
		// Reported with its retry.
	case consumer.OpPayload:
		s.unread.Add(1)
		s.emit(consumeJSON{MessageID: e.MessageID, Outcome: "unresolved", ErrorCode: e.Code, Error: e.Err.Error()})
		what := "left in the queue, for its redrive policy"
		if e.Code == sqsx.CodePayloadNotFound {
			what = "deleted: its payload no longer exists, so it was handled before or expired"
		}
		msg, _ := describe(e.Err)
		s.warnf("message %s: its body cannot be read: %s; the message is %s", e.MessageID, msg, what)
	case consumer.OpAck, consumer.OpVisibility:
		what := "deleting"
		if e.Op == consumer.OpVisibility {
			what = "changing the visibility of"
		}
		if e.MessageID == "" {
			s.warnf("%s messages: %v", what, e.Err)
			return
		}
		j := s.takeRun(e.MessageID).json(e.MessageID, "error")
		j.ErrorCode, j.Error = e.Code, e.Err.Error()
		s.emit(j)
		s.warnf("%s message %s failed: %v; it is delivered again after its visibility timeout", what, e.MessageID, e.Err)
	default:
		msg, _ := describe(e.Err)
		s.warnf("%s failed, retrying: %s", e.Op, msg)
	}
}

// emit writes v as a line of JSON with --output json.
func (s *consumeSession) emit(v consumeJSON) {
	if !s.u.json {
		return
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.emit(v)
}

func (s *consumeSession) notef(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.notef(format, args...)
}

func (s *consumeSession) warnf(format string, args ...any) {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	s.u.warnf(format, args...)
}

// summary says what was done, unless --quiet or --output json.
func (s *consumeSession) summary() {
	started := int(s.started.Load())
	var b strings.Builder
	fmt.Fprintf(&b, "sqsx consume: stopped; ran the command for %s", plural(started, "message"))
	if started > 0 {
		fmt.Fprintf(&b, " (%d exited 0, %d failed)", s.succeeded.Load(), s.failed.Load())
	}
	fmt.Fprintf(&b, "; %d acknowledged, %d to be retried after the backoff", s.acked.Load(), s.retried.Load())
	if n := s.released.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d given back unstarted", n)
	}
	if n := s.unread.Load(); n > 0 {
		fmt.Fprintf(&b, ", %d whose body could not be read", n)
	}
	s.notef("%s\n", b.String())
}

// lockedWriter writes to w under mu.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// maxTaggedLine is the longest line a lineTagger holds: a longer one is
// written in pieces of this size, each tagged.
const maxTaggedLine = 64 << 10

// lineTagger writes what a command writes to w line by line, each line
// whole and prefixed.
type lineTagger struct {
	w      *lockedWriter
	prefix string
	buf    []byte // the start of a line
}

func (t *lineTagger) Write(p []byte) (int, error) {
	n := len(p)
	var out []byte
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.buf = append(t.buf, p...)
			for len(t.buf) >= maxTaggedLine {
				out = append(append(append(out, t.prefix...), t.buf[:maxTaggedLine]...), '\n')
				t.buf = t.buf[maxTaggedLine:]
			}
			break
		}
		out = append(append(append(append(out, t.prefix...), t.buf...), p[:i]...), '\n')
		t.buf, p = t.buf[:0], p[i+1:]
	}
	if len(out) > 0 {
		if _, err := t.w.Write(out); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// flush writes an unfinished last line, ending it.
func (t *lineTagger) flush() {
	if len(t.buf) > 0 {
		t.w.Write(append(append([]byte(t.prefix), t.buf...), '\n'))
		t.buf = nil
	}
}

// Environment variables of a command. The attribute variables are
// attrEnvPrefix followed by the attribute's name (see attrEnvName).
const (
	envQueueURL     = "SQSX_QUEUE_URL"
	envMessageID    = "SQSX_MESSAGE_ID"
	envReceiveCount = "SQSX_RECEIVE_COUNT"
	envSent         = "SQSX_SENT_TIMESTAMP"
	envFirstReceive = "SQSX_FIRST_RECEIVE_TIMESTAMP"
	envSize         = "SQSX_SIZE"
	envPayload      = "SQSX_PAYLOAD"
	envGroupID      = "SQSX_GROUP_ID"
	envDedupID      = "SQSX_DEDUPLICATION_ID"
	envSequence     = "SQSX_SEQUENCE_NUMBER"
	envAttributes   = "SQSX_ATTRIBUTES"
	attrEnvPrefix   = "SQSX_ATTR_"
)

// messageEnvNames are the variables messageEnv may set, besides the
// attribute ones.
var messageEnvNames = []string{envQueueURL, envMessageID, envReceiveCount, envSent, envFirstReceive,
	envSize, envPayload, envGroupID, envDedupID, envSequence, envAttributes}

// maxEnvString is the longest NAME=value string Linux passes to a new
// program (MAX_ARG_STRLEN, 128 KiB, counting the NUL).
const maxEnvString = 128<<10 - 1

// inheritedEnv returns env without the variables messageEnv sets, so that
// a command never sees those of an outer sqsx consume.
func inheritedEnv(env []string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return strings.HasPrefix(name, attrEnvPrefix) || slices.Contains(messageEnvNames, name)
	})
}

// attrEnvName returns the variable of the message attribute name:
// SQSX_ATTR_ and the name, with each character other than an ASCII letter,
// a digit or _ replaced by _ (SQS allows . and - too).
func attrEnvName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return attrEnvPrefix + string(b)
}

// messageEnv returns the environment variables that describe m, a message
// of the queue at queueURL, to its command, and the names of those left out
// because they are too long to pass.
func messageEnv(queueURL string, m *consumer.Message) (env, omitted []string) {
	set := func(name, value string) {
		if len(name)+1+len(value) > maxEnvString {
			omitted = append(omitted, name)
			return
		}
		env = append(env, name+"="+value)
	}
	sys := m.SystemAttributes
	set(envQueueURL, queueURL)
	set(envMessageID, m.ID)
	set(envReceiveCount, strconv.Itoa(m.ReceiveCount))
	for name, attr := range map[string]types.MessageSystemAttributeName{
		envSent:         types.MessageSystemAttributeNameSentTimestamp,
		envFirstReceive: types.MessageSystemAttributeNameApproximateFirstReceiveTimestamp,
		envGroupID:      types.MessageSystemAttributeNameMessageGroupId,
		envDedupID:      types.MessageSystemAttributeNameMessageDeduplicationId,
		envSequence:     types.MessageSystemAttributeNameSequenceNumber,
	} {
		if v, ok := sys[string(attr)]; ok && v != "" {
			set(name, v)
		}
	}
	if m.Size >= 0 {
		set(envSize, strconv.FormatInt(m.Size, 10))
	}
	if p, ok, err := sqsx.PayloadPointer(m.Raw); err == nil && ok {
		set(envPayload, p.String())
	}
	all := make(map[string]attrJSON, len(m.Attributes))
	byVar := map[string][]string{}
	for name, v := range m.Attributes {
		all[name] = newAttrJSON(v)
		byVar[attrEnvName(name)] = append(byVar[attrEnvName(name)], name)
	}
	js, _ := json.Marshal(all) // strings and bytes: cannot fail
	set(envAttributes, string(js))
	vars := make([]string, 0, len(byVar))
	for v := range byVar {
		vars = append(vars, v)
	}
	slices.Sort(vars)
	for _, v := range vars {
		if names := byVar[v]; len(names) == 1 {
			set(v, attrText(m.Attributes[names[0]]))
		}
	}
	slices.Sort(env)
	return env, omitted
}
