package payload

// AttributeSize returns what one message attribute adds to a message's size
// as SQS and SNS count it: the bytes of its name, of its data type, and of its
// string value or binary value.
func AttributeSize(name, dataType string, stringValue *string, binaryValue []byte) int64 {
	n := int64(len(name) + len(dataType) + len(binaryValue))
	if stringValue != nil {
		n += int64(len(*stringValue))
	}
	return n
}
