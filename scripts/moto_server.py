"""moto's server, with DynamoDB requests applied one at a time and S3's ListParts
answered under the root element S3 uses.

DynamoDB applies each UpdateItem atomically: two concurrent list_append
updates of one item both land. moto's server handles requests on threads and
its DynamoDB backend does not lock, so concurrent updates of one item can lose
one of them. Serialising DynamoDB requests (S3 stays concurrent) gives the
emulator the per-item atomicity the service relies on and real DynamoDB and
LocalStack's DynamoDB provide.

moto 5.2.5 answers ListParts as <ListPartsResponse>; S3 (and LocalStack) answer
<ListPartsResult>, which is what the AWS SDKs parse, so the element is renamed.

moto's TransactWriteItems deep-copies every table it touches before each transaction,
to roll back a failed one: each transaction then costs time and memory in proportion
to every item stored (a benchmark that saves thousands of files grew moto to 18 GB).
Here only the items a transaction touches are backed up and restored, which is the
same rollback, as requests are applied one at a time anyway.

usage: python scripts/moto_server.py [--host 127.0.0.1] [--port 4566]
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

_dynamodb_lock = threading.Lock()


def backup_touched_items_only():
    import copy

    from moto.dynamodb import models

    class NoTableCopy:
        """Stands in for the `copy` module inside moto's DynamoDB backend: tables are
        not copied (the items a transaction touches are backed up instead)."""

        @staticmethod
        def deepcopy(value, memo=None):
            return value if isinstance(value, models.Table) else copy.deepcopy(value, memo)

    models.copy = NoTableCopy
    transact = models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        backups = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op.get("Key")
            if key is None:
                continue
            current = self.get_item(op["TableName"], key)
            backups.append((op["TableName"], key, current.to_json()["Attributes"] if current else None))
        try:
            return transact(self, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(backups):
                if attributes is None:
                    if self.get_item(table_name, key) is not None:
                        self.delete_item(table_name, key)
                else:
                    self.put_item(table_name, copy.deepcopy(attributes))
            raise

    models.DynamoDBBackend.transact_write_items = transact_write_items


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with _dynamodb_lock:
                # Consume the whole answer inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def fix_list_parts(app):
    def wrapped(environ, start_response):
        query = environ.get("QUERY_STRING", "")
        if environ.get("REQUEST_METHOD") != "GET" or "uploadId=" not in query:
            return app(environ, start_response)
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        body = b"".join(app(environ, capture))
        body = body.replace(b"ListPartsResponse", b"ListPartsResult")
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(captured["status"], headers)
        return [body]

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args()
    import os

    os.environ.setdefault("MOTO_PORT", str(args.port))
    backup_touched_items_only()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        fix_list_parts(serialise_dynamodb(app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
