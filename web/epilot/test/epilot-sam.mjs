// epilot's own client (@epilot/file-client) through `sam local start-api`, the real
// Lambda binaries behind the template's routes (scripts/sam_local.sh): uploadFileV2 ->
// PUT to S3 -> saveFileV2 -> getFile -> downloadFile -> deleteFile, and getFile after it.
// FILES_API_URL and FILES_TOKEN name the API and a development token; prints {"ok":true}.
import assert from 'node:assert/strict';
import { base, fileClient } from './client.mjs';
const steps = [];

const upload = await fileClient.uploadFileV2(null, {
  filename: 'contract.pdf',
  mime_type: 'application/pdf',
});
assert.equal(upload.status, 201);
steps.push('uploadFileV2 201');

const bytes = Buffer.from('%PDF-1.4 through sam local start-api');
const put = await fetch(upload.data.upload_url, {
  method: 'PUT',
  headers: { 'content-type': 'application/pdf' },
  body: bytes,
});
assert.equal(put.status, 200, await put.text());
steps.push('PUT 200');

const saved = await fileClient.saveFileV2(null, {
  s3ref: upload.data.s3ref,
  filename: 'contract.pdf',
  access_control: 'private',
});
assert.equal(saved.status, 201);
const file = saved.data;
assert.equal(file.size_bytes, bytes.length);
steps.push('saveFileV2 201');

const got = await fileClient.getFile({ id: file._id });
assert.equal(got.status, 200);
assert.equal(got.data._id, file._id);
assert.equal(got.data.filename, 'contract.pdf');
steps.push('getFile 200');

const download = await fileClient.downloadFile({ id: file._id });
assert.equal(download.status, 200);
const served = Buffer.from(await fetch(download.data.download_url).then((r) => r.arrayBuffer()));
assert.deepEqual(served, bytes);
steps.push('downloadFile 200, bytes match');

const deleted = await fileClient.deleteFile({ id: file._id });
assert.equal(deleted.status, 200);
steps.push('deleteFile 200');

const gone = await fileClient.getFile({ id: file._id }).catch((e) => e.response);
assert.equal(gone.status, 404);
assert.equal(gone.data.error, 'not_found');
steps.push('getFile 404');

// Without a token the function refuses, as API Gateway's authorizer would.
const anonymous = await fetch(`${base}/v2/files/${file._id}`);
assert.equal(anonymous.status, 401);
steps.push('no token 401');

console.log(JSON.stringify({ ok: true, steps }));
