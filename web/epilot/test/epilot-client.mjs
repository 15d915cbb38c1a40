// epilot's own client (@epilot/file-client 1.23, as its README uses it) against the
// file service: uploadFile -> PUT -> saveFile -> downloadS3File -> generatePublicLink
// -> listPublicLinksForFile -> getSession -> saveFileV2 with version_only -> previewFile,
// previewS3File, previewPublicFile.
// FILES_API_URL and FILES_TOKEN name the service and a token; prints {"ok":true}.
import assert from 'node:assert/strict';
import { base, fileClient } from './client.mjs';

// Get upload params, as in the client's README.
const uploadFileRes = await fileClient.uploadFile(null, {
  filename: 'document.pdf',
  mime_type: 'application/pdf',
});
assert.equal(uploadFileRes.status, 201);
const uploadParams = uploadFileRes.data;
assert.ok(uploadParams.upload_url && uploadParams.s3ref.key);

// Upload the file to S3 with the client's own axios, as the README does.
const first = Buffer.from('%PDF-1.4 first version');
const put = await fileClient.put(uploadParams.upload_url, first, {
  headers: { 'content-type': 'application/pdf' },
  transformRequest: [(data, headers) => {
    delete headers.Authorization; // a presigned URL carries its own signature
    return data;
  }],
});
assert.equal(put.status, 200);

// Save the file as an entity (v1).
const saved = await fileClient.saveFile(null, {
  s3ref: uploadParams.s3ref,
  access_control: 'private',
});
assert.equal(saved.status, 201);
const file = saved.data;
assert.equal(file.filename, 'document.pdf');
assert.equal(file.versions.length, 1);

// downloadS3File: by the saved version's key.
const byKey = await fileClient.downloadS3File({
  s3_key: file.s3ref.key,
  s3_bucket: file.s3ref.bucket,
});
assert.equal(byKey.status, 200);
const bytes = await fetch(byKey.data.download_url).then((r) => r.arrayBuffer());
assert.deepEqual(Buffer.from(bytes), first);

// generatePublicLink: a JSON string; opening it needs no token.
const generated = await fileClient.generatePublicLink({ id: file._id });
assert.equal(generated.status, 201);
const link = generated.data;
assert.equal(typeof link, 'string');
assert.ok(link.startsWith(`${base}/v1/files/public/links/`), link);
const opened = await fetch(link);
assert.equal(opened.status, 200);
assert.deepEqual(Buffer.from(await opened.arrayBuffer()), first);

// listPublicLinksForFile.
const listed = await fileClient.listPublicLinksForFile({ id: file._id });
assert.equal(listed.status, 200);
assert.equal(listed.data.results.length, 1);
assert.equal(listed.data.results[0].link, link);
assert.ok(listed.data.results[0].last_accessed_at, 'the access was recorded');

// getSession: the token as an HttpOnly cookie.
const session = await fileClient.getSession();
assert.equal(session.status, 200);
const cookie = [].concat(session.headers['set-cookie'] ?? []).join('\n');
assert.match(cookie, /^token=[^;]+;.*HttpOnly/);

// saveFileV2 with version_only: a second version, the entity's own fields kept.
const second = Buffer.from('%PDF-1.4 second version');
const upload2 = await fileClient.uploadFileV2(null, { filename: 'scan.pdf', mime_type: 'application/pdf' });
await fetch(upload2.data.upload_url, {
  method: 'PUT',
  headers: { 'content-type': 'application/pdf' },
  body: second,
});
const versioned = await fileClient.saveFileV2(
  { version_only: true },
  { _id: file._id, s3ref: upload2.data.s3ref, filename: 'scan.pdf', access_control: 'public-read' },
);
assert.equal(versioned.status, 201);
assert.equal(versioned.data.versions.length, 2);
assert.equal(versioned.data.filename, 'document.pdf');
assert.equal(versioned.data.access_control, 'private');
assert.equal(versioned.data.versions[1].filename, 'scan.pdf');
const latest = await fileClient.downloadFile({ id: file._id });
const latestBytes = await fetch(latest.data.download_url).then((r) => r.arrayBuffer());
assert.deepEqual(Buffer.from(latestBytes), second);

// Previews of an image (a 1 x 1 GIF): bytes, as <img src> would get them.
const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const imageUpload = await fileClient.uploadFileV2(null, { filename: 'dot.gif', mime_type: 'image/gif' });
await fetch(imageUpload.data.upload_url, {
  method: 'PUT',
  headers: { 'content-type': 'image/gif' },
  body: gif,
});
const image = await fileClient.saveFileV2(null, { s3ref: imageUpload.data.s3ref, filename: 'dot.gif' });
const isImage = (bytes) =>
  bytes.subarray(0, 4).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47])) ||
  bytes.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff]));
const preview = await fileClient.previewFile(
  { id: image.data._id, w: 32 },
  null,
  { responseType: 'arraybuffer' },
);
assert.equal(preview.status, 200);
assert.match(preview.headers['content-type'], /^image\/(png|jpeg)$/);
assert.ok(isImage(Buffer.from(preview.data)), 'previewFile answers an image');
const previewByKey = await fileClient.previewS3File({ w: 16 }, image.data.s3ref, { responseType: 'arraybuffer' });
assert.equal(previewByKey.status, 200);
assert.ok(isImage(Buffer.from(previewByKey.data)), 'previewS3File answers an image');
const notPublic = await fileClient
  .previewPublicFile({ id: image.data._id }, null, { responseType: 'arraybuffer' })
  .catch((e) => e.response);
assert.equal(notPublic.status, 403, 'a private file has no public preview');

console.log(JSON.stringify({ ok: true, file: file._id }));
