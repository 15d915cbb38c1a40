# shellcheck shell=bash
# Defaults shared by the scripts (the Makefile exports the same ones). Source it; it only
# sets what the caller has not set.
: "${AWS_ENDPOINT_URL:=http://127.0.0.1:4566}"
: "${AWS_ACCESS_KEY_ID:=test}"
: "${AWS_SECRET_ACCESS_KEY:=test}"
: "${AWS_REGION:=us-east-1}"
: "${FILES_BUCKET:=file-service-local}"
: "${FILES_TABLE:=file-service-local}"
: "${DEV_JWT_SECRET:=local-development-secret-change-me}"
export AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION FILES_BUCKET FILES_TABLE DEV_JWT_SECRET
