// Uppy wired to the file service's multipart routes through @uppy/aws-s3's documented
// hooks: the parts go straight to S3 with presigned URLs, and a finished upload is saved
// as a file (saveFileV2). Copy this into your app, or load the bundle (`npm run build`).
import Uppy from '@uppy/core';
import AwsS3 from '@uppy/aws-s3';

export { Uppy, AwsS3 };

const MIB = 1024 * 1024;

/** The part size the service would choose: 8 MiB, or the smallest whole MiB that keeps
 *  a file within S3's 10,000 parts. */
export function partSize(size) {
  return Math.max(8 * MIB, Math.ceil(Math.ceil(size / 10000) / MIB) * MIB);
}

/**
 * An Uppy instance that uploads to the file service at `apiUrl` with `token`.
 * `onSaved(file, entity)` is called with each saved file entity.
 * `fields(file)` may add saveFileV2 fields (access_control, ttl_seconds, tags...).
 */
export function createUploader({ apiUrl, token, onSaved, fields, uppy: uppyOptions, s3: s3Options }) {
  const base = apiUrl.replace(/\/$/, '');
  async function call(method, path, body, signal) {
    const response = await fetch(base + path, {
      method,
      signal,
      headers: {
        authorization: `Bearer ${typeof token === 'function' ? token() : token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = new Error(json?.message ?? `HTTP ${response.status}`);
      error.code = json?.error;
      error.status = response.status;
      throw error;
    }
    return json;
  }
  const uploads = (uploadId) => `/v2/files/uploads/${encodeURIComponent(uploadId)}`;

  const uppy = new Uppy({ autoProceed: false, ...uppyOptions });
  uppy.use(AwsS3, {
    // Every file goes in parts (a small one in one part): one code path, resumable.
    shouldUseMultipart: () => true,
    getChunkSize: (file) => partSize(file.size),
    async createMultipartUpload(file) {
      const session = await call('POST', '/v2/files/uploads', {
        filename: file.name,
        mime_type: file.type || undefined,
        size_bytes: file.size,
        part_size: partSize(file.size),
      });
      return { uploadId: session.upload_id, key: session.s3ref.key };
    },
    async signPart(file, { uploadId, partNumber, signal }) {
      const { parts } = await call('POST', `${uploads(uploadId)}/parts`, { part_numbers: [partNumber] }, signal);
      // Content-Length is signed in; the browser sets it from the part itself.
      return { method: 'PUT', url: parts[0].url };
    },
    async listParts(file, { uploadId, signal }) {
      const status = await call('GET', uploads(uploadId), undefined, signal);
      return status.parts.map((p) => ({ PartNumber: p.part_number, Size: p.size_bytes, ETag: p.etag }));
    },
    async completeMultipartUpload(file, { uploadId, parts, signal }) {
      const done = parts.map((p) => ({ part_number: p.PartNumber, etag: p.ETag }));
      const { s3ref } = await call('POST', `${uploads(uploadId)}/complete`, { parts: done }, signal);
      const entity = await call('POST', '/v2/files', { s3ref, filename: file.name, ...(fields ? fields(file) : {}) }, signal);
      onSaved?.(file, entity);
      return { location: entity.public_url, entity };
    },
    async abortMultipartUpload(file, { uploadId, signal }) {
      await call('DELETE', uploads(uploadId), undefined, signal);
    },
    ...s3Options,
  });
  return uppy;
}
