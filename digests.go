package sqsx

import (
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// ErrAttributesChecksumMismatch: a received message's attributes do not
// match the MD5OfMessageAttributes SQS sent with them.
var ErrAttributesChecksumMismatch = errors.New("message attributes checksum mismatch")

// ErrBodyChecksumMismatch: a received message's body does not match the
// MD5OfBody SQS sent with it.
var ErrBodyChecksumMismatch = errors.New("message body checksum mismatch")

// ErrMessageIncomplete: a received message lacks its id, receipt handle or
// body, which SQS always sends.
var ErrMessageIncomplete = errors.New("received message incomplete")

// checkReceived verifies what the SDK leaves unchecked of a received message:
// that it has the members SQS always sends (a corrupted key such as "Body"
// makes the decoder drop one, and the SDK checks the MD5 only of a body
// present; a message without a receipt handle would fail the acknowledgement
// batched with it), its body if checkBody (see bodyChecksPerMessage), and its
// attributes (checkAttributesMD5).
func checkReceived(m *types.Message, checkBody bool) error {
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"MessageId", m.MessageId}, {"ReceiptHandle", m.ReceiptHandle}, {"Body", m.Body}} {
		if f.v == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no %s, which SQS always sends: the answer was corrupted on the way", ErrMessageIncomplete, strings.Join(missing, ", "))
	}
	if checkBody && m.MD5OfBody != nil {
		sum := md5.Sum([]byte(*m.Body))
		if got := hex.EncodeToString(sum[:]); got != *m.MD5OfBody {
			return fmt.Errorf("%w: the body received hashes to %s, SQS sent %s", ErrBodyChecksumMismatch, got, *m.MD5OfBody)
		}
	}
	return checkAttributesMD5(m)
}

// bodyChecksPerMessage returns the per-call option of a ReceiveMessage that
// moves the check of the bodies' MD5s from the SDK to sqsx, and a function
// that reports whether sqsx must check them. The SDK fails the whole call on
// one body that does not match, and every message of the answer would then
// wait out its visibility timeout; sqsx leaves only that one in the queue.
// Where the client does not check them (DisableMessageChecksumValidation, or
// not an SDK client), neither does sqsx.
func bodyChecksPerMessage() (opt func(*sqs.Options), check func() bool) {
	checking := false
	opt = func(o *sqs.Options) {
		checking = !o.DisableMessageChecksumValidation
		o.DisableMessageChecksumValidation = true
	}
	return opt, func() bool { return checking }
}

// checkAttributesMD5 verifies a received message's attributes against
// MD5OfMessageAttributes, which the SDK checks only for the body. The
// attributes decide whether a body is a pointer, so one corrupted on the way
// could hand a pointer back as a body. An MD5 with no attributes is a
// mismatch: SQS sends none when it returns no attributes, and an answer
// corrupted in the key "MessageAttributes" loses them all.
func checkAttributesMD5(m *types.Message) error {
	want := aws.ToString(m.MD5OfMessageAttributes)
	if want == "" {
		return nil
	}
	if got := attributesMD5(m.MessageAttributes); got != want {
		return fmt.Errorf("%w: the %d attributes received hash to %s, SQS sent %s", ErrAttributesChecksumMismatch, len(m.MessageAttributes), got, want)
	}
	return nil
}

// attributesMD5 is SQS's MD5 of message attributes: for each attribute in
// name order, the length-prefixed name and data type, a transport byte (1
// for strings and numbers, 2 for binary) and the length-prefixed value.
func attributesMD5(attrs map[string]types.MessageAttributeValue) string {
	h := md5.New()
	put := func(b []byte) {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
		h.Write(b)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		put([]byte(name))
		put([]byte(aws.ToString(a.DataType)))
		if a.BinaryValue != nil {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(aws.ToString(a.StringValue)))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
