"""Drives the reference Python SQS extended client for the sqsx interop suite.

    python driver.py produce --spec in.json --out out.json
    python driver.py consume --spec in.json --out out.json

The spec and result formats are described in interop/protocol.go. Endpoints,
region and credentials come from AWS_ENDPOINT_URL_S3/SQS, AWS_REGION,
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. A failing job is reported in its
result; the process exits non-zero only when it cannot run at all.
"""

import argparse
import base64
import json
import os
import time

import boto3
from botocore.config import Config

# Importing the package replaces boto3's Session so that SQS clients get the
# extended-client properties and methods (that is how the library is used).
import sqs_extended_client  # noqa: F401

REGION = os.environ["AWS_REGION"]


def sqs_client(bucket):
    """Returns an extended SQS client configured as a careful user would."""
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=os.environ["AWS_ENDPOINT_URL_SQS"])
    # The library makes its own S3 client from the session; give it the local
    # endpoint with path-style addressing instead.
    sqs.s3_client = boto3.client(
        "s3",
        region_name=REGION,
        endpoint_url=os.environ["AWS_ENDPOINT_URL_S3"],
        config=Config(s3={"addressing_style": "path"}),
    )
    sqs.large_payload_support = bucket
    # Off by default (payloads would be orphaned); a consumer that wants its
    # deletes to clean up turns it on.
    sqs.delete_payload_from_s3 = True
    return sqs


def sqs_attributes(attrs):
    out = {}
    for name, a in attrs.items():
        v = {"DataType": a["type"]}
        if a.get("string") is not None:
            v["StringValue"] = a["string"]
        if a.get("binary") is not None:
            v["BinaryValue"] = base64.b64decode(a["binary"])
        out[name] = v
    return out


def produce(job, result):
    sqs = sqs_client(job["bucket"])
    out = result["messages"] = []
    messages = job["messages"]
    if job.get("batch"):
        entries = [
            {"Id": "e%d" % i, "MessageBody": m["body"], "MessageAttributes": sqs_attributes(m.get("attributes", {}))}
            for i, m in enumerate(messages)
        ]
        resp = sqs.send_message_batch(QueueUrl=job["queue_url"], Entries=entries)
        by_id = {s["Id"]: {"message_id": s["MessageId"]} for s in resp.get("Successful", [])}
        for f in resp.get("Failed", []):
            by_id[f["Id"]] = {"error": "%s: %s" % (f["Code"], f.get("Message", ""))}
        out.extend(by_id.get("e%d" % i, {"error": "no result for entry"}) for i in range(len(messages)))
        return
    for m in messages:
        kwargs = {"QueueUrl": job["queue_url"], "MessageBody": m["body"]}
        if m.get("attributes"):
            kwargs["MessageAttributes"] = sqs_attributes(m["attributes"])
        if m.get("group_id") is not None:
            kwargs["MessageGroupId"] = m["group_id"]
        if m.get("dedup_id") is not None:
            kwargs["MessageDeduplicationId"] = m["dedup_id"]
        try:
            out.append({"message_id": sqs.send_message(**kwargs)["MessageId"]})
        except Exception as e:  # reported per message
            out.append({"error": "%s: %s" % (type(e).__name__, e)})


def receive(sqs, job, max_messages):
    kwargs = {
        "QueueUrl": job["queue_url"],
        "MaxNumberOfMessages": max_messages,
        "WaitTimeSeconds": 1,
        "VisibilityTimeout": 20,
        "MessageSystemAttributeNames": ["All"],
    }
    if job.get("attribute_names"):
        kwargs["MessageAttributeNames"] = list(job["attribute_names"])
    return sqs.receive_message(**kwargs).get("Messages", [])


def to_json(m):
    o = {"message_id": m["MessageId"], "body": m["Body"], "receipt_handle": m["ReceiptHandle"], "attributes": {}}
    sys_attrs = m.get("Attributes", {})
    if "MessageGroupId" in sys_attrs:
        o["group_id"] = sys_attrs["MessageGroupId"]
    if "MessageDeduplicationId" in sys_attrs:
        o["dedup_id"] = sys_attrs["MessageDeduplicationId"]
    for name, v in m.get("MessageAttributes", {}).items():
        a = {"type": v["DataType"]}
        if "StringValue" in v:
            a["string"] = v["StringValue"]
        if "BinaryValue" in v:
            a["binary"] = base64.b64encode(v["BinaryValue"]).decode()
        o["attributes"][name] = a
    return o


def consume(job, result):
    sqs = sqs_client(job["bucket"])
    out = result["messages"] = []
    got, seen = [], set()
    deadline = time.monotonic() + job["deadline_seconds"]
    while len(got) < job["count"] and time.monotonic() < deadline:
        for m in receive(sqs, job, 10):
            if m["MessageId"] in seen:
                continue
            seen.add(m["MessageId"])
            got.append(m)
            out.append(to_json(m))
            if job.get("delete_each"):
                sqs.delete_message(QueueUrl=job["queue_url"], ReceiptHandle=m["ReceiptHandle"])
    if len(got) < job["count"]:
        raise RuntimeError("received %d of %d messages" % (len(got), job["count"]))
    if job.get("delete_each"):
        result["extra"] = len(receive(sqs, job, 10))
    if not job.get("visibility_check"):
        return
    # ChangeMessageVisibility(0) with the handle this client returned must make
    # the message visible again at once; then delete it with the newest handle.
    first = got[0]
    vis = result["visibility"] = {}
    handle = first["ReceiptHandle"]
    try:
        sqs.change_message_visibility(QueueUrl=job["queue_url"], ReceiptHandle=handle, VisibilityTimeout=0)
    except Exception as e:
        vis["change_error"] = "%s: %s" % (type(e).__name__, e)
    until = time.monotonic() + job["redeliver_seconds"]
    while time.monotonic() < until and "redelivered" not in vis:
        for m in receive(sqs, job, 1):
            if m["MessageId"] == first["MessageId"]:
                vis["redelivered"] = to_json(m)
                handle = m["ReceiptHandle"]
    try:
        sqs.delete_message(QueueUrl=job["queue_url"], ReceiptHandle=handle)
    except Exception as e:
        vis["delete_error"] = "%s: %s" % (type(e).__name__, e)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["produce", "consume"])
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    with open(args.spec, encoding="utf-8") as f:
        spec = json.load(f)
    results = {}
    for job in spec["jobs"]:
        result = {}
        try:
            (produce if args.command == "produce" else consume)(job, result)
        except Exception as e:  # reported per job
            result["error"] = "%s: %s" % (type(e).__name__, e)
        results[job["id"]] = result
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"results": results}, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
