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
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/sqsx/sqsx"
	"github.com/sqsx/sqsx/consumer"
)

// Running the command for one message: its process group, its
// environment, its standard streams.

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
