"""`sam local invoke` of every sample event in events/, against the emulators, with the
real Lambda binaries that `sam build` made; each answer is checked.

The events are the ones users read in events/, with this run's values put in where they
hold placeholders: the organisation (a new one per run, where the events say 123), the
file id, the uploaded temp/ keys, the public link and the signed external URL. One file
goes through upload -> PUT -> save -> get -> download -> ... -> delete; the S3-event,
sweep and ingest functions get their events with this run's keys.

Run by scripts/sam_local.sh, which sets (environment):
  SAM            the sam executable
  SAM_TEMPLATE   the built template (.aws-sam/build/template.yaml)
  SAM_ENV_VARS   the --env-vars file (bucket, table, endpoints, development tokens)
  SAM_PARAMS     the --parameter-overrides
  S3_URL         the S3 emulator as this host reaches it (for PUTs and checks)
  FILES_BUCKET   the bucket
Prints one line per invocation: function, event, status and what was checked. Exits 1
at the first answer that is not what it should be.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import boto3

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"

# Placeholders of the sample events.
EVENT_FILE_ID = "4ffdc191-f32c-404a-8520-c403b7408afa"
EVENT_TEMP_KEY = "temp/123/5f0f9d2e-8d1e-4a8b-9d0c-1f2e3d4c5b6a/example.pdf"
EVENT_LINK_ID = "REPLACE_WITH_A_LINK_ID"
EVENT_VERIFY_URL = re.compile(r"https://archive\.example\.com/contracts/2024/contract\.pdf\?[^\"]*signature=[^\"]*")


def png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") + (1).to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def dev_token(org: str) -> str:
    """A development token (HS256, DEV_JWT_SECRET), as `make token` makes: for the routes
    whose function checks the token itself."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"sub": "user-1", "org_id": org, "iss": "file-service-local", "aud": "file-service",
              "iat": now, "exp": now + 3600}
    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    secret = os.environ["DEV_JWT_SECRET"].encode()
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(signature)


class Failed(Exception):
    pass


def expect(condition, note: str) -> str:
    """`note` when `condition` holds; the check fails otherwise."""
    assert condition, note
    return note


