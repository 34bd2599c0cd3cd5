package sqsx.interop;

import com.amazon.sqs.javamessaging.AmazonSQSExtendedClient;
import com.amazon.sqs.javamessaging.ExtendedClientConfiguration;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.File;
import java.net.URI;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.PublishRequest;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.BatchResultErrorEntry;
import software.amazon.awssdk.services.sqs.model.ChangeMessageVisibilityRequest;
import software.amazon.awssdk.services.sqs.model.DeleteMessageRequest;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;
import software.amazon.sns.AmazonSNSExtendedClient;
import software.amazon.sns.SNSExtendedClientConfiguration;

/**
 * Drives the reference Java extended clients for the sqsx interop suite.
 *
 * <pre>
 * java -cp ... sqsx.interop.Driver produce --mode default|legacy-disabled --spec in.json --out out.json
 * java -cp ... sqsx.interop.Driver consume --spec in.json --out out.json
 * java -cp ... sqsx.interop.Driver publish --spec in.json --out out.json
 * </pre>
 *
 * The spec and result formats are described in interop/protocol.go; results go to the --out file. Endpoints, region and
 * credentials come from AWS_ENDPOINT_URL_S3/SQS/SNS, AWS_REGION, AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY. A failing job is reported in its result; the process exits non-zero
 * only when it cannot run at all.
 */
public final class Driver {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final S3Client s3;
  private final SqsClient sqs;
  private final SnsClient sns;

