package sqsx

// AttributesMD5 is attributesMD5 for the external tests: the conformance
// tests compare what a server sends in MD5OfMessageAttributes with it.
var AttributesMD5 = attributesMD5
