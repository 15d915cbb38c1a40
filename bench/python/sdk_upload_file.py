"""The peer of the `files` CLI in scripts/bench-cli.sh: boto3's managed multipart upload
of the same file (upload_file, 8 MiB parts, 8 threads, as `files upload --parallel 8`),
straight to the same bucket. Prints the seconds it took."""

import sys
import time
import uuid

import boto3
from boto3.s3.transfer import TransferConfig

path, bucket, endpoint = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client(
    "s3",
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="test",
    aws_secret_access_key="test",
)
config = TransferConfig(
    multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024, max_concurrency=8
)
started = time.monotonic()
s3.upload_file(path, bucket, f"temp/bench/{uuid.uuid4()}/sdk.bin", Config=config)
print(f"{time.monotonic() - started:.3f}")
