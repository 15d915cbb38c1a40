"""The peer of `bench --only 6`: the AWS SDK's own managed multipart upload (boto3's
upload_fileobj, 8 MiB parts as ours) of the same HTTP source into the same bucket.
Prints one JSON line: seconds, bytes, and peak RSS before and after (KiB)."""

import json
import resource
import sys
import time
import urllib.request
import uuid

import boto3
from boto3.s3.transfer import TransferConfig

source, bucket, endpoint = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
config = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)
key = f"files/bench/{uuid.uuid4()}/sdk.bin"
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
with urllib.request.urlopen(source) as body:
    s3.upload_fileobj(body, bucket, key, Config=config)
seconds = time.monotonic() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
size = s3.head_object(Bucket=bucket, Key=key)["ContentLength"]
s3.delete_object(Bucket=bucket, Key=key)
print(json.dumps({"seconds": seconds, "bytes": size, "hwm_before_kib": before, "hwm_after_kib": after}))