class Run:
    def __init__(self):
        self.sam = os.environ["SAM"]
        self.template = os.environ["SAM_TEMPLATE"]
        self.env_vars = os.environ["SAM_ENV_VARS"]
        self.params = os.environ["SAM_PARAMS"]
        self.bucket = os.environ["FILES_BUCKET"]
        self.s3 = boto3.client("s3", endpoint_url=os.environ["S3_URL"], region_name="us-east-1")
        self.org = "sam" + uuid.uuid4().hex[:10]
        self.values = {}  # placeholder -> this run's value
        self.temp_key = None
        self.token = dev_token(self.org)
        self.invoked = set()

    # -- events ------------------------------------------------------------------------

    def event(self, name: str, temp_key: str | None = None) -> dict:
        text = (EVENTS / name).read_text()
        text = text.replace("example.pdf", "example.png").replace("application/pdf", "image/png")
        key = (temp_key or self.temp_key or EVENT_TEMP_KEY).replace("example.pdf", "example.png")
        event_key = EVENT_TEMP_KEY.replace("example.pdf", "example.png")
        text = text.replace(event_key, key).replace(
            event_key.replace("/", "%2F"), key.replace("/", "%2F")
        )
        text = text.replace('"org_id": "123"', f'"org_id": "{self.org}"')
        text = text.replace('"org": "123"', f'"org": "{self.org}"')
        text = text.replace('"org": {"S": "123"}', f'"org": {{"S": "{self.org}"}}')
        text = text.replace("files/123/", f"files/{self.org}/").replace("temp/123/", f"temp/{self.org}/")
        text = text.replace("Bearer <token>", f"Bearer {self.token}")
        text = text.replace("REPLACE_WITH_A_SESSION_TOKEN", self.token)
        text = text.replace("REPLACE_WITH_A_TOKEN", self.token)
        for placeholder, value in self.values.items():
            text = text.replace(placeholder, value)
        event = json.loads(text)
        # The body changed length; API Gateway computes it, the function does not need it.
        event.get("headers", {}).pop("content-length", None)
        return event

    def body_of(self, event: dict, body: dict) -> dict:
        event["body"] = json.dumps(body)
        return event

    # -- invocations -------------------------------------------------------------------

    def invoke(self, function: str, name: str, event: dict):
        self.invoked.add(name.split(" ")[0])
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(event, f)
            path = f.name
        command = [
            self.sam, "local", "invoke", function, "-e", path, "-t", self.template,
            "--env-vars", self.env_vars, "--parameter-overrides", self.params,
            "--skip-pull-image",
        ]
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        os.unlink(path)
        seconds = time.monotonic() - started
        out = done.stdout.strip()
        try:
            answer = json.loads(out.splitlines()[-1]) if out else None
        except json.JSONDecodeError:
            answer = None
        if done.returncode != 0 or (out and answer is None and out != "null"):
            raise Failed(
                f"{function} {name}: sam local invoke failed (exit {done.returncode})\n"
                f"stdout: {out[-2000:]}\nstderr: {done.stderr[-4000:]}"
            )
        if isinstance(answer, dict) and "errorType" in answer:
            raise Failed(f"{function} {name}: the function failed: {answer}\n{done.stderr[-4000:]}")
        return answer, seconds, done.stderr

    def http(self, function: str, name: str, event: dict, status: int, check=None, note=""):
        answer, seconds, stderr = self.invoke(function, name, event)
        if not isinstance(answer, dict) or "statusCode" not in answer:
            raise Failed(f"{function} {name}: not an HTTP answer: {answer}\n{stderr[-3000:]}")
        raw = answer.get("body") or ""
        if answer.get("isBase64Encoded"):
            body_bytes = base64.b64decode(raw)
        else:
            body_bytes = raw.encode()
        content_type = (answer.get("headers") or {}).get("content-type", "")
        body = json.loads(body_bytes) if "json" in content_type and body_bytes else body_bytes
        if answer["statusCode"] != status:
            raise Failed(
                f"{function} {name}: status {answer['statusCode']}, expected {status}: "
                f"{body_bytes[:600]!r}\n{stderr[-3000:]}"
            )
        if status >= 400:
            if not (isinstance(body, dict) and isinstance(body.get("error"), str) and body.get("message")):
                raise Failed(f"{function} {name}: a {status} without a JSON error: {body_bytes[:300]!r}")
            note = note or f"error {body['error']}"
        if check:
            try:
                said = check(body, answer)
            except (AssertionError, KeyError, TypeError, IndexError) as e:
                raise Failed(f"{function} {name}: answer {body_bytes[:800]!r} fails its check: {e!r}")
            note = said or note
        self.report(function, name, str(status), note, seconds)
        return body, answer

    def task(self, function: str, name: str, event: dict, check=None, note=""):
        answer, seconds, stderr = self.invoke(function, name, event)
        if check:
            try:
                note = check(answer) or note
            except (AssertionError, KeyError, TypeError) as e:
                raise Failed(f"{function} {name}: answer {answer!r} fails its check: {e!r}\n{stderr[-3000:]}")
        self.report(function, name, "ok", note, seconds)
        return answer

    def report(self, function, name, status, note, seconds):
        line = f"  {function:<24} {name:<30} {status:>4}  {seconds:4.1f}s  {note}"
        print(line, flush=True)

    # -- S3 ------------------------------------------------------------------------------

    def put(self, upload_url: str, data: bytes, content_type: str):
        request = urllib.request.Request(upload_url, data=data, method="PUT")
        request.add_header("content-type", content_type)
        with urllib.request.urlopen(request, timeout=30) as r:
            assert r.status == 200, r.status

    def get_url(self, url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.read()

    def exists(self, key: str) -> bool:
        try:
            self.s3.head_object(Bucket=self.bucket, Key=key)
            return True
        except self.s3.exceptions.ClientError:
            return False

    def upload(self, event_name: str, data: bytes) -> str:
        """An upload: the presigned PUT the function answers, then the bytes."""

        def check(body, _):
            assert body["s3ref"]["bucket"] == self.bucket
            assert body["s3ref"]["key"].startswith(f"temp/{self.org}/")
            assert body["upload_url"].startswith(os.environ["S3_URL_SEEN_BY_FUNCTIONS"])
            return f"presigned PUT for {body['s3ref']['key'].split('/', 2)[2]}"

        body, _ = self.http("UploadFunction", event_name, self.event(event_name), 201, check)
        self.put(body["upload_url"], data, "image/png")
        return body["s3ref"]["key"]


def main() -> int:
    run = Run()
    png = png_1x1()
    print(f"sam local invoke: organisation {run.org}", flush=True)
    try:
        flow(run, png)
    except Failed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    missed = sorted({p.name for p in EVENTS.glob("*.json")} - run.invoked)
    if missed:
        print(f"FAILED: events no check invokes: {', '.join(missed)}", file=sys.stderr)
        return 1
    print(f"sam local invoke: {len(run.invoked)} events, every one in events/, answered as expected")
    return 0


def flow(run: Run, png: bytes):
    # upload -> PUT -> save
    run.temp_key = run.upload("upload.json", png)

    def saved(body, _):
        assert body["filename"] == "example.png" and len(body["versions"]) == 1
        assert body["size_bytes"] == len(png)
        return f"file {body['_id']}, 1 version"

    file, _ = run.http("SaveFunction", "save.json", run.event("save.json"), 201, saved)
    file_id = file["_id"]
    run.values[EVENT_FILE_ID] = file_id
    assert not run.exists(run.temp_key), "the save moved the upload out of temp/"

    run.http("GetFunction", "get.json", run.event("get.json"), 200,
             lambda b, _: expect(b["_id"] == file_id and b["filename"] == "example.png", "the saved file"))

    def downloaded(body, _):
        assert run.get_url(body["download_url"]) == png
        return "download_url serves the uploaded bytes"

    run.http("DownloadFunction", "download.json", run.event("download.json"), 200, downloaded)
    run.http("GetFunction", "versions.json", run.event("versions.json"), 200,
             lambda b, _: expect(len(b["results"]) == 1, "1 version"))
    run.http("DownloadFunction", "content.json", run.event("content.json"), 302,
             lambda b, a: expect(run.get_url(a["headers"]["location"]) == png, "redirect to the bytes"))
    run.http("GetFunction", "list.json", run.event("list.json"), 200,
             lambda b, _: expect([r["_id"] for r in b["results"]] == [file_id], "lists the file"))
    run.http("GetFunction", "count.json", run.event("count.json"), 200,
             lambda b, _: expect(b["count"] == 0, "count 0 (tag=invoice)"))
    run.http("GetFunction", "usage.json", run.event("usage.json"), 200,
             lambda b, _: expect(b["bytes"] == len(png), f"{len(png)} bytes in use"))
    run.http("DownloadFunction", "sign-urls.json", run.event("sign-urls.json"), 200,
             lambda b, _: expect([i["id"] for i in b["items"]] == [file_id] and run.get_url(b["items"][0]["url"]) == png,
                                 "a signed URL that serves the bytes"))
    # Its second file is another of this organisation's: the same one, at version 1.
    files = run.event("download-files.json")
    files["body"] = files["body"].replace("0b7b1c3e-2f4a-4d5e-9c8b-7a6f5e4d3c2b", file_id)
    run.http("DownloadFunction", "download-files.json", files, 200,
             lambda b, _: expect(len(b) == 2 and all(run.get_url(i["download_url"]) == png for i in b),
                                 "2 download URLs that serve the bytes"))

    # Public links.
    def generated(body, _):
        match = re.search(r"/v1/files/public/links/([^/]+)/", body)
        assert match, body
        run.values[EVENT_LINK_ID] = match.group(1)
        return "a link"

    run.http("DownloadFunction", "generate-public-link.json", run.event("generate-public-link.json"), 201, generated)
    run.http("DownloadFunction", "list-public-links.json", run.event("list-public-links.json"), 200,
             lambda b, _: expect(len(b["results"]) == 1, "1 link"))
    run.http("DownloadFunction", "access-public-link.json", run.event("access-public-link.json"), 302,
             lambda b, a: expect(run.get_url(a["headers"]["location"]) == png, "redirect to the bytes"))
    run.http("DownloadFunction", "revoke-public-link.json", run.event("revoke-public-link.json"), 204, note="revoked")
    run.http("DownloadFunction", "public-file.json", run.event("public-file.json"), 403)

    # Sessions.
    run.http("DownloadFunction", "session.json", run.event("session.json"), 200,
             lambda b, a: expect("token=" in json.dumps(a.get("cookies")), "session cookie set"))
    run.http("DownloadFunction", "delete-session.json", run.event("delete-session.json"), 204, note="cookie cleared")

    # Previews.
    run.http("PreviewFunction", "preview.json", run.event("preview.json"), 200,
             lambda b, a: expect(a["headers"]["content-type"].startswith("image/"), "an image"))
    run.http("PreviewFunction", "preview-public.json", run.event("preview-public.json"), 403)

    # A second upload: previews and downloads of temp/ keys, then a new version.
    second = run.upload("upload.json", png)
    run.http("PreviewFunction", "preview-s3.json", run.event("preview-s3.json", second), 200,
             lambda b, a: expect(a["headers"]["content-type"].startswith("image/"), "an image of the upload"))
    run.http("PreviewFunction", "preview-s3-get.json", run.event("preview-s3-get.json", second), 200,
             lambda b, a: expect(a["headers"]["content-type"].startswith("image/"), "an image of the upload"))
    run.http("DownloadFunction", "download-s3.json", run.event("download-s3.json", second), 200,
             lambda b, _: expect(run.get_url(b["download_url"]) == png, "the upload's bytes"))
    run.http("SaveFunction", "save-version.json", run.event("save-version.json", second), 201,
             lambda b, _: expect(len(b["versions"]) == 2, "version 2 added"))
    run.http("SaveFunction", "restore-version.json", run.event("restore-version.json"), 201,
             lambda b, _: expect(len(b["versions"]) == 3, "version 1 restored as 3"))
    run.http("DeleteFunction", "delete-version.json", run.event("delete-version.json"), 200,
             lambda b, _: expect(len(b["versions"]) == 2, "version 1 deleted"))

    # v1 upload and save (a new version of the file named by file_entity_id).
    third = run.upload("upload-v1.json", png)
    run.http("SaveFunction", "save-v1.json", run.event("save-v1.json", third), 201,
             lambda b, _: expect(b["s3ref"]["key"].startswith(f"files/{run.org}/"), "saved (v1)"))
    run.http("UploadFunction", "upload-public.json", run.event("upload-public.json"), 201,
             lambda b, _: expect(b["s3ref"]["key"].startswith("temp/"), "presigned PUT, no token"))

    # Direct and external saves; the external file's signed link verifies.
    run.http("SaveFunction", "save-direct.json", run.event("save-direct.json"), 201,
             lambda b, _: expect(b["filename"] == "notes.txt", "the body stored"))
    external, _ = run.http("SaveFunction", "save-external.json", run.event("save-external.json"), 201,
                           lambda b, _: expect(b["custom_download_url"].startswith("https://archive.example.com/"), "an external file"))
    download_event = run.event("download.json")
    download_event["pathParameters"]["id"] = external["_id"]
    for key in ("rawPath",):
        download_event[key] = download_event[key].replace(file_id, external["_id"])
    download_event["requestContext"]["http"]["path"] = download_event["rawPath"]
    signed, _ = run.http("DownloadFunction", "download.json (external)", download_event, 200,
                         lambda b, _: expect("signature=" in b["download_url"], "a signed link"))
    verify = run.event("verify-custom-url.json")
    verify["body"] = EVENT_VERIFY_URL.sub(signed["download_url"], verify["body"])
    run.http("VerifyCustomUrlFunction", "verify-custom-url.json", verify, 200,
             lambda b, _: expect(b["valid"] is True, "valid"))

    # A save from a URL hands the fetch to the ingest function (Lambda's Invoke, answered
    # by sam local start-lambda) and waits for it. Nothing outside answers here, so the
    # ingest function records the fetch failed, and the save reports that: 422.
    run.http("SaveFunction", "save-from-url.json", run.event("save-from-url.json"), 422,
             lambda b, _: expect(b["error"] == "source_failed", "ingest ran (start-lambda): source_failed"))
    run.task("IngestFunction", "ingest.json", run.event("ingest.json"),
             lambda a: expect(a is None, "done (no file waits for this job: left alone)"))

    # A user's collection: created, listed, the files of an entity in it, deleted.
    created, _ = run.http("SaveFunction", "collection-create.json", run.event("collection-create.json"), 201,
                          lambda b, _: expect(b["slug"].endswith("_user-1:contracts"), "a user's collection"))
    run.values["_system_files_collection_schema_opportunity:contracts"] = created["slug"]
    run.http("GetFunction", "collections.json", run.event("collections.json"), 200,
             lambda b, _: expect([c["name"] for c in b] == ["Contracts"], "listed"))
    run.http("GetFunction", "collection-files.json", run.event("collection-files.json"), 200,
             lambda b, _: expect(b == [], "no file of deal-1 in it"))
    run.http("DeleteFunction", "collection-delete.json", run.event("collection-delete.json"), 200,
             lambda b, _: expect(b["slug"] == created["slug"], "deleted"))

    # Bulk delete by tag; the file itself to the trash, back, and for good.
    run.http("DeleteFunction", "delete-files.json", run.event("delete-files.json"), 200,
             lambda b, _: expect(b["deleted"] == 0, "nothing tagged tmp"))
    run.http("DeleteFunction", "delete.json", run.event("delete.json"), 200,
             lambda b, _: expect(b["_id"] == file_id and b["deleted"] is True and "purge_at" in b,
                                 f"in the trash until {b.get('purge_at')}"))
    run.http("GetFunction", "get.json (in the trash)", run.event("get.json"), 404)
    run.http("DeleteFunction", "restore.json", run.event("restore.json"), 200,
             lambda b, _: expect(b["_id"] == file_id and "deleted_at" not in b, "restored"))
    run.http("DeleteFunction", "delete-purge.json", run.event("delete-purge.json"), 200,
             lambda b, _: expect(b["_id"] == file_id and b["deleted"] is True, "purged"))
    assert_gone = run.event("get.json")
    run.http("GetFunction", "get.json (after purge)", assert_gone, 404)

    # S3 events under temp/: an unsaved upload is recorded, its expiry and removal clear it.
    fourth = run.upload("upload.json", png)
    for name in ("s3-object-created.json", "s3-batch.json", "s3-lifecycle-expiration.json",
                 "s3-object-removed.json"):
        run.task("ExpireFunction", name, run.event(name, fourth),
                 lambda a: expect(a["failed"] == 0 and a["applied"] >= 1,
                                  f"applied {a['applied']}, stale {a['stale']}, ignored {a['ignored']}"))

    # The TTL sweep deletes the bytes of an expired file.
    sweep = run.event("sweep-ttl-remove.json")
    key = sweep["Records"][0]["dynamodb"]["OldImage"]["versions"]["L"][0]["M"]["key"]["S"]
    run.s3.put_object(Bucket=run.bucket, Key=key, Body=b"expired bytes")

    def swept(answer):
        assert not run.exists(key), "the expired file's bytes are still there"
        return "the expired file's bytes are gone"

    run.task("SweepFunction", "sweep-ttl-remove.json", sweep, swept)

    # GuardDuty's verdicts on a saved version, recorded on it by the scan function.
    to_scan = run.upload("upload.json", png)
    scanned, _ = run.http("SaveFunction", "save.json (to scan)", run.event("save.json", to_scan), 201)
    scanned_key = scanned["versions"][0]["s3ref"]["key"]
    for name, recorded in (("guardduty-clean.json", "clean"), ("guardduty-threats-found.json", "infected"),
                           ("guardduty-unsupported.json", "error"), ("guardduty-access-denied.json", "error")):
        result = run.event(name)
        result["detail"]["s3ObjectDetails"].update(objectKey=scanned_key, bucketName=run.bucket)
        run.task("ScanFunction", name, result,
                 lambda a, r=recorded: expect(a == {"recorded": r, "key": scanned_key}, f"recorded {r}"))

    # A webhook of this run's organisation, for file.created and file.trashed.
    sqs = boto3.client("sqs", endpoint_url=moto_url(), region_name="us-east-1")
    deliveries_url = sqs.create_queue(QueueName=os.environ["WEBHOOK_QUEUE"])["QueueUrl"]
    sqs.purge_queue(QueueUrl=deliveries_url)
    hook, _ = run.http("SaveFunction", "webhook-create.json", run.event("webhook-create.json"), 201,
                       lambda b, _: expect(b["secret"].startswith("whsec_"), f"webhook {b['id']}, secret shown once"))
    run.values["7c9e6679-7425-40de-944b-e07fc1f90ae7"] = hook["id"]
    run.http("GetFunction", "webhooks.json", run.event("webhooks.json"), 200,
             lambda b, _: expect([h["id"] for h in b["results"]] == [hook["id"]] and "secret" not in b["results"][0],
                                 "listed without its secret"))

    # The stream's records of a file created and trashed and an upload that expired: three
    # events on the bus, which a rule delivers to a queue; two of them queued for the webhook.
    queue_url = event_bus_with_a_queue(os.environ["EVENT_BUS_NAME"])

    def published(answer):
        assert answer == {"batchItemFailures": []}, answer
        sqs = boto3.client("sqs", endpoint_url=moto_url(), region_name="us-east-1")
        delivered = []
        for _ in range(20):
            got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            delivered += [json.loads(m["Body"]) for m in got]
            if len(delivered) >= 3:
                break
            time.sleep(0.2)
        types = [e["detail-type"] for e in delivered]
        assert types == ["file.created", "file.trashed", "upload.expired"], types
        assert all(e["source"] == "file-service" and e["detail"]["org"] == run.org for e in delivered)
        return "3 events on the bus: " + ", ".join(types)

    stream = run.event("file-events.json")
    for record in stream["Records"]:
        for image in ("OldImage", "NewImage"):
            if image in record["dynamodb"]:
                record["dynamodb"][image]["org"]["S"] = run.org
    run.task("EventsFunction", "file-events.json", stream, published)

    # One queued delivery through the webhooks function: its URL's host does not resolve
    # in the container, so the attempt fails, is logged, and is handed back for a retry.
    queued = []
    for _ in range(20):
        queued += sqs.receive_message(QueueUrl=deliveries_url, MaxNumberOfMessages=10,
                                      AttributeNames=["ApproximateReceiveCount"]).get("Messages", [])
        if len(queued) >= 2:
            break
        time.sleep(0.2)
    types = sorted(json.loads(m["Body"])["event_type"] for m in queued)
    expect(types == ["file.created", "file.trashed"], f"queued for the webhook: {types}")
    message = queued[0]
    delivery = {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": message.get("Attributes", {}), "messageAttributes": {}, "eventSource": "aws:sqs",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:" + os.environ["WEBHOOK_QUEUE"],
    }]}
    run.task("WebhooksFunction", "webhook-delivery.json (queued)", delivery,
             lambda a: expect(a["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}],
                              "the failed attempt is handed back"))
    run.http("GetFunction", "webhook-deliveries.json", run.event("webhook-deliveries.json"), 200,
             lambda b, _: expect(b["results"][0]["outcome"] == "failed", f"logged: {b['results'][0].get('error')}"))
    run.http("DeleteFunction", "webhook-delete.json", run.event("webhook-delete.json"), 200,
             lambda b, _: expect(b["id"] == hook["id"], "deleted"))
    # The sample delivery, of a webhook that is no more: dropped.
    run.task("WebhooksFunction", "webhook-delivery.json", run.event("webhook-delivery.json"),
             lambda a: expect(a["batchItemFailures"] == [], "a deleted webhook's delivery is dropped"))


def moto_url() -> str:
    """moto, which serves EventBridge and SQS beside DynamoDB (the functions reach the
    same one through the relay)."""
    return os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or os.environ["AWS_ENDPOINT_URL"]


def event_bus_with_a_queue(bus: str) -> str:
    """The bus the events function publishes to, on moto, and a queue its rule fills."""
    endpoint = moto_url()
    events = boto3.client("events", endpoint_url=endpoint, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1")
    try:
        events.create_event_bus(Name=bus)
    except events.exceptions.ResourceAlreadyExistsException:
        pass
    name = "sam-events-" + uuid.uuid4().hex[:10]
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["file-service"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "queue", "Arn": arn}])
    return queue_url


if __name__ == "__main__":
    if sys.argv[1:2] == ["token"]:
        print(dev_token(sys.argv[2]))
        sys.exit(0)
    sys.exit(main())