  private Driver() {
    Region region = Region.of(env("AWS_REGION"));
    StaticCredentialsProvider creds =
        StaticCredentialsProvider.create(
            AwsBasicCredentials.create(env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")));
    s3 =
        S3Client.builder()
            .region(region)
            .credentialsProvider(creds)
            .endpointOverride(URI.create(env("AWS_ENDPOINT_URL_S3")))
            .forcePathStyle(true)
            .build();
    sqs =
        SqsClient.builder()
            .region(region)
            .credentialsProvider(creds)
            .endpointOverride(URI.create(env("AWS_ENDPOINT_URL_SQS")))
            .build();
    sns =
        SnsClient.builder()
            .region(region)
            .credentialsProvider(creds)
            .endpointOverride(URI.create(env("AWS_ENDPOINT_URL_SNS")))
            .build();
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> flags = new HashMap<>();
    for (int i = 1; i + 1 < args.length; i += 2) {
      flags.put(args[i], args[i + 1]);
    }
    if (args.length == 0 || !flags.containsKey("--spec") || !flags.containsKey("--out")) {
      System.err.println("usage: Driver produce|consume|publish [--mode default|legacy-disabled] --spec FILE --out FILE");
      System.exit(2);
    }
    JsonNode spec = JSON.readTree(new File(flags.get("--spec")));
    Driver d = new Driver();
    ObjectNode results = JSON.createObjectNode();
    for (JsonNode job : spec.get("jobs")) {
      ObjectNode result = JSON.createObjectNode();
      try {
        switch (args[0]) {
          case "produce" -> d.produce(job, flags.getOrDefault("--mode", "default"), result);
          case "consume" -> d.consume(job, result);
          case "publish" -> d.publish(job, result);
          default -> throw new IllegalArgumentException("unknown command " + args[0]);
        }
      } catch (Exception e) {
        result.put("error", e.toString());
      }
      results.set(job.get("id").asText(), result);
    }
    JSON.writeValue(new File(flags.get("--out")), JSON.createObjectNode().set("results", results));
  }

  /** Sends a job's messages with the SQS extended client, one by one or as one batch. */
  private void produce(JsonNode job, String mode, ObjectNode result) {
    ExtendedClientConfiguration cfg =
        new ExtendedClientConfiguration().withPayloadSupportEnabled(s3, job.get("bucket").asText());
    if (mode.equals("legacy-disabled")) {
      cfg = cfg.withLegacyReservedAttributeNameDisabled();
    } else if (!mode.equals("default")) {
      throw new IllegalArgumentException("unknown mode " + mode);
    }
    // Not closed: close() would close the shared S3 client too.
    AmazonSQSExtendedClient client = new AmazonSQSExtendedClient(sqs, cfg);
    String queueUrl = job.get("queue_url").asText();
    ArrayNode out = result.putArray("messages");
    JsonNode messages = job.get("messages");
    if (job.path("batch").asBoolean()) {
      List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
      for (int i = 0; i < messages.size(); i++) {
        JsonNode m = messages.get(i);
        entries.add(
            SendMessageBatchRequestEntry.builder()
                .id("e" + i)
                .messageBody(m.get("body").asText())
                .messageAttributes(sqsAttributes(m.path("attributes")))
                .build());
      }
      SendMessageBatchResponse resp =
          client.sendMessageBatch(
              SendMessageBatchRequest.builder().queueUrl(queueUrl).entries(entries).build());
      Map<String, ObjectNode> byId = new HashMap<>();
      resp.successful().forEach(s -> byId.put(s.id(), JSON.createObjectNode().put("message_id", s.messageId())));
      for (BatchResultErrorEntry f : resp.failed()) {
        byId.put(f.id(), JSON.createObjectNode().put("error", f.code() + ": " + f.message()));
      }
      for (int i = 0; i < messages.size(); i++) {
        out.add(byId.getOrDefault("e" + i, JSON.createObjectNode().put("error", "no result for entry")));
      }
      return;
    }
    for (JsonNode m : messages) {
      ObjectNode r = out.addObject();
      try {
        SendMessageRequest.Builder req =
            SendMessageRequest.builder()
                .queueUrl(queueUrl)
                .messageBody(m.get("body").asText())
                .messageAttributes(sqsAttributes(m.path("attributes")));
        if (m.hasNonNull("group_id")) {
          req.messageGroupId(m.get("group_id").asText());
        }
        if (m.hasNonNull("dedup_id")) {
          req.messageDeduplicationId(m.get("dedup_id").asText());
        }
        r.put("message_id", client.sendMessage(req.build()).messageId());
      } catch (Exception e) {
        r.put("error", e.toString());
      }
    }
  }

  /** Publishes a job's messages to an SNS topic with the SNS extended client. */
  private void publish(JsonNode job, ObjectNode result) {
    AmazonSNSExtendedClient client =
        new AmazonSNSExtendedClient(
            sns,
            new SNSExtendedClientConfiguration()
                .withPayloadSupportEnabled(s3, job.get("bucket").asText()));
    ArrayNode out = result.putArray("messages");
    for (JsonNode m : job.get("messages")) {
      ObjectNode r = out.addObject();
      try {
        Map<String, software.amazon.awssdk.services.sns.model.MessageAttributeValue> attrs = new HashMap<>();
        m.path("attributes")
            .fields()
            .forEachRemaining(
                e -> {
                  JsonNode a = e.getValue();
                  var b =
                      software.amazon.awssdk.services.sns.model.MessageAttributeValue.builder()
                          .dataType(a.get("type").asText());
                  if (a.hasNonNull("string")) {
                    b.stringValue(a.get("string").asText());
                  }
                  if (a.hasNonNull("binary")) {
                    b.binaryValue(SdkBytes.fromByteArray(Base64.getDecoder().decode(a.get("binary").asText())));
                  }
                  attrs.put(e.getKey(), b.build());
                });
        String id =
            client
                .publish(
                    PublishRequest.builder()
                        .topicArn(job.get("topic_arn").asText())
                        .message(m.get("body").asText())
                        .messageAttributes(attrs)
                        .build())
                .messageId();
        r.put("message_id", id);
      } catch (Exception e) {
        r.put("error", e.toString());
      }
    }
  }

  /**
   * Receives a job's messages with the SQS extended client (default configuration, which deletes
   * payloads on delete), following the consumer protocol of interop/protocol.go.
   */
  private void consume(JsonNode job, ObjectNode result) throws InterruptedException {
    AmazonSQSExtendedClient client =
        new AmazonSQSExtendedClient(
            sqs,
            new ExtendedClientConfiguration().withPayloadSupportEnabled(s3, job.get("bucket").asText()));
    String queueUrl = job.get("queue_url").asText();
    int count = job.get("count").asInt();
    boolean deleteEach = job.path("delete_each").asBoolean();
    List<String> attributeNames = new ArrayList<>();
    job.path("attribute_names").forEach(n -> attributeNames.add(n.asText()));
    ArrayNode out = result.putArray("messages");
    List<Message> got = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    long deadline = System.currentTimeMillis() + job.get("deadline_seconds").asLong() * 1000;
    while (got.size() < count && System.currentTimeMillis() < deadline) {
      for (Message m : receive(client, queueUrl, attributeNames, 10)) {
        if (!seen.add(m.messageId())) {
          continue;
        }
        got.add(m);
        out.add(toJson(m));
        if (deleteEach) {
          client.deleteMessage(DeleteMessageRequest.builder().queueUrl(queueUrl).receiptHandle(m.receiptHandle()).build());
        }
      }
    }
    if (got.size() < count) {
      throw new IllegalStateException("received " + got.size() + " of " + count + " messages");
    }
    if (deleteEach) {
      result.put("extra", receive(client, queueUrl, attributeNames, 10).size());
    }
    if (!job.path("visibility_check").asBoolean()) {
      return;
    }
    // ChangeMessageVisibility(0) with the handle this client returned must make the message
    // visible again at once; then delete it with the handle of the second receive.
    Message first = got.get(0);
    ObjectNode vis = result.putObject("visibility");
    String handle = first.receiptHandle();
    try {
      client.changeMessageVisibility(
          ChangeMessageVisibilityRequest.builder().queueUrl(queueUrl).receiptHandle(handle).visibilityTimeout(0).build());
    } catch (Exception e) {
      vis.put("change_error", e.toString());
    }
    long until = System.currentTimeMillis() + job.get("redeliver_seconds").asLong() * 1000;
    while (System.currentTimeMillis() < until && !vis.has("redelivered")) {
      for (Message m : receive(client, queueUrl, attributeNames, 1)) {
        if (m.messageId().equals(first.messageId())) {
          vis.set("redelivered", toJson(m));
          handle = m.receiptHandle();
        }
      }
    }
    try {
      client.deleteMessage(DeleteMessageRequest.builder().queueUrl(queueUrl).receiptHandle(handle).build());
    } catch (Exception e) {
      vis.put("delete_error", e.toString());
    }
  }

  private static List<Message> receive(AmazonSQSExtendedClient client, String queueUrl, List<String> attributeNames, int max) {
    ReceiveMessageRequest.Builder req =
        ReceiveMessageRequest.builder()
            .queueUrl(queueUrl)
            .maxNumberOfMessages(max)
            .waitTimeSeconds(1)
            .visibilityTimeout(20)
            .messageSystemAttributeNames(MessageSystemAttributeName.ALL);
    if (!attributeNames.isEmpty()) {
      req.messageAttributeNames(attributeNames);
    }
    return client.receiveMessage(req.build()).messages();
  }

  private static Map<String, MessageAttributeValue> sqsAttributes(JsonNode attrs) {
    Map<String, MessageAttributeValue> out = new HashMap<>();
    attrs.fields()
        .forEachRemaining(
            e -> {
              JsonNode a = e.getValue();
              MessageAttributeValue.Builder b = MessageAttributeValue.builder().dataType(a.get("type").asText());
              if (a.hasNonNull("string")) {
                b.stringValue(a.get("string").asText());
              }
              if (a.hasNonNull("binary")) {
                b.binaryValue(SdkBytes.fromByteArray(Base64.getDecoder().decode(a.get("binary").asText())));
              }
              out.put(e.getKey(), b.build());
            });
    return out;
  }

  private static ObjectNode toJson(Message m) {
    ObjectNode o = JSON.createObjectNode();
    o.put("message_id", m.messageId());
    o.put("body", m.body());
    o.put("receipt_handle", m.receiptHandle());
    Map<String, String> sys = m.attributesAsStrings();
    if (sys.containsKey("MessageGroupId")) {
      o.put("group_id", sys.get("MessageGroupId"));
    }
    if (sys.containsKey("MessageDeduplicationId")) {
      o.put("dedup_id", sys.get("MessageDeduplicationId"));
    }
    ObjectNode attrs = o.putObject("attributes");
    m.messageAttributes()
        .forEach(
            (name, v) -> {
              ObjectNode a = attrs.putObject(name);
              a.put("type", v.dataType());
              if (v.stringValue() != null) {
                a.put("string", v.stringValue());
              }
              if (v.binaryValue() != null) {
                a.put("binary", Base64.getEncoder().encodeToString(v.binaryValue().asByteArray()));
              }
            });
    return o;
  }

  private static String env(String name) {
    String v = System.getenv(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalStateException(name + " is not set");
    }
    return v;
  }
}
