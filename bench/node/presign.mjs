#!/usr/bin/env node
// Presigned-URL generation benchmark: Node.js side (AWS SDK for JavaScript v3).
//
// Mirrors what a Node.js Lambda handler does: one S3Client created once at
// module scope, then one `getSignedUrl` call per request, awaited sequentially.
// No network I/O happens: presigning is a local SigV4 computation.
//
// stdout: exactly ONE line of JSON, e.g.
//   {"runtime":"node","node":"v20.x","sdk":"3.x","get_per_second":...,
//    "put_per_second":...,"iterations":20000,"mean_us_get":...,"mean_us_put":...}
// stderr: diagnostics only (sample URLs with --sample, errors).
//
// Options:
//   --iterations N   timed calls per operation (default 20000)
//   --warmup N       untimed warm-up calls per operation (default 2000)
//   --endpoint URL   custom S3 endpoint (default: none, i.e. the AWS endpoint
//                    for us-east-1); env BENCH_S3_ENDPOINT is used if unset
//   --sample         print one sample GET and PUT URL to stderr
//   -h, --help       show this help on stderr

import { createRequire } from 'node:module';
import process from 'node:process';
import { S3Client, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';

const require = createRequire(import.meta.url);
const SDK_VERSION = require('@aws-sdk/client-s3/package.json').version;
const PRESIGNER_VERSION = require('@aws-sdk/s3-request-presigner/package.json').version;

// Fixed request shape, kept identical to the Rust side (same bucket, key,
// response overrides and expiry), so both sign the same canonical request.
const BUCKET = 'file-service-bench';
const ORG_ID = '0b6f6c1e-5d4a-4c47-9a39-2f1f3e8a9b10';
const FILE_ID = '7d2c9e4b-8a51-4f0e-b6d3-91c5a0e4f2a7';
const FILE_NAME = 'report 2026.pdf';
const KEY = `files/org/${ORG_ID}/${FILE_ID}/${FILE_NAME}`;
const CONTENT_DISPOSITION = `attachment; filename="${FILE_NAME}"`;
const CONTENT_TYPE = 'application/pdf';
const EXPIRES_IN = 900;

function usage() {
  process.stderr.write(
    'usage: node presign.mjs [--iterations N] [--warmup N] [--endpoint URL] [--sample]\n',
  );
}

function fail(msg) {
  process.stderr.write(`presign.mjs: ${msg}\n`);
  process.exit(2);
}

function parsePositiveInt(name, raw) {
  if (raw === undefined || !/^\d+$/.test(raw)) fail(`${name} expects a positive integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) fail(`${name} expects a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

function parseArgs(argv) {
  const opts = {
    iterations: 20000,
    warmup: 2000,
    endpoint: process.env.BENCH_S3_ENDPOINT || undefined,
    sample: false,
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let value;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq !== -1) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => (value !== undefined ? value : argv[++i]);
    switch (arg) {
      case '--iterations':
      case '-n':
        opts.iterations = parsePositiveInt('--iterations', next());
        break;
      case '--warmup':
        opts.warmup = parsePositiveInt('--warmup', next());
        break;
      case '--endpoint': {
        const v = next();
        if (!v) fail('--endpoint expects a URL');
        opts.endpoint = v;
        break;
      }
      case '--sample':
        opts.sample = true;
        break;
      case '-h':
      case '--help':
        usage();
        process.exit(0);
        break;
      default:
        usage();
        fail(`unknown argument ${JSON.stringify(argv[i])}`);
    }
  }
  if (opts.endpoint) {
    try {
      new URL(opts.endpoint);
    } catch {
      fail(`invalid endpoint URL ${JSON.stringify(opts.endpoint)}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

// Created ONCE, as at Lambda module scope (init phase).
const client = new S3Client({
  region: 'us-east-1',
  credentials: {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  },
  ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
  forcePathStyle: false,
});

// One "request": a fresh command per call, as a handler would build it.
function presignGet() {
  return getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: BUCKET,
      Key: KEY,
      ResponseContentDisposition: CONTENT_DISPOSITION,
      ResponseContentType: CONTENT_TYPE,
    }),
    { expiresIn: EXPIRES_IN },
  );
}

function presignPut() {
  return getSignedUrl(
    client,
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: KEY,
      ContentType: CONTENT_TYPE,
    }),
    { expiresIn: EXPIRES_IN },
  );
}

function checkUrl(kind, url, required) {
  if (typeof url !== 'string') fail(`${kind}: getSignedUrl returned ${typeof url}`);
  const params = new URL(url).searchParams;
  for (const name of required) {
    if (!params.has(name)) fail(`${kind}: presigned URL lacks query parameter ${name}: ${url}`);
  }
  if (params.get('X-Amz-Expires') !== String(EXPIRES_IN)) {
    fail(`${kind}: X-Amz-Expires is ${params.get('X-Amz-Expires')}, expected ${EXPIRES_IN}`);
  }
}

const COMMON_PARAMS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Date',
  'X-Amz-Expires',
  'X-Amz-SignedHeaders',
  'X-Amz-Signature',
];

async function measure(kind, fn, required) {
  // Validate the shape once, outside the timed region.
  const first = await fn();
  checkUrl(kind, first, required);
  if (opts.sample) process.stderr.write(`sample ${kind} URL: ${first}\n`);

  for (let i = 0; i < opts.warmup; i++) await fn();

  let sink = 0; // keep results observable so no call can be elided
  const start = process.hrtime.bigint();
  for (let i = 0; i < opts.iterations; i++) {
    const url = await fn();
    sink += url.length;
  }
  const elapsedNs = process.hrtime.bigint() - start;
  if (sink === 0) fail(`${kind}: empty URLs`);

  const seconds = Number(elapsedNs) / 1e9;
  return {
    perSecond: opts.iterations / seconds,
    meanUs: Number(elapsedNs) / opts.iterations / 1e3,
  };
}

const round = (x, digits) => Number(x.toFixed(digits));

try {
  const get = await measure('GET', presignGet, [
    ...COMMON_PARAMS,
    'response-content-disposition',
    'response-content-type',
  ]);
  const put = await measure('PUT', presignPut, COMMON_PARAMS);

  if (opts.sample) {
    process.stderr.write(
      `client-s3 ${SDK_VERSION}, s3-request-presigner ${PRESIGNER_VERSION}, ` +
        `endpoint ${opts.endpoint ?? '(default)'}, warmup ${opts.warmup}\n`,
    );
  }

  process.stdout.write(
    JSON.stringify({
      runtime: 'node',
      node: process.version,
      sdk: SDK_VERSION,
      get_per_second: round(get.perSecond, 1),
      put_per_second: round(put.perSecond, 1),
      iterations: opts.iterations,
      mean_us_get: round(get.meanUs, 3),
      mean_us_put: round(put.meanUs, 3),
    }) + '\n',
  );
} catch (err) {
  fail(`benchmark failed: ${err && err.stack ? err.stack : err}`);
}
