"""moto's server, with DynamoDB requests applied one at a time.

DynamoDB applies each UpdateItem atomically: two concurrent list_append
updates of one item both land. moto's server handles requests on threads and
its DynamoDB backend does not lock, so concurrent updates of one item can lose
one of them. Serialising DynamoDB requests (S3 stays concurrent) gives the
emulator the per-item atomicity the service relies on and real DynamoDB and
LocalStack's DynamoDB provide.

usage: python scripts/moto_server.py [--host 127.0.0.1] [--port 4566]
"""

import argparse
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import run_simple

_dynamodb_lock = threading.Lock()


def serialise_dynamodb(app):
    def wrapped(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with _dynamodb_lock:
                # Consume the whole answer inside the lock.
                return list(app(environ, start_response))
        return app(environ, start_response)

    return wrapped


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    args = parser.parse_args()
    import os

    os.environ.setdefault("MOTO_PORT", str(args.port))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        args.host,
        args.port,
        serialise_dynamodb(app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
